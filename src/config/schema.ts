// The one configuration schema. Every key has a description and, unless it is a secret the
// operator must choose, a default. config/config.sample.yaml is generated from this file.
import { z } from "zod";
import { isAclHostName } from "../federation/acl.ts";
import { isLocalpart, isServerName, isUserId } from "../matrix/ids.ts";

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
});

const municipality = z.object({
  id: slug.describe("Short, stable id of the municipality (for example 'utrecht')."),
  name: z.string().min(1).describe("Name shown to citizens (for example 'Gemeente Utrecht')."),
  bot_localpart: localpart.describe("Localpart of the municipality's bot user (for example 'gemeente_utrecht')."),
  language: z.enum(["nl", "en"]).default("nl").describe("Default language of citizen-facing text."),
  greeting: z.string().default("")
    .describe("Greeting sent when a citizen opens a DM; empty: the standard text from the translations."),
  staff: z.array(userIdString).default([]).describe("Matrix ids of staff who serve every department."),
  departments: z.array(department).default([]).describe("Departments, each with its own staff."),
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
  federation: federation.prefault({}).describe("Rooms shared with other governments' homeservers, and which servers may take part in staff rooms."),
  logging: logging.prefault({}).describe("Structured JSON logs (pino)."),
  metrics: metrics.prefault({}).describe("Prometheus metrics."),
});

export type Config = z.infer<typeof configSchema>;
export type MunicipalityConfig = Config["municipalities"][number];
export type FederationRoomConfig = Config["federation"]["rooms"][number];
