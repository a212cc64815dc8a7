// Config checks of the federation section that span keys: room ids unique, owners that exist,
// servers within federation.allowed_servers, and staff on servers the room lets in. They read
// the raw tree (defaults not applied), like the other cross-key checks.
import { hostOf, isAclHostName } from "./acl.ts";

interface Problem {
  path: string;
  message: string;
}

interface RawRoom { id?: unknown; owner?: unknown; servers?: unknown; staff?: unknown }
interface RawConfig {
  homeserver?: { domain?: unknown };
  municipalities?: unknown;
  federation?: { allowed_servers?: unknown; rooms?: unknown };
}

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function federationChecks(raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const municipalities = new Set(list<{ id?: unknown }>(raw.municipalities).map((m) => str(m.id)));
  const allowed = new Set(list<unknown>(raw.federation?.allowed_servers).map(str));
  const ownHost = hostOf(str(raw.homeserver?.domain) || "localhost");
  const ids = new Set<string>();
  list<RawRoom>(raw.federation?.rooms).forEach((room, i) => {
    const at = `federation.rooms.${i}`;
    const id = str(room.id);
    if (ids.has(id)) problems.push({ path: `${at}.id`, message: `duplicate inter-government room id '${id}'` });
    ids.add(id);
    const owner = str(room.owner);
    if (owner !== "" && !municipalities.has(owner)) {
      problems.push({ path: `${at}.owner`, message: `unknown municipality '${owner}'` });
    }
    const servers = list<unknown>(room.servers).map(str);
    servers.forEach((s, j) => {
      if (allowed.size > 0 && isAclHostName(s) && !allowed.has(s)) {
        problems.push({ path: `${at}.servers.${j}`, message: `server '${s}' is not in federation.allowed_servers` });
      }
    });
    list<unknown>(room.staff).map(str).forEach((u, j) => {
      const colon = u.indexOf(":");
      if (colon < 0) return; // the schema names malformed ids
      const host = hostOf(u.slice(colon + 1));
      if (host !== ownHost && !servers.includes(host)) {
        problems.push({ path: `${at}.staff.${j}`, message: `'${u}' is on a server the room does not allow (add '${host}' to servers)` });
      }
    });
  });
  return problems;
}
