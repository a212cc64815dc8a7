// CPU time spent by the processes of a benchmark run, for "where does the time go" tables:
// this process (process.cpuUsage) and PostgreSQL's (the sum over its processes in /proc, so
// Linux only; backends that exit during the run are not counted, so read it before closing).
import { readdirSync, readFileSync } from "node:fs";

/** Milliseconds of CPU used so far by every process named "postgres"; undefined without /proc. */
export function postgresCpuMs(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== "postgres") continue;
      // Fields after the command: state is the first; utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  // USER_HZ is 100 on every Linux this runs on.
  return ticks * 10;
}

export const selfCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU milliseconds of each party during a run. */
export interface CpuSpent {
  /** The server's own process (Loket, or the reference server). */
  server: number;
  postgres?: number;
  /** The load generator's process. */
  client: number;
}
