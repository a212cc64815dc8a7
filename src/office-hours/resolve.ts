// Picks the schedule and response term that apply to a municipality or one of its departments:
// a department's office_hours replaces the municipality's block as a whole, its response_term
// overrides the municipality's.
import type { Config } from "../config/schema.ts";
import type { ResponseTermConfig } from "./config.ts";
import { Schedule, type ResponseTerm } from "./schedule.ts";

export interface HoursFor {
  schedule: Schedule;
  term: ResponseTerm;
}

export class UnknownUnitError extends Error {}

export function responseTerm(config: ResponseTermConfig): ResponseTerm {
  if (config.working_hours !== undefined) return { working_hours: config.working_hours };
  if (config.working_days !== undefined) return { working_days: config.working_days };
  throw new Error("a response term needs working_hours or working_days");
}

/** The schedule and term of a municipality, or of a department when given. */
export function hoursFor(config: Config, municipalityId: string, departmentId?: string): HoursFor {
  const municipality = config.municipalities.find((m) => m.id === municipalityId);
  if (!municipality) throw new UnknownUnitError(`unknown municipality '${municipalityId}'`);
  if (departmentId === undefined) {
    return { schedule: new Schedule(municipality.office_hours), term: responseTerm(municipality.response_term) };
  }
  const department = municipality.departments.find((d) => d.id === departmentId);
  if (!department) throw new UnknownUnitError(`municipality '${municipalityId}' has no department '${departmentId}'`);
  return {
    schedule: new Schedule(department.office_hours ?? municipality.office_hours),
    term: responseTerm(department.response_term ?? municipality.response_term),
  };
}
