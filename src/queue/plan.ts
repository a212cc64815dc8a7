// The queue's rules for a run of plain messages in one conversation, in order, without I/O: the
// same rules as the one-statement decision of questions.ts (DECIDE) and staffReplied, applied
// one message after the other to the conversation's row as it was read. A room's batch of
// messages is planned here and written in one statement (batch.ts) instead of one statement per
// message; questions.ts stays the careful path, and the integration test queue-batch.test.ts
// holds the two to the same outcome.

/** The queue's columns of a conversation row. */
export interface QueueState {
  status: string;
  /** The assigned staff as stored (a JSON array). */
  assigned: string;
  queuedAt: Date | null;
  dueAt: Date | null;
  lastCitizenAt: Date | null;
  lastStaffAt: Date | null;
}

export type PlainMessage =
  | { kind: "citizen"; eventId: string; reopened: boolean }
  | { kind: "staff"; eventId: string; staff: string };

/** What a citizen's question was decided to be (a row of queue_questions, and what the answer needs). */
export interface PlannedQuestion {
  eventId: string;
  at: Date;
  reopened: boolean;
  first: boolean;
  again: boolean;
  due: Date | null;
  /** The status before the question (waiting: the clock stood still). */
  statusBefore: string;
  /** Who had the conversation before the question (after a reopening: nobody). */
  assignedBefore: string[];
}

export interface QueuePlan {
  questions: PlannedQuestion[];
  /** The row after the messages. */
  after: QueueState;
  /** A term started or ended: overdue is cleared. */
  clearOverdue: boolean;
  /**
   * The due timer: set to after.dueAt; ended while pending ("end"); gone whatever its state
   * ("drop": set by a question of the run, then ended by a reply); or left as it was.
   */
  timer: "set" | "end" | "drop" | "keep";
}

export interface PlanRules {
  at: Date;
  quietPeriodMs: number;
  /** The due time a new term would have (computed from the schedule for `at`). */
  newDue: Date;
}

/** Applies the messages one after the other to `before`. */
export function planMessages(before: QueueState, messages: readonly PlainMessage[], rules: PlanRules): QueuePlan {
  const s: QueueState = { ...before };
  const questions: PlannedQuestion[] = [];
  let clearOverdue = false;
  let timer: QueuePlan["timer"] = "keep";
  let setInRun = false;
  const { at } = rules;
  const quietEdge = at.getTime() - rules.quietPeriodMs;
  for (const msg of messages) {
    if (msg.kind === "staff") {
      s.lastStaffAt = at;
      s.dueAt = null;
      clearOverdue = true;
      timer = setInRun ? "drop" : "end";
      if (s.assigned === "[]") s.assigned = JSON.stringify([msg.staff]);
      continue;
    }
    const first = s.queuedAt === null || msg.reopened;
    const again = s.queuedAt !== null && !msg.reopened && s.lastCitizenAt !== null && s.lastCitizenAt.getTime() <= quietEdge
      && (s.lastStaffAt === null || s.lastStaffAt.getTime() < s.lastCitizenAt.getTime());
    const newDue = first || s.dueAt === null || (again && s.dueAt.getTime() < at.getTime()) ? rules.newDue : null;
    questions.push({
      eventId: msg.eventId, at, reopened: msg.reopened, first, again, due: newDue ?? s.dueAt,
      statusBefore: s.status, assignedBefore: msg.reopened ? [] : (JSON.parse(s.assigned) as string[]),
    });
    s.status = "open";
    s.lastCitizenAt = at;
    if (first) s.queuedAt = at;
    if (newDue) {
      s.dueAt = newDue;
      clearOverdue = true;
      timer = "set";
      setInRun = true;
    }
    if (msg.reopened) s.assigned = "[]";
  }
  return { questions, after: s, clearOverdue, timer };
}
