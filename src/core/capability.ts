// What a capability is: a name and typed, optional hooks. The core only routes events to them.
import type { MembershipEvent, MessageEvent, RoomEvent } from "../matrix/events.ts";
import { Interrupted, withRetry, type RetryPolicy } from "../util/retry.ts";

export interface Capability {
  readonly name: string;
  /** Called once at start-up, after migrations and before transactions are taken. */
  start?(): Promise<void>;
  /** Called at stop, after the inbox drained and before the database closes. */
  stop?(): Promise<void>;
  onMembership?(ev: MembershipEvent): Promise<void>;
  onMessage?(ev: MessageEvent): Promise<void>;
  /** Every room event, after the typed hooks. */
  onEvent?(ev: RoomEvent): Promise<void>;
  /**
   * An encrypted event that could not be decrypted now (its room key has not arrived, or it
   * cannot be decrypted), instead of the hooks above: the archive keeps its ciphertext. When the
   * key arrives, the decrypted event goes through the other hooks like any event.
   */
  onUndecrypted?(ev: RoomEvent): Promise<void>;
  /**
   * Called once a batch of one room's events (that room's events of one transaction, in order)
   * has been through every hook: work the hooks deferred to do it once per batch (the archive's
   * write) is done here, and the batch counts as processed only when this resolves. "interrupted":
   * Loket stops and the batch will run again at the next start; drop what was deferred. Throws
   * EventFailures for events whose deferred work failed for good, Interrupted when Loket stops.
   */
  endBatch?(roomId: string, outcome: "done" | "interrupted"): Promise<void>;
}

/** Deferred work of a batch failed for good for these events (by event id); the others are done. */
export class EventFailures extends Error {
  readonly failures: ReadonlyMap<string, unknown>;
  constructor(failures: ReadonlyMap<string, unknown>) {
    super(`${failures.size} event(s) failed`);
    this.failures = failures;
  }
}

export interface HandlerFailure {
  capability: string;
  error: unknown;
}

/** How an event is routed: as itself, or (not decryptable now) to the hook that keeps ciphertext. */
export type RouteAs = "event" | "undecrypted";

/** True when the capability has a hook for this kind of event. */
function hears(cap: Capability, ev: RoomEvent, as: RouteAs): boolean {
  if (as === "undecrypted") return cap.onUndecrypted !== undefined;
  return cap.onEvent !== undefined || (ev.kind === "membership" ? cap.onMembership !== undefined : ev.kind === "message" && cap.onMessage !== undefined);
}

const DONE = Promise.resolve();

/** The capability's hooks for the event, in order. Not async: most events call one hook, whose promise is returned as it is. */
function runHooks(cap: Capability, ev: RoomEvent, as: RouteAs): Promise<void> {
  if (as === "undecrypted") return cap.onUndecrypted?.(ev) ?? DONE;
  const typed = ev.kind === "membership" ? cap.onMembership?.bind(cap, ev) : ev.kind === "message" ? cap.onMessage?.bind(cap, ev) : undefined;
  if (typed === undefined) return cap.onEvent?.(ev) ?? DONE;
  if (cap.onEvent === undefined) return typed();
  return typed().then(() => cap.onEvent?.(ev));
}

/**
 * Runs every capability's hooks for one event. A hook that fails for a passing reason is retried
 * (the room waits, keeping its order); one that fails for good is reported and never stops the
 * others. Throws Interrupted when Loket stops during a retry: the event is then not done.
 */
export async function route(capabilities: readonly Capability[], ev: RoomEvent, retry: (capability: string) => RetryPolicy, as: RouteAs = "event"): Promise<HandlerFailure[]> {
  const failures: HandlerFailure[] = [];
  for (const cap of capabilities) {
    if (!hears(cap, ev, as)) continue;
    try {
      await withRetry(() => runHooks(cap, ev, as), retry(cap.name));
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      failures.push({ capability: cap.name, error });
    }
  }
  return failures;
}

/**
 * Routes one room's events of one transaction, in order, then ends the batch for every
 * capability. Each input is turned into its event just before it is routed (decryption, and
 * whether it is routed as itself or as ciphertext to onUndecrypted; undefined: nothing to route). Returns each input's failures (same index). Throws
 * Interrupted when Loket stops: the batch is then not done (its transaction stays pending and
 * runs again at the next start).
 */
export async function routeBatch<T>(
  capabilities: readonly Capability[], roomId: string, inputs: readonly T[], toEvent: (input: T) => Promise<{ ev: RoomEvent; as: RouteAs } | undefined>,
  retry: (capability: string) => RetryPolicy,
): Promise<HandlerFailure[][]> {
  const failures: HandlerFailure[][] = inputs.map(() => []);
  const routed: { eventId: string; mine: HandlerFailure[] }[] = [];
  try {
    for (const [i, input] of inputs.entries()) {
      const next = await toEvent(input);
      if (!next) continue;
      const { ev, as } = next;
      const mine = failures[i] ?? [];
      mine.push(...await route(capabilities, ev, retry, as));
      routed.push({ eventId: ev.eventId, mine });
    }
  } catch (err) {
    for (const cap of capabilities) await cap.endBatch?.(roomId, "interrupted").catch(() => undefined);
    throw err;
  }
  for (const [c, cap] of capabilities.entries()) {
    if (!cap.endBatch) continue;
    try {
      await cap.endBatch(roomId, "done");
    } catch (error) {
      if (error instanceof Interrupted) {
        for (const later of capabilities.slice(c + 1)) await later.endBatch?.(roomId, "interrupted").catch(() => undefined);
        throw error;
      }
      for (const { eventId, mine } of routed) {
        // Not an EventFailures: a bug, not a failure of particular events; every event reports it.
        if (!(error instanceof EventFailures)) mine.push({ capability: cap.name, error });
        else if (error.failures.has(eventId)) mine.push({ capability: cap.name, error: error.failures.get(eventId) });
      }
    }
  }
  return failures;
}
