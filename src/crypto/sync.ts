// Crypto input: a filtered /sync per bot device. Synapse keeps to-device messages (room keys)
// in its device inbox until a later `since` acknowledges them, so nothing is lost while Loket is
// down; the token is stored only together with the dump of the store that processed them.
import { DeviceLists, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { Logger } from "../logging.ts";
import type { BotDevice } from "./bot.ts";
import { signedCurveCount } from "./observer.ts";

/** Rooms, presence and account data are left out: only the E2EE sections remain. */
const FILTER = JSON.stringify({
  room: { rooms: [], account_data: { types: [] }, ephemeral: { types: [] }, state: { types: [] }, timeline: { types: [] } },
  presence: { types: [] },
  account_data: { types: [] },
});

interface SyncResponse {
  next_batch: string;
  to_device?: { events?: unknown[] };
  device_lists?: { changed?: string[]; left?: string[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
}

export interface SyncState {
  token: string | undefined;
  lastSyncAt: number | undefined;
  toDeviceReceived: number;
}

/** One /sync round: fetch, hand to the machine, send what it asks for, persist with the token. */
export async function syncOnce(bot: BotDevice, state: SyncState, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const res = await bot.http.request<SyncResponse>("GET", "/v3/sync", {
    query: { filter: FILTER, timeout: String(timeoutMs), since: state.token, set_presence: "offline" },
    signal,
  });
  await bot.run(async () => {
    const events = res.to_device?.events ?? [];
    const lists = new DeviceLists(
      (res.device_lists?.changed ?? []).map((u) => new UserId(u)),
      (res.device_lists?.left ?? []).map((u) => new UserId(u)),
    );
    const counts = new Map(Object.entries(res.device_one_time_keys_count ?? {}));
    const signed = signedCurveCount(res.device_one_time_keys_count);
    if (signed !== undefined) bot.observer.oneTimeKeys(bot.userId, signed);
    const fallback = res.device_unused_fallback_key_types === undefined ? undefined : new Set(res.device_unused_fallback_key_types);
    await bot.machine.receiveSyncChanges(JSON.stringify(events), lists, counts, fallback);
    // Key uploads (top-ups) and key queries for changed device lists; then the store is
    // persisted together with the token, so the token never runs ahead of the store.
    await bot.flush(signal, res.next_batch);
    state.toDeviceReceived += events.length;
  });
  state.token = res.next_batch;
  state.lastSyncAt = Date.now();
}

/** Long-polls until `signal` aborts; failures back off from 1 s to 60 s. */
export async function syncLoop(bot: BotDevice, state: SyncState, timeoutMs: number, signal: AbortSignal, log: Logger): Promise<void> {
  let delay = 1_000;
  const aborted = (): boolean => signal.aborted;
  while (!aborted()) {
    try {
      await syncOnce(bot, state, timeoutMs, signal);
      delay = 1_000;
    } catch (err) {
      if (aborted()) break;
      log.warn({ err, userId: bot.userId, delayMs: delay }, "crypto sync failed; retrying");
      await abortableDelay(delay, signal);
      delay = Math.min(delay * 2, 60_000);
    }
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
