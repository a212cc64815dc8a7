// Plain messages of one room's batch reach the queue together (from the conversations
// capability, at the end of the batch or before a command in the room): the citizen's questions
// are decided and the staff replies recorded, as one planned run written with other rooms' runs
// in one statement (plan.ts, batch.ts), or, when the row moved or the events were decided
// before, one by one (questions.ts). Then each question that gets an answer is answered, in
// order. Every step can run again: decisions are recorded, sends carry stable causes.
import type { Conversation } from "../conversations/store.ts";
import { roomTablesChanged } from "../db/changes.ts";
import { sqlState } from "../db/errors.ts";
import { t } from "../i18n/index.ts";
import { loketRoomContent } from "../conversations/texts.ts";
import { promiseText } from "../office-hours/replies.ts";
import { LOKET_ROOM_EVENT } from "../rooms/plan.ts";
import type { Municipality } from "../tenants/municipalities.ts";
import { Interrupted, withRetry, type RetryPolicy } from "../util/retry.ts";
import type { PlanWriter } from "./batch.ts";
import { planMessages, type PlainMessage, type QueueState } from "./plan.ts";
import { decideQuestion, decidedAmong, staffReplied, type Decided } from "./questions.ts";
import type { ServiceDesk } from "./service.ts";

const stateOf = (c: Conversation): QueueState => ({
  status: c.status, assigned: JSON.stringify(c.assigned), queuedAt: c.queuedAt, dueAt: c.dueAt,
  lastCitizenAt: c.lastCitizenAt, lastStaffAt: c.lastStaffAt,
});

/**
 * Decides and answers the messages; returns the events whose step failed for good, with why.
 * Throws Interrupted when Loket stops.
 */
export async function handleMessages(
  desk: ServiceDesk, writer: PlanWriter, m: Municipality, conv: Conversation, messages: readonly PlainMessage[], retry: RetryPolicy,
): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  const attempt = async (eventId: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await withRetry(fn, retry);
    } catch (err) {
      if (err instanceof Interrupted) throw err;
      failures.set(eventId, err);
    }
  };
  const { schedule, term } = desk.hours(m, conv.department);
  const at = desk.d.clock.now();
  const rules = { at, newDue: schedule.due(at, term), quietPeriodMs: desk.d.config.conversations.quiet_period_hours * 3_600_000 };
  const before = stateOf(conv);
  const plan = planMessages(before, messages, rules);
  const written = await writer.write({ conversation: conv.id, before, plan }).catch((err: unknown) => {
    // A row another statement holds (55P03) is ordinary; anything else is worth a look. Either
    // way the messages take the careful path.
    const code = sqlState(err);
    if (code === "55P03") desk.d.log.debug({ conversation: conv.id }, "a conversation was busy; its messages take the careful path");
    else desk.d.log.warn({ err: String(err), sqlState: code, conversation: conv.id }, "could not write the queue's planned run; its messages take the careful path");
    return false;
  });
  let decisions: Decided[];
  if (written) {
    decisions = plan.questions.map((q) => ({
      eventId: q.eventId, at: q.at, due: q.due, answer: q.first || q.again, reopened: q.reopened, fresh: true,
      entered: q.first || q.statusBefore === "waiting", statusBefore: q.statusBefore, assigned: q.assignedBefore,
    }));
  } else {
    decisions = [];
    // Processed again (a retry, a restart): a staff reply that came before a question decided
    // already was recorded before that decision; recording it again would end the term that
    // question started. Replies after the last decided question may not have been: they are.
    const questions = messages.flatMap((msg) => (msg.kind === "citizen" ? [msg.eventId] : []));
    const decided = questions.length === 0 ? new Set<string>() : await withRetry(() => decidedAmong(desk.d.db, questions), retry);
    const lastDecided = messages.findLastIndex((msg) => msg.kind === "citizen" && decided.has(msg.eventId));
    for (const [i, msg] of messages.entries()) {
      if (msg.kind === "staff") {
        if (i < lastDecided) continue;
        await attempt(msg.eventId, () => staffReplied(desk.d.db, conv.id, msg.staff, desk.d.clock.now()));
        continue;
      }
      await attempt(msg.eventId, async () => {
        const now = desk.d.clock.now();
        const q = await decideQuestion(desk.d.db, {
          conversation: conv.id, eventId: msg.eventId, at: now, reopened: msg.reopened, newDue: schedule.due(now, term), quietPeriodMs: rules.quietPeriodMs,
        });
        if (q) decisions.push(q);
      });
    }
  }
  for (const q of decisions) {
    if (q.fresh && q.entered) {
      // The status (and after a reopening, the assignment) changed: what rooms' conversations say is read again.
      roomTablesChanged();
      desk.d.metrics.queue.inc({ event: q.reopened ? "requeued" : "queued" });
    }
    await attempt(q.eventId, () => answer(desk, m, conv, q));
  }
  return failures;
}

/**
 * What a decided question makes happen: a conversation that entered the queue is assigned if it
 * can be, and a question that gets an answer gets the closed auto-reply or the receipt.
 */
async function answer(desk: ServiceDesk, m: Municipality, conv: Conversation, q: Decided): Promise<void> {
  const { d } = desk;
  const { schedule } = desk.hours(m, conv.department);
  if (q.fresh && q.entered && q.statusBefore === "waiting" && conv.roomId) {
    await d.hs.intent(m.botUserId).sendState(conv.roomId, LOKET_ROOM_EVENT, "", loketRoomContent({ ...conv, status: "open" }));
  }
  const open = schedule.isOpen(q.at);
  // The receipt names whoever is assigned at once; outside hours the assignment tells the citizen itself.
  const made = q.entered ? await desk.assignAll(m, q.answer && open ? conv.id : undefined) : [];
  if (!q.answer || !conv.roomId) return;

  const staff = made.find((a) => a.conversation === conv.id)?.staff ?? q.assigned[0];
  const position = staff === undefined ? await desk.position(m, conv) : 0;
  const text = promiseText({
    open, nextOpening: open ? null : schedule.nextOpening(q.at), due: q.due ?? q.at, reference: conv.reference,
    position, timezone: schedule.timezone, staff: staff === undefined ? undefined : await desk.nameOf(m, staff),
    lead: q.reopened ? t(conv.language, "reopened_lead", { reference: conv.reference }) : undefined,
  }, conv.language);
  await d.hs.intent(m.botUserId).sendMessage(conv.roomId, {
    msgtype: "m.notice", body: text.body, format: "org.matrix.custom.html", formatted_body: text.html,
  }, `promise:${q.eventId}`);
  if (q.fresh) d.metrics.autoReplies.inc({ kind: open ? "receipt" : "closed" });
}
