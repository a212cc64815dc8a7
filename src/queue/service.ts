// The service queue: the answer promised to a citizen, assignment to staff on duty, handover,
// closing, waiting, and escalation when a term passes. State lives in the database and every
// delayed step is a timer row (src/scheduler/), so a restart forgets nothing and, with two
// Loket processes on one database, nothing happens twice: assignments are planned under a
// per-department advisory lock, timers are claimed with a lease, and sends carry stable causes.
import type { Config } from "../config/schema.ts";
import type { Conversations } from "../conversations/service.ts";
import { conversationById, type Conversation } from "../conversations/store.ts";
import type { Database } from "../db/database.ts";
import type { Metrics } from "../http/metrics.ts";
import { t } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { RoomId } from "../matrix/ids.ts";
import { dateInWords, hoursFor, type HoursFor } from "../office-hours/index.ts";
import { managedRoomByKey } from "../rooms/store.ts";
import type { Clock, Scheduler } from "../scheduler/scheduler.ts";
import { setTimer, type Timer } from "../scheduler/timers.ts";
import type { Municipalities, Municipality } from "../tenants/municipalities.ts";
import type { RetryPolicy } from "../util/retry.ts";
import { planAssignments } from "./assign.ts";
import { escalate } from "./escalate.ts";
import { servesDepartment } from "./staff.ts";
import { PlanWriter } from "./batch.ts";
import { handleMessages } from "./messages.ts";
import type { PlainMessage } from "./plan.ts";
import { assignOnce, onDuty, openLoads, queueOf, withAssignmentLock } from "./store.ts";

export const ASSIGN_TIMER = "queue.assign";
export const DUE_TIMER = "queue.due";

export interface ServiceDeskDeps {
  config: Config;
  db: Database;
  hs: Homeserver;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  scheduler: Scheduler;
  conversations: Conversations;
  municipalities: Municipalities;
}

export class ServiceDesk {
  readonly d: ServiceDeskDeps;
  private readonly hoursCache = new Map<string, HoursFor>();
  private readonly plans: PlanWriter;

  constructor(deps: ServiceDeskDeps) {
    this.d = deps;
    this.plans = new PlanWriter(deps.db);
    deps.scheduler.on(ASSIGN_TIMER, (timer) => this.carryOut(timer));
    deps.scheduler.on(DUE_TIMER, (timer) => escalate(this, timer));
  }

  /** The schedule and term of a department (or the municipality's when it has none). */
  hours(m: Municipality, department: string): HoursFor {
    const key = `${m.id}\n${department}`;
    let h = this.hoursCache.get(key);
    if (!h) {
      const known = m.config.departments.some((x) => x.id === department);
      h = hoursFor(this.d.config, m.id, known ? department : undefined);
      this.hoursCache.set(key, h);
    }
    return h;
  }

  municipality(id: string): Municipality | undefined {
    return this.d.municipalities.all.find((m) => m.id === id);
  }

  async nameOf(m: Municipality, user: string): Promise<string> {
    return (await this.d.hs.intent(m.botUserId).getDisplayName(user)) ?? user;
  }

  /**
   * Plain messages of one room's batch, in order (citizen questions, staff replies): see
   * messages.ts. Returns the events whose step failed for good; throws Interrupted when Loket stops.
   */
  wrote(m: Municipality, conv: Conversation, messages: readonly PlainMessage[], retry: RetryPolicy): Promise<Map<string, unknown>> {
    return handleMessages(this, this.plans, m, conv, messages, retry);
  }

  /** 1-based place in the department's queue (0 when not in it). */
  async position(m: Municipality, conv: Conversation): Promise<number> {
    const queue = await queueOf(this.d.db, m.id, conv.department);
    return queue.findIndex((c) => c.id === conv.id) + 1;
  }

