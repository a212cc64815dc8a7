// What a room is to Loket (a conversation, a managed room, a bot's direct chat) is cached (see
// conversations/directory.ts). Every write to those tables (conversations, managed_rooms,
// direct_rooms) calls roomTablesChanged() once it is done, and caches drop what they read
// before it. The counter is one per process: a write through one Loket instance also clears the
// caches of another in the same process (tests), which costs a query, never a stale answer.
let epoch = 0;

export function roomTablesChanged(): void {
  epoch++;
}

export function roomTablesEpoch(): number {
  return epoch;
}
