// One bot device: its OlmMachine (on fake-indexeddb), one serialised queue of machine calls, the
// outgoing-request loop and persistence of the store.
import { createHash, randomUUID } from "node:crypto";
import { DeviceId, OlmMachine, StoreHandle, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { Logger } from "../logging.ts";
import type { DeviceHttp } from "./http.ts";
import { deleteDatabases, dumpDatabases, restoreDatabases, type Dump } from "./idb-dump.ts";
import { isKeysUpload, requestId, send } from "./requests.ts";
import { NO_OBSERVER, signedCurveCount, type CryptoObserver } from "./observer.ts";
import type { CryptoStoreRows } from "./store.ts";

export interface BotDeviceOptions {
  userId: string;
  deviceId: string;
  http: DeviceHttp;
  rows: CryptoStoreRows;
  machineKey: Uint8Array;
  log: Logger;
  /** Throws when this process may no longer write the store (lock lost). */
  assertWriter: () => void;
  observer?: CryptoObserver;
}

export class BotDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly http: DeviceHttp;
  readonly machine: OlmMachine;
  readonly observer: CryptoObserver;
  private readonly prefix: string;
  private readonly opts: BotDeviceOptions;
  private queue: Promise<unknown> = Promise.resolve();
  /** Digest of each record as last written: a persist writes only records whose digest changed. */
  private readonly written = new Map<string, string>();
  /** Size of the store (serialised records) and what the last persist cost. */
  storeBytes = 0;
  lastPersist = { ms: 0, records: 0, bytes: 0 };

  private constructor(opts: BotDeviceOptions, machine: OlmMachine, prefix: string) {
    this.opts = opts;
    this.userId = opts.userId;
    this.deviceId = opts.deviceId;
    this.http = opts.http;
    this.machine = machine;
    this.observer = opts.observer ?? NO_OBSERVER;
    this.prefix = prefix;
  }

  /** Opens the machine: restored from `dump` when given, else a new account for the device. */
  static async open(opts: BotDeviceOptions, dump: Dump | undefined): Promise<BotDevice> {
    // A fresh name per process: the dump moves into new databases; nothing else shares them.
    const prefix = `loket-crypto/${randomUUID()}/${opts.userId}`;
    if (dump) await restoreDatabases(prefix, dump);
    const handle = await StoreHandle.openWithKey(prefix, opts.machineKey);
    try {
      const machine = await OlmMachine.initFromStore(new UserId(opts.userId), new DeviceId(opts.deviceId), handle);
      const bot = new BotDevice(opts, machine, prefix);
      for (const r of dump?.records ?? []) bot.written.set(r.id, digest(r.data));
      return bot;
    } finally {
      handle.free();
    }
  }

  /** Runs fn after every machine call queued before it (one call at a time per machine). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes the whole store (and the sync token it includes) to the database. Call inside run(). */
  async persist(syncToken?: string): Promise<void> {
    this.opts.assertWriter();
    const started = performance.now();
    const dump = await dumpDatabases(this.prefix);
    const seen = new Set<string>();
    const changed = [];
    const digests = new Map<string, string>();
    let size = 0;
    for (const r of dump.records) {
      seen.add(r.id);
      size += r.data.length;
      const d = digest(r.data);
      if (this.written.get(r.id) !== d) {
        changed.push(r);
        digests.set(r.id, d);
      }
    }
    const removed = [...this.written.keys()].filter((id) => !seen.has(id));
    const bytes = await this.opts.rows.save(this.userId, dump.schema, changed, removed, syncToken);
    // Only once the transaction committed: a failed write is retried in full next time.
    for (const [id, d] of digests) this.written.set(id, d);
    for (const id of removed) this.written.delete(id);
    this.storeBytes = size;
    this.lastPersist = { ms: performance.now() - started, records: changed.length + removed.length, bytes };
    this.observer.persisted(this.lastPersist.ms / 1000);
  }

  /**
   * Sends every outgoing request until the machine has none left. The store is persisted before
   * any key upload (the private halves of uploaded keys must never be lost) and at the end,
   * with `syncToken` when the flush completes a sync round. Call inside run().
   */
  async flush(signal?: AbortSignal, syncToken?: string): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const requests = await this.machine.outgoingRequests();
      if (requests.length === 0) break;
      if (requests.some(isKeysUpload)) await this.persist();
      for (const req of requests) {
        const response = await send(this.http, req, signal);
        if (isKeysUpload(req)) this.reportKeyCount(response);
        const id = requestId(req);
        if (id !== undefined) await this.machine.markRequestAsSent(id, req.type, response);
      }
    }
    if (await this.machine.isBackupEnabled()) {
      // Room keys not yet in the server-side backup, a batch at a time.
      for (let batch = 0; batch < 100; batch++) {
        const req = await this.machine.backupRoomKeys();
        if (!req) break;
        await this.machine.markRequestAsSent(req.id, req.type, await send(this.http, req, signal));
      }
    }
    await this.persist(syncToken);
  }

  private reportKeyCount(uploadResponse: string): void {
    const n = signedCurveCount((JSON.parse(uploadResponse) as { one_time_key_counts?: Record<string, number> }).one_time_key_counts);
    if (n !== undefined) this.observer.oneTimeKeys(this.userId, n);
  }

  /** Records of the store as last written (for tests and status). */
  get recordCount(): number {
    return this.written.size;
  }

  async close(): Promise<void> {
    await this.queue;
    this.machine.close();
    await deleteDatabases(this.prefix);
  }
}

function digest(data: Buffer): string {
  return createHash("sha256").update(data).digest("base64");
}
