// The one configuration schema. Every key has a description and, unless it is a secret the
// operator must choose, a default. config/config.sample.yaml is generated from this file.
import { z } from "zod";
import { isAclHostName } from "../federation/acl.ts";
import { isLocalpart, isServerName, isUserId } from "../matrix/ids.ts";
import { archiveSchema, checkpointRoom, departmentArchiveCategory } from "../archive/config.ts";
import { DEFAULT_RESPONSE_TERM, officeHoursSchema, responseTermSchema } from "../office-hours/config.ts";

const localpart = z.string().refine(isLocalpart, "not a valid Matrix localpart (a-z 0-9 . _ = - / +)");
const userIdString = z.string().refine(isUserId, "not a valid Matrix user id (@localpart:server)");
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "use lower-case letters, digits and dashes");
const secret = (description: string) =>
  z.string().min(1, "must not be empty").meta({ description, secret: true, example: "CHANGE_ME" });

const homeserver = z.object({
  url: z.url().default("http://localhost:8008")
    .describe("Client-server API base URL of the homeserver, as Loket reaches it."),
  domain: z.string().refine(isServerName, "not a valid server name").default("localhost")
    .describe("The homeserver's server_name: the part after ':' in user ids."),
  max_concurrent_requests: z.number().int().min(1).max(1000).default(16)
    .describe("Most requests Loket has under way to the homeserver at once, over all rooms and bots (bounds sockets and memory)."),
  request_timeout_seconds: z.number().positive().default(30)
    .describe("A request the homeserver has not answered in this time fails (and is retried); it counts from when the request goes out, not while it waits for a slot."),
});

const appservice = z.object({
  id: z.string().min(1).default("loket")
    .describe("Unique id of this appservice in the homeserver's registration list."),
  bind_address: z.string().default("127.0.0.1").describe("Address the HTTP listener binds to."),
  port: z.number().int().min(0).max(65535).default(9993)
    .describe("Port for the appservice API, health endpoints and metrics (0 picks a free port)."),
  public_url: z.url().default("http://127.0.0.1:9993")
    .describe("URL at which the homeserver reaches Loket (the registration's url)."),
  as_token: secret("Token Loket uses towards the homeserver (registration as_token)."),
  hs_token: secret("Token the homeserver presents to Loket (registration hs_token)."),
  sender_localpart: localpart.default("loket")
    .describe("Localpart of the appservice's own user; it answers DMs for the default municipality."),
  user_prefix: localpart.default("loket_")
    .describe("Localpart prefix of virtual users (bridged citizens); reserved exclusively."),
  alias_prefix: localpart.default("loket_")
    .describe("Room alias localpart prefix reserved exclusively for Loket's rooms."),
  default_municipality: z.string().default("")
    .describe("Municipality id the appservice user speaks for in DMs; empty: it lists the municipalities."),
  max_body_bytes: z.number().int().positive().default(20 * 1024 * 1024)
    .describe("Largest transaction body accepted; larger ones get 413 M_TOO_LARGE."),
});

const department = z.object({
  id: slug.describe("Department id, unique within the municipality (for example 'burgerzaken')."),
  name: z.string().min(1).describe("Department name shown to citizens and staff."),
  staff: z.array(userIdString).default([]).describe("Matrix ids of the staff of this department."),
  office_hours: officeHoursSchema.optional()
    .describe("This department's opening hours; replaces the municipality's block as a whole. Missing: the municipality's."),
  response_term: responseTermSchema.optional()
    .describe("This department's response term; missing: the municipality's."),
  topic: z.string().default("")
    .describe("Topic of the department's staff room; empty: a standard text naming the department."),
  archive_category: departmentArchiveCategory,
  coordinator: userIdString.optional().meta({ example: "@teamleider:example.nl" })
    .describe("Who hears (in a direct room with the bot) when this department misses a response term; missing: the municipality's coordinator."),
});

const municipality = z.object({
  id: slug.describe("Short, stable id of the municipality (for example 'utrecht')."),
  name: z.string().min(1).describe("Name shown to citizens (for example 'Gemeente Utrecht')."),
  bot_localpart: localpart.describe("Localpart of the municipality's bot user (for example 'gemeente_utrecht')."),
  language: z.enum(["nl", "en"]).default("nl").describe("Default language of citizen-facing text."),
  greeting: z.string().default("")
    .describe("Greeting sent when a citizen opens a DM; empty: the standard text from the translations."),
  staff: z.array(z.union([userIdString, z.object({
    user: userIdString.describe("Matrix id of the staff member."),
    departments: z.array(z.string()).min(1).describe("Ids of the departments whose rooms this staff member joins."),
  })])).default([])
    .describe("Staff: a Matrix id serves every department; {user, departments} serves the departments named."),
  departments: z.array(department).default([]).describe("Departments, each with its own staff."),
  office_hours: officeHoursSchema.prefault({})
    .describe("Opening hours, Dutch public holidays and exception dates. Missing: Monday to Friday 09:00-17:00, Europe/Amsterdam, holidays closed (Goede Vrijdag and Bevrijdingsdag included)."),
  response_term: responseTermSchema.default(DEFAULT_RESPONSE_TERM).meta({ example: DEFAULT_RESPONSE_TERM })
    .describe("Promised answer time, counted in open time: { working_hours: N } or { working_days: N }. Missing: 8 working hours."),
  alias: z.string().regex(/^([a-z0-9][a-z0-9-]*)?$/, "use lower-case letters, digits and dashes").default("")
    .describe("Room alias stem after appservice.alias_prefix (space #<prefix><alias>, service desk #<prefix><alias>_balie, departments #<prefix><alias>_afdeling_<department>); empty: the id."),
  service_desk_topic: z.string().default("")
    .describe("Topic of the public service-desk room; empty: a standard text saying what the desk is for and that conversations are archived."),
  reference_prefix: z.string().regex(/^([A-Z0-9][A-Z0-9-]{0,15})?$/, "use upper-case letters, digits and dashes (at most 16)").default("")
    .describe("Prefix of conversation reference numbers (PREFIX-YYYY-NNNNNN); empty: the id upper-cased."),
  default_department: z.string().default("")
    .describe("Department whose staff room hears of new conversations; empty: the first department."),
  archive_checkpoint_room: checkpointRoom,
  coordinator: userIdString.optional().meta({ example: "@teamleider:example.nl" })
    .describe("Who hears (in a direct room with the bot) when a response term is missed; missing: only the department room hears."),
});

