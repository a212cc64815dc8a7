// One bot device: its OlmMachine (on fake-indexeddb), one serialised queue of machine calls, the
// outgoing-request loop and persistence of the store.
import { randomUUID } from "node:crypto";
import { DeviceId, OlmMachine, StoreHandle, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { Logger } from "../logging.ts";
import type { DeviceHttp } from "./http.ts";
import { deleteDatabases, dumpDatabases, restoreDatabases } from "./idb-dump.ts";
import { isKeysUpload, requestId, send } from "./requests.ts";
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
}

export class BotDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly http: DeviceHttp;
  readonly machine: OlmMachine;
  private readonly prefix: string;
  private readonly opts: BotDeviceOptions;
  private queue: Promise<unknown> = Promise.resolve();
  /** Bytes of the last sealed dump written. */
  storeBytes = 0;
  lastPersistMs = 0;

  private constructor(opts: BotDeviceOptions, machine: OlmMachine, prefix: string) {
    this.opts = opts;
    this.userId = opts.userId;
    this.deviceId = opts.deviceId;
    this.http = opts.http;
    this.machine = machine;
    this.prefix = prefix;
  }

  /** Opens the machine: restored from `dump` when given, else a new account for the device. */
  static async open(opts: BotDeviceOptions, dump: Buffer | undefined): Promise<BotDevice> {
    // A fresh name per process: the dump moves into new databases; nothing else shares them.
    const prefix = `loket-crypto/${randomUUID()}/${opts.userId}`;
    if (dump) await restoreDatabases(prefix, dump);
    const handle = await StoreHandle.openWithKey(prefix, opts.machineKey);
    try {
      const machine = await OlmMachine.initFromStore(new UserId(opts.userId), new DeviceId(opts.deviceId), handle);
      return new BotDevice(opts, machine, prefix);
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
    this.storeBytes = await this.opts.rows.save(this.userId, dump, syncToken);
    this.lastPersistMs = performance.now() - started;
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

  async close(): Promise<void> {
    await this.queue;
    this.machine.close();
    await deleteDatabases(this.prefix);
  }
}
