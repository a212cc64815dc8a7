// Config checks for rooms and conversations that span keys: staff entries naming unknown
// departments, the default department, and aliases or reference prefixes used twice. Like the
// other cross-key checks they read the raw tree (defaults not yet applied).
import type { ConfigProblem } from "../config/load.ts";
import { aliasLocalparts } from "./plan.ts";

interface RawMunicipality {
  id?: unknown;
  alias?: unknown;
  reference_prefix?: unknown;
  default_department?: unknown;
  staff?: unknown;
  departments?: unknown;
}

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);

export function roomChecks(raw: { appservice?: { alias_prefix?: unknown }; municipalities?: unknown }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const prefix = str(raw.appservice?.alias_prefix, "loket_");
  const aliases = new Map<string, string>();
  const prefixes = new Map<string, string>();
  list<RawMunicipality>(raw.municipalities).forEach((m, i) => {
    const at = `municipalities.${i}`;
    const id = str(m.id);
    const departments = list<{ id?: unknown }>(m.departments).map((d) => str(d.id));
    list<unknown>(m.staff).forEach((s, j) => {
      if (typeof s !== "object" || s === null) return;
      list<unknown>((s as { departments?: unknown }).departments).forEach((d, k) => {
        if (!departments.includes(str(d))) problems.push({ path: `${at}.staff.${j}.departments.${k}`, message: `unknown department '${str(d)}' (not in ${at}.departments)` });
      });
    });
    const dflt = str(m.default_department);
    if (dflt !== "" && !departments.includes(dflt)) problems.push({ path: `${at}.default_department`, message: `unknown department '${dflt}'` });

    const explicitAlias = str(m.alias) !== "";
    const stem = explicitAlias ? str(m.alias) : id;
    for (const localpart of aliasLocalparts(prefix, stem, departments).values()) {
      const other = aliases.get(localpart);
      if (other !== undefined && other !== id) {
        problems.push({ path: explicitAlias ? `${at}.alias` : `${at}.id`, message: `room alias #${localpart} is also used by municipality '${other}'` });
        break;
      }
      aliases.set(localpart, id);
    }
    const refPrefix = str(m.reference_prefix) !== "" ? str(m.reference_prefix) : id.toUpperCase();
    const owner = prefixes.get(refPrefix);
    if (owner !== undefined) problems.push({ path: `${at}.reference_prefix`, message: `reference prefix '${refPrefix}' is also used by municipality '${owner}'` });
    else prefixes.set(refPrefix, id);
  });
  return problems;
}