const conversations = z.object({
  encrypt_new_rooms: z.boolean().default(true)
    .describe("Create the conversation rooms Loket makes itself with m.room.encryption, when crypto.enabled is on (the bots need E2EE to read and answer there)."),
  quiet_period_hours: z.number().positive().max(24 * 365).default(8)
    .describe("A citizen who writes again after this many hours without a staff reply in between gets the auto-reply or receipt again."),
  max_open_per_staff: z.number().int().min(1).max(1000).default(5)
    .describe("Most open conversations assigned to one on-duty staff member; beyond it conversations wait in the queue."),
});

const database = z.object({
  url: z.string().default("")
    .describe("PostgreSQL connection URL (postgres://user@host/db). Empty: the embedded PGlite store, fine for trying Loket; it survives a crash of Loket but not of the machine, so use PostgreSQL in production."),
  data_dir: z.string().default("data/pglite")
    .describe("Directory of the embedded PGlite store, used when url is empty."),
  pool_size: z.number().int().positive().default(10).describe("Maximum PostgreSQL connections."),
  inbox_retention_days: z.number().int().min(1).default(7)
    .describe("Days a processed appservice transaction is kept in the inbox (for deduplication and inspection)."),
});

const crypto = z.object({
  enabled: z.boolean().default(false)
    .describe("End-to-end encryption: each municipality bot gets a device of its own and takes part in encrypted rooms."),
  store_key: secret("Key that encrypts the bots' crypto stores (Olm/Megolm keys) at rest in the database; at least 16 characters. Required when enabled; losing it loses the bots' devices and their room keys.").optional(),
  backup_key: secret("Recovery key of the bots' server-side key backup: base64 of 32 random bytes (openssl rand -base64 32). Every room key a bot receives is backed up, encrypted to this key; a bot whose store was lost restores them at start. Unset: no backup. Keep it apart from the database backups.").optional(),
  device_display_name: z.string().min(1).default("Loket")
    .describe("Display name of the bots' devices, as clients show it next to the device id."),
  sync_timeout_ms: z.number().int().min(0).max(120_000).default(30_000)
    .describe("Long-poll timeout of each bot device's /sync, which brings to-device messages (room keys), device-list changes and key counts."),
}).superRefine((c, ctx) => {
  if (c.enabled && (c.store_key === undefined || c.store_key.length < 16)) {
    ctx.addIssue({ code: "custom", path: ["store_key"], message: "set a store key of at least 16 characters when crypto is enabled" });
  }
});

const aclHost = z.string().refine(isAclHostName, "not a server host name as an ACL matches it (lower-case host name, no port, no IP address; for example 'matrix.utrecht.nl')");

const federationRoom = z.object({
  id: slug.describe("Stable id of the inter-government room (for example 'regio-utrecht')."),
  name: z.string().min(1).describe("Room name shown to the members."),
  owner: slug.describe("Id of the municipality whose bot creates and manages the room."),
  servers: z.array(aclHost).default([])
    .describe("Other homeservers that may take part, as host names without port (as a server ACL matches them); this homeserver is always allowed."),
  staff: z.array(userIdString).default([])
    .describe("Matrix ids invited into the room with power 50, also on the other servers; removed ones are kicked."),
});

const federation = z.object({
  allowed_servers: z.array(aclHost).default([])
    .describe("When set: the only other homeservers (host names without port) allowed in department and inter-government rooms. Citizen conversations and the service desk stay open to every server. Empty: no restriction."),
  rooms: z.array(federationRoom).default([])
    .describe("Inter-government rooms, each owned by one municipality of this deployment and shared with other governments' homeservers."),
});

const logging = z.object({
  level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info")
    .describe("Log level. Message bodies and tokens are never logged at info or above."),
  file: z.string().default("").describe("Write JSON logs to this file; empty: standard output."),
});

const metrics = z.object({
  enabled: z.boolean().default(true).describe("Serve Prometheus metrics at /metrics."),
});

export const configSchema = z.object({
  homeserver: homeserver.prefault({}).describe("The Synapse homeserver Loket is registered with."),
  appservice: appservice.describe("The appservice registration and HTTP listener."),
  database: database.prefault({}).describe("Where Loket stores its data."),
  municipalities: z.array(municipality).default([]).describe("The municipalities this deployment serves."),
  crypto: crypto.prefault({}).describe("End-to-end encryption (Olm/Megolm) for the municipality bots."),
  conversations: conversations.prefault({}).describe("Citizen conversations."),
  archive: archiveSchema.prefault({}).describe("The archive (Archiefwet): capture, integrity, retention, export."),
  federation: federation.prefault({}).describe("Rooms shared with other governments' homeservers, and which servers may take part in staff rooms."),
  logging: logging.prefault({}).describe("Structured JSON logs (pino)."),
  metrics: metrics.prefault({}).describe("Prometheus metrics."),
});

export type Config = z.infer<typeof configSchema>;
export type MunicipalityConfig = Config["municipalities"][number];
export type FederationRoomConfig = Config["federation"]["rooms"][number];
