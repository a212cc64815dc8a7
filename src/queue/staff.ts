// Who serves which department, from the config (pure): a department's own staff, and the
// municipality's staff who serve every department or the ones they list.
import type { MunicipalityConfig } from "../config/schema.ts";

export function servesDepartment(m: MunicipalityConfig, department: string, user: string): boolean {
  return m.departments.some((d) => d.id === department && (d.staff as readonly string[]).includes(user))
    || m.staff.some((s) => (typeof s === "string" ? s === user : s.user === user && s.departments.includes(department)));
}
