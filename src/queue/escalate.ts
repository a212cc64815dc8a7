// Escalation: a conversation's due time passed with no staff reply. The conversation is flagged
// overdue, the department room and the coordinator are told, and a metric counts the missed
// term, once, however often the timer runs (it runs again when a previous run failed halfway).
import type { Conversation } from "../conversations/store.ts";
import { conversationById } from "../conversations/store.ts";
import { t } from "../i18n/index.ts";
import { isTransient } from "../matrix/failures.ts";
import type { RoomId } from "../matrix/ids.ts";
import type { Timer } from "../scheduler/timers.ts";
import type { Municipality } from "../tenants/municipalities.ts";
import type { ServiceDesk } from "./service.ts";
import { saveStaffRoom, setOverdue, staffRoom } from "./store.ts";

export async function escalate(desk: ServiceDesk, timer: Timer): Promise<void> {
  const { db, metrics, log, hs, conversations } = desk.d;
  const conv = await conversationById(db, Number(timer.key));
  // Answered, paused, closed or given a new term meanwhile: nothing to escalate.
  if (!conv?.roomId || conv.status !== "open" || conv.dueAt?.getTime() !== timer.dueAt.getTime()) return;
  const m = desk.municipality(conv.municipality);
  if (!m) return;
  if (await setOverdue(db, conv.id, timer.dueAt)) {
    metrics.termsMissed.inc({ municipality: m.id, department: conv.department });
    log.warn({ municipality: m.id, department: conv.department, reference: conv.reference }, "a response term passed without a staff reply");
  }
  const lang = m.config.language;
  const assignee = conv.assigned.length > 0 ? (await Promise.all(conv.assigned.map((u) => desk.nameOf(m, u)))).join(", ") : t(lang, "nobody");
  const vars = { reference: conv.reference, due: desk.inWords(m, conv, timer.dueAt, lang), assignee, link: conversations.link(conv.roomId), department: departmentName(m, conv) };
  const cause = `overdue:${conv.id}:${timer.dueAt.getTime()}`;
  const bot = hs.intent(m.botUserId);
  const room = await desk.departmentRoom(m, conv.department);
  if (room) await bot.sendNotice(room, t(lang, "escalated_department", vars), cause);
  const coordinator = coordinatorOf(m, conv);
  if (!coordinator) return;
  try {
    await bot.sendNotice(await directRoom(desk, m, coordinator), t(lang, "escalated_coordinator", vars), `${cause}:coordinator`);
  } catch (err) {
    // A coordinator who cannot be reached for good (unknown user, refused invite) must not hold
    // the timer for ever; a passing failure runs the timer again after its lease.
    if (isTransient(err)) throw err;
    log.warn({ err: String(err), municipality: m.id, coordinator }, "could not tell the coordinator of a missed term");
  }
}

function departmentName(m: Municipality, conv: Conversation): string {
  return m.config.departments.find((d) => d.id === conv.department)?.name ?? m.name;
}

function coordinatorOf(m: Municipality, conv: Conversation): string | undefined {
  return m.config.departments.find((d) => d.id === conv.department)?.coordinator ?? m.config.coordinator;
}

/** The bot's direct room with a staff member, made on first use and kept in staff_rooms. */
async function directRoom(desk: ServiceDesk, m: Municipality, user: string): Promise<RoomId> {
  const { db, hs } = desk.d;
  const known = await staffRoom(db, m.botUserId, user);
  if (known) return known as RoomId;
  const roomId = await hs.intent(m.botUserId).createRoom({ preset: "trusted_private_chat", is_direct: true, invite: [user], name: m.name });
  await saveStaffRoom(db, m.botUserId, user, roomId);
  return ((await staffRoom(db, m.botUserId, user)) ?? roomId) as RoomId;
}