  /**
   * Assigns what can be assigned in the municipality now, department by department: the earliest
   * due first, to the on-duty staff member of that department (as the config has them now) with
   * the fewest open conversations, up to the maximum each. Each assignment is recorded with a
   * timer that carries it out (invite, tell the room and the citizen). `toldInReceipt`: the
   * conversation whose receipt names its staff member itself.
   */
  async assignAll(m: Municipality, toldInReceipt?: number): Promise<{ conversation: number; staff: string }[]> {
    const departments = m.config.departments.map((d) => d.id);
    if (departments.length === 0) return [];
    const now = this.d.clock.now();
    const made = await withAssignmentLock(this.d.db, m.id, async (tx) => {
      const out: { conversation: number; staff: string }[] = [];
      for (const department of departments) {
        const queue = await queueOf(tx, m.id, department);
        const duty = queue.length > 0 ? (await onDuty(tx, m.id, department)).filter((s) => servesDepartment(m.config, department, s.userId)) : [];
        if (duty.length === 0) continue;
        const loads = await openLoads(tx, m.id, duty.map((s) => s.userId));
        const plan = planAssignments(
          queue.map((c) => ({ conversation: String(c.id), department, due: c.dueAt?.getTime() ?? Number.MAX_SAFE_INTEGER })),
          duty.map((s) => ({ userId: s.userId, department, open: loads.get(s.userId) ?? 0, lastAssigned: s.lastAssigned?.getTime() ?? 0 })),
          this.d.config.conversations.max_open_per_staff,
        );
        for (const a of plan) {
          const id = Number(a.conversation);
          if (!(await assignOnce(tx, id, m.id, department, a.staff, now))) continue;
          await setTimer(tx, ASSIGN_TIMER, `${id}:${a.staff}`, now, { municipality: m.id, conversation: id, staff: a.staff, tellCitizen: id !== toldInReceipt });
          out.push({ conversation: id, staff: a.staff });
        }
      }
      return out;
    });
    if (made.length > 0) {
      this.d.metrics.queue.inc({ event: "assigned" }, made.length);
      this.d.log.info({ municipality: m.id, assignments: made.length }, "conversations assigned");
      this.d.scheduler.poke();
    }
    return made;
  }

  /** At start: what could not be assigned before a restart (or a failure) is assigned now. */
  async sweep(): Promise<void> {
    for (const m of this.d.municipalities.all) await this.assignAll(m);
  }

  /** An assignment's Matrix side: the staff member is invited, the room and the citizen are told. */
  private async carryOut(timer: Timer): Promise<void> {
    const p = timer.payload as { municipality: string; conversation: number; staff: string; tellCitizen: boolean };
    const m = this.municipality(p.municipality);
    const conv = await conversationById(this.d.db, p.conversation);
    if (!m || !conv?.roomId || !conv.assigned.includes(p.staff)) return; // handed over meanwhile
    await this.d.conversations.admit(m, conv.roomId, p.staff);
    const cause = `assign:${conv.id}:${p.staff}:${timer.dueAt.getTime()}`;
    const name = await this.nameOf(m, p.staff);
    const dept = await this.departmentRoom(m, conv.department);
    if (dept) {
      const due = conv.dueAt ? this.inWords(m, conv, conv.dueAt, m.config.language) : "-";
      await this.d.hs.intent(m.botUserId).sendNotice(dept, t(m.config.language, "department_assigned", { reference: conv.reference, staff: name, due, link: this.d.conversations.link(conv.roomId) }), `dept-${cause}`);
    }
    if (p.tellCitizen) {
      await this.d.hs.intent(m.botUserId).sendNotice(conv.roomId, t(conv.language, "citizen_assigned", { staff: name, name: m.name, reference: conv.reference }), `citizen-${cause}`);
    }
  }

  async departmentRoom(m: Municipality, department: string): Promise<RoomId | undefined> {
    if (department === "") return undefined;
    return (await managedRoomByKey(this.d.db, m.id, `department:${department}`))?.roomId;
  }

  inWords(m: Municipality, conv: Conversation, at: Date, lang: Conversation["language"]): string {
    return dateInWords(at, this.hours(m, conv.department).schedule.timezone, lang);
  }
}
