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
}

export interface HandlerFailure {
  capability: string;
  error: unknown;
}

async function runHooks(cap: Capability, ev: RoomEvent, as: "event" | "undecrypted"): Promise<void> {
  if (as === "undecrypted") {
    await cap.onUndecrypted?.(ev);
    return;
  }
  if (ev.kind === "membership") await cap.onMembership?.(ev);
  if (ev.kind === "message") await cap.onMessage?.(ev);
  await cap.onEvent?.(ev);
}

/**
 * Runs every capability's hooks for one event. A hook that fails for a passing reason is retried
 * (the room waits, keeping its order); one that fails for good is reported and never stops the
 * others. Throws Interrupted when Loket stops during a retry: the event is then not done.
 */
export async function route(capabilities: readonly Capability[], ev: RoomEvent, retry: (capability: string) => RetryPolicy, as: "event" | "undecrypted" = "event"): Promise<HandlerFailure[]> {
  const failures: HandlerFailure[] = [];
  for (const cap of capabilities) {
    try {
      await withRetry(() => runHooks(cap, ev, as), retry(cap.name));
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      failures.push({ capability: cap.name, error });
    }
  }
  return failures;
}
