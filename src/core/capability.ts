// What a capability is: a name and typed, optional hooks. The core only routes events to them.
import type { MembershipEvent, MessageEvent, RawEvent, RoomEvent } from "../matrix/events.ts";
import { attemptWithRetry, Interrupted, type RetryPolicy } from "../util/retry.ts";

/**
 * What a hook returns: undefined when it finished synchronously (most events concern few
 * capabilities, and a hook that only looks at a kept answer need not make a promise), else the
 * promise of its work. Routing awaits only what is a promise: a transaction of a hundred events
 * through a handful of capabilities otherwise costs a thousand promises before anything happens.
 */
export type HookResult = Promise<void> | undefined;

export interface Capability {
  readonly name: string;
  /** Called once at start-up, after migrations and before transactions are taken. */
  start?(): Promise<void>;
  /** Called at stop, after the inbox drained and before the database closes. */
  stop?(): Promise<void>;
  onMembership?(ev: MembershipEvent): HookResult;
  onMessage?(ev: MessageEvent): HookResult;
  /** Every room event, after the typed hooks. */
  onEvent?(ev: RoomEvent): HookResult;
  /**
   * An encrypted event that could not be decrypted now (its room key has not arrived, or it
   * cannot be decrypted), instead of the hooks above: the archive keeps its ciphertext. When the
   * key arrives, the decrypted event goes through the other hooks like any event.
   */
  onUndecrypted?(ev: RoomEvent): HookResult;
  /**
   * Called once a batch of one room's events (that room's events of one transaction, in order)
   * has been through every hook: work the hooks deferred to do it once per batch (the archive's
   * write) is done here, and the batch counts as processed only when this resolves. "interrupted":
   * Loket stops and the batch will run again at the next start; drop what was deferred. Throws
   * EventFailures for events whose deferred work failed for good, Interrupted when Loket stops.
   */
  endBatch?(roomId: string, outcome: "done" | "interrupted"): HookResult;
  /**
   * True when, as far as this capability can tell at once, none of its hooks would act on these
   * events of the room (raw, as received, before decryption): no promise, no database read. Asked
   * only when nothing waits in the room's lane. When every capability with a hook says so, the
   * events are done without being routed: the cheap way through for rooms Loket does not know.
   * Missing or false: the events are routed as usual.
   */
  ignores?(roomId: string, events: readonly RawEvent[]): boolean;
}

/** True when the capability has a hook for room events (or for the end of their batch). */
const hasHooks = (cap: Capability): boolean =>
  cap.onMembership !== undefined || cap.onMessage !== undefined || cap.onEvent !== undefined
  || cap.onUndecrypted !== undefined || cap.endBatch !== undefined;

/** Whether a room's events can be done without being routed (see Capability.ignores). */
export type IgnoresCheck = (roomId: string, events: readonly RawEvent[]) => boolean;

/**
 * The check that every capability with a hook ignores a room's events. Which capabilities have
 * hooks is settled once here: the check runs for every room of every transaction, before its 200.
 */
