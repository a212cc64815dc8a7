// What a capability is: a name and typed, optional hooks. The core only routes events to them.
import type { MembershipEvent, MessageEvent, RoomEvent } from "../matrix/events.ts";

export interface Capability {
  readonly name: string;
  /** Called once at start-up, after migrations and before transactions are taken. */
  start?(): Promise<void>;
  onMembership?(ev: MembershipEvent): Promise<void>;
  onMessage?(ev: MessageEvent): Promise<void>;
  /** Every room event, after the typed hooks. */
  onEvent?(ev: RoomEvent): Promise<void>;
}

export interface HandlerFailure {
  capability: string;
  error: unknown;
}

/** Runs every capability's hooks for one event; a throwing hook never stops the others. */
export async function route(capabilities: readonly Capability[], ev: RoomEvent): Promise<HandlerFailure[]> {
  const failures: HandlerFailure[] = [];
  for (const cap of capabilities) {
    try {
      if (ev.kind === "membership") await cap.onMembership?.(ev);
      if (ev.kind === "message") await cap.onMessage?.(ev);
      await cap.onEvent?.(ev);
    } catch (error) {
      failures.push({ capability: cap.name, error });
    }
  }
  return failures;
}
