// Who takes which conversation (pure): the earliest due time first, to the on-duty staff member
// of the conversation's department with the fewest open conversations, up to a maximum each.
// Ties go to whoever has waited longest since their last assignment, then by user id, so that
// the outcome is the same on every run and in every process.

export interface Waiting {
  conversation: string;
  department: string;
  /** Epoch ms by which the citizen was promised an answer. */
  due: number;
}

export interface Staff {
  userId: string;
  department: string;
  /** Open conversations assigned to them now. */
  open: number;
  /** Epoch ms of their last assignment (0: never). */
  lastAssigned: number;
}

export interface Assignment {
  conversation: string;
  staff: string;
}

export function planAssignments(queue: readonly Waiting[], onDuty: readonly Staff[], maxPerPerson: number): Assignment[] {
  const load = new Map(onDuty.map((s) => [`${s.department}\n${s.userId}`, { ...s }]));
  const out: Assignment[] = [];
  const ordered = [...queue].sort((a, b) => a.due - b.due || a.conversation.localeCompare(b.conversation));
  let tick = 0;
  for (const w of ordered) {
    let best: Staff | undefined;
    for (const s of load.values()) {
      if (s.department !== w.department || s.open >= maxPerPerson) continue;
      if (!best || s.open < best.open || (s.open === best.open && (s.lastAssigned < best.lastAssigned
        || (s.lastAssigned === best.lastAssigned && s.userId < best.userId)))) best = s;
    }
    if (!best) continue;
    best.open++;
    // Later in this plan than anything before it, so that ties rotate.
    best.lastAssigned = Number.MAX_SAFE_INTEGER - 1_000_000 + tick++;
    out.push({ conversation: w.conversation, staff: best.userId });
  }
  return out;
}
