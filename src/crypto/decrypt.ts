// Incoming: decrypt a room event with whichever bot device holds its room key.
import { DecryptionErrorCode, DecryptionSettings, MegolmDecryptionError, RoomId, TrustRequirement } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { RawEvent } from "../matrix/events.ts";
import type { BotDevice } from "./bot.ts";

/** The event with its plaintext type and content; the ciphertext is kept under `encrypted`. */
export interface DecryptedEvent extends RawEvent {
  encrypted: { type: string; content: unknown };
  /** The sending device as the Megolm session claims it (trusted only if verified). */
  sender_device: string | undefined;
}

export type DecryptResult =
  | { status: "decrypted"; event: DecryptedEvent }
  | { status: "waiting"; reason: string }
  | { status: "failed"; reason: string };

/** Citizens' devices are mostly unverified: decrypt from every device, whatever its trust. */
const settings = (): DecryptionSettings => new DecryptionSettings(TrustRequirement.Untrusted);

/** Errors that a later room key can mend. */
function mendable(err: MegolmDecryptionError): boolean {
  return err.code === DecryptionErrorCode.MissingRoomKey || err.code === DecryptionErrorCode.UnknownMessageIndex;
}

export async function decryptWith(bots: BotDevice[], raw: RawEvent): Promise<DecryptResult> {
  if (raw.type !== "m.room.encrypted") return { status: "failed", reason: "not an encrypted event" };
  let last: DecryptResult = { status: "failed", reason: "no bot device to decrypt with" };
  for (const bot of bots) {
    try {
      const res = await bot.run(() => bot.machine.decryptRoomEvent(JSON.stringify(raw), new RoomId(raw.room_id), settings()));
      const plain = JSON.parse(res.event) as { type?: unknown; content?: unknown };
      const event: DecryptedEvent = {
        ...raw,
        type: typeof plain.type === "string" ? plain.type : "m.room.message",
        content: plain.content ?? {},
        encrypted: { type: raw.type, content: raw.content },
        sender_device: res.senderDevice?.toString(),
      };
      return { status: "decrypted", event };
    } catch (err) {
      if (!(err instanceof MegolmDecryptionError)) {
        last = { status: "failed", reason: err instanceof Error ? err.message : String(err) };
        continue;
      }
      const withheld = err.withheldCode === undefined ? "" : ` (withheld: ${err.withheldCode})`;
      const reason = `${DecryptionErrorCode[err.code]}${withheld}`;
      // Another bot may hold the key: only the last answer counts, a waiting one before a failure.
      if (mendable(err)) last = { status: "waiting", reason };
      else if (last.status !== "waiting") last = { status: "failed", reason };
    }
  }
  return last;
}

export function sessionIdOf(raw: RawEvent): string {
  const content = raw.content as { session_id?: unknown } | undefined;
  return typeof content?.session_id === "string" ? content.session_id : "";
}