export function ignoredByAll(capabilities: readonly Capability[]): IgnoresCheck {
  const hooked = capabilities.filter(hasHooks);
  return (roomId, events) => hooked.every((cap) => cap.ignores?.(roomId, events) === true);
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

/** An input of a batch, made the event to route. */
export interface Routed {
  ev: RoomEvent;
  as: RouteAs;
}

/** True when the capability has a hook for this kind of event. */
function hears(cap: Capability, ev: RoomEvent, as: RouteAs): boolean {
  if (as === "undecrypted") return cap.onUndecrypted !== undefined;
  return cap.onEvent !== undefined || (ev.kind === "membership" ? cap.onMembership !== undefined : ev.kind === "message" && cap.onMessage !== undefined);
}

/** The capability's hooks for the event, in order: undefined when all of them finished synchronously. */
function runHooks(cap: Capability, ev: RoomEvent, as: RouteAs): HookResult {
  if (as === "undecrypted") return cap.onUndecrypted?.(ev);
  const typed = ev.kind === "membership" ? cap.onMembership?.(ev) : ev.kind === "message" ? cap.onMessage?.(ev) : undefined;
  if (cap.onEvent === undefined) return typed;
  if (typed === undefined) return cap.onEvent(ev);
  return typed.then(() => cap.onEvent?.(ev));
}

/**
 * One capability's hooks for one event. A failure that may pass is retried (the room waits,
 * keeping its order); undefined when the hooks finished synchronously. Throws (or rejects with)
 * Interrupted when Loket stops, and the lasting failure otherwise.
 */
const attempt = (cap: Capability, ev: RoomEvent, as: RouteAs, policy: RetryPolicy): HookResult =>
  attemptWithRetry(() => runHooks(cap, ev, as), policy);

/**
 * Routes an event through the capabilities from index `from` on, adding their lasting failures
 * to `failures`: synchronously as long as every hook finishes synchronously, then through the
 * first pending hook's promise. Throws (or rejects with) Interrupted when Loket stops.
 */
function routeFrom(capabilities: readonly Capability[], ev: RoomEvent, as: RouteAs, retry: (capability: string) => RetryPolicy, failures: HandlerFailure[], from: number): HookResult {
  for (let c = from; c < capabilities.length; c++) {
    const cap = capabilities[c] as Capability;
    if (!hears(cap, ev, as)) continue;
    let pending: HookResult;
    try {
      pending = attempt(cap, ev, as, retry(cap.name));
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      failures.push({ capability: cap.name, error });
      continue;
    }
    if (pending === undefined) continue;
    return pending.then(
      () => routeFrom(capabilities, ev, as, retry, failures, c + 1),
      (error: unknown) => {
        if (error instanceof Interrupted) throw error;
        failures.push({ capability: cap.name, error });
        return routeFrom(capabilities, ev, as, retry, failures, c + 1);
      },
    );
  }
  return undefined;
}

/**
 * Runs every capability's hooks for one event. A hook that fails for a passing reason is retried
 * (the room waits, keeping its order); one that fails for good is reported and never stops the
 * others. Throws Interrupted when Loket stops during a retry: the event is then not done.
 */
export async function route(capabilities: readonly Capability[], ev: RoomEvent, retry: (capability: string) => RetryPolicy, as: RouteAs = "event"): Promise<HandlerFailure[]> {
  const failures: HandlerFailure[] = [];
  await routeFrom(capabilities, ev, as, retry, failures, 0);
  return failures;
}

/** Ends the batch for a capability, awaiting only what is a promise. */
async function endBatchOf(cap: Capability, roomId: string, outcome: "done" | "interrupted"): Promise<void> {
  await cap.endBatch?.(roomId, outcome);
}

/**
 * Routes one room's events of one transaction, in order, then ends the batch for every
 * capability. Each input is turned into its event just before it is routed (decryption, and
 * whether it is routed as itself or as ciphertext to onUndecrypted; undefined: nothing to route). Returns each input's failures (same index). Throws
 * Interrupted when Loket stops: the batch is then not done (its transaction stays pending and
 * runs again at the next start).
 */
export async function routeBatch<T>(
  capabilities: readonly Capability[], roomId: string, inputs: readonly T[],
  toEvent: (input: T) => Routed | undefined | Promise<Routed | undefined>,
  retry: (capability: string) => RetryPolicy,
): Promise<HandlerFailure[][]> {
  const failures: HandlerFailure[][] = inputs.map(() => []);
  const routed: { eventId: string; mine: HandlerFailure[] }[] = [];
  try {
    for (const [i, input] of inputs.entries()) {
      // Awaited only when it is a promise: an await of anything costs a turn of the microtask queue.
      let next = toEvent(input);
      if (next instanceof Promise) next = await next;
      if (!next) continue;
      const { ev, as } = next;
      const mine = failures[i] ?? [];
      const pending = routeFrom(capabilities, ev, as, retry, mine, 0);
      if (pending) await pending;
      routed.push({ eventId: ev.eventId, mine });
    }
  } catch (err) {
    for (const cap of capabilities) await endBatchOf(cap, roomId, "interrupted").catch(() => undefined);
    throw err;
  }
  for (const [c, cap] of capabilities.entries()) {
    if (!cap.endBatch) continue;
    try {
      const pending = cap.endBatch(roomId, "done");
      if (pending) await pending;
    } catch (error) {
      if (error instanceof Interrupted) {
        for (const later of capabilities.slice(c + 1)) await endBatchOf(later, roomId, "interrupted").catch(() => undefined);
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
