// Checks that span several keys: references between sections and uniqueness. They read the raw
// tree (defaults not yet applied), so they also run when the schema found other problems.
import { roomChecks } from "../rooms/checks.ts";
import { federationChecks } from "../federation/checks.ts";
import type { ConfigProblem } from "./load.ts";

interface RawDepartment { id?: unknown }
interface RawMunicipality { id?: unknown; bot_localpart?: unknown; departments?: unknown }
interface RawConfig {
  appservice?: { sender_localpart?: unknown; user_prefix?: unknown; default_municipality?: unknown };
  municipalities?: unknown;
}

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);

export function crossChecks(raw: RawConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const sender = str(raw.appservice?.sender_localpart, "loket");
  const prefix = str(raw.appservice?.user_prefix, "loket_");
  if (sender !== "" && prefix !== "" && sender.startsWith(prefix)) {
    problems.push({ path: "appservice.sender_localpart", message: `must not start with appservice.user_prefix '${prefix}' (reserved for virtual users)` });
  }
  const ids = new Set<string>();
  const bots = new Map<string, string>();
  list<RawMunicipality>(raw.municipalities).forEach((m, i) => {
    const at = `municipalities.${i}`;
    const id = str(m.id);
    const bot = str(m.bot_localpart);
    if (ids.has(id)) problems.push({ path: `${at}.id`, message: `duplicate municipality id '${id}'` });
    ids.add(id);
    const other = bots.get(bot);
    if (other !== undefined) problems.push({ path: `${at}.bot_localpart`, message: `bot '${bot}' is already used by municipality '${other}'` });
    if (bot !== "") bots.set(bot, id);
    if (bot === sender) problems.push({ path: `${at}.bot_localpart`, message: "must differ from appservice.sender_localpart" });
    if (bot !== "" && prefix !== "" && bot.startsWith(prefix)) {
      problems.push({ path: `${at}.bot_localpart`, message: `must not start with appservice.user_prefix '${prefix}' (reserved for virtual users)` });
    }
    const departments = new Set<string>();
    list<RawDepartment>(m.departments).forEach((d, j) => {
      const dep = str(d.id);
      if (departments.has(dep)) problems.push({ path: `${at}.departments.${j}.id`, message: `duplicate department id '${dep}'` });
      departments.add(dep);
    });
  });
  const ref = str(raw.appservice?.default_municipality);
  if (ref !== "" && !ids.has(ref)) {
    problems.push({ path: "appservice.default_municipality", message: `unknown municipality '${ref}'` });
  }
  problems.push(...roomChecks(raw as Parameters<typeof roomChecks>[0]));
  problems.push(...federationChecks(raw));
  return problems;
}
