// What the crypto engine reports for metrics, without knowing about Prometheus: engine.ts maps
// it onto Loket's metrics (src/http/metrics.ts); tools and tests may leave it out.

export interface CryptoObserver {
  /** One decryption attempt of a room event: ok, waiting (no room key yet) or failed. */
  decrypted(outcome: "ok" | "waiting" | "failed"): void;
  /** One room event encrypted (ok) or not (failed). */
  encrypted(outcome: "ok" | "failed"): void;
  /** The events in crypto_waiting_events now. */
  waitingEvents(count: number): void;
  /** The bot device's signed_curve25519 one-time keys on the homeserver, as it last said. */
  oneTimeKeys(bot: string, count: number): void;
  /** One persist of a bot's store took this long. */
  persisted(seconds: number): void;
}

export const NO_OBSERVER: CryptoObserver = {
  decrypted: () => undefined,
  encrypted: () => undefined,
  waitingEvents: () => undefined,
  oneTimeKeys: () => undefined,
  persisted: () => undefined,
};

/** The signed_curve25519 count of a /keys/upload answer or a /sync response, if it has one. */
export function signedCurveCount(counts: Record<string, number> | undefined): number | undefined {
  const n = counts?.signed_curve25519;
  return typeof n === "number" ? n : undefined;
}
