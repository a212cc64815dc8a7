// Texts of the queue's commands (pure): !wachtrij for staff, !status for citizen and staff.
import { t, type Language } from "../i18n/index.ts";
import type { Status } from "../conversations/store.ts";

export interface QueueLine {
  reference: string;
  due: string;
  overdue: boolean;
}

export function queueText(lang: Language, department: string, queue: readonly QueueLine[], duty: readonly { name: string; open: number }[]): string {
  const lines = queue.length === 0
    ? [t(lang, "queue_empty", { department })]
    : [t(lang, "queue_header", { department }), ...queue.map((q) => t(lang, "queue_line", {
        reference: q.reference, due: q.due, overdue: q.overdue ? t(lang, "queue_overdue") : "",
      }))];
  lines.push(duty.length === 0
    ? t(lang, "queue_duty_none")
    : t(lang, "queue_duty", { list: duty.map((s) => `${s.name} (${s.open})`).join(", ") }));
  return lines.join("\n");
}

export interface StatusFacts {
  reference: string;
  status: Status;
  /** Place in the queue, 0 when not waiting in it. */
  position: number;
  staff: readonly string[];
  due?: string;
  overdue: boolean;
  /** Staff replied to the citizen's last message. */
  answered: boolean;
}

export function statusText(lang: Language, f: StatusFacts): string {
  const statusWord = t(lang, f.status === "open" ? "status_open" : f.status === "waiting" ? "status_waiting" : "status_closed");
  const lines = [t(lang, "status_header", { reference: f.reference, status: statusWord })];
  if (f.position > 0) lines.push(t(lang, "status_position", { position: String(f.position) }));
  if (f.staff.length > 0 && f.status !== "closed") lines.push(t(lang, "status_staff", { staff: f.staff.join(", ") }));
  if (f.due !== undefined) lines.push(t(lang, "status_due", { due: f.due }));
  if (f.overdue) lines.push(t(lang, "status_overdue"));
  if (f.answered) lines.push(t(lang, "status_answered"));
  return lines.join("\n");
}
