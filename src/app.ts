// The composition root: start(config) builds Loket and returns a handle to stop it.
// The CLI and the integration tests both call this one function.
import express from "express";
import { createCapabilities } from "./capabilities.ts";
import type { Config } from "./config/schema.ts";
import { ignoredByAll, routeBatch } from "./core/capability.ts";
import { databaseOptions, openDatabase, type Database } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { errorMiddleware, MatrixHttpError } from "./http/errors.ts";
import { healthRouter, metricsRouter, type Readiness } from "./http/health.ts";
import { createMetrics, type Metrics } from "./http/metrics.ts";
import { listen } from "./http/server.ts";
import type { StoreMissed } from "./conversations/greeting.ts";
import { Inbox } from "./inbox/inbox.ts";
import { intakeHandlers } from "./inbox/intake.ts";
import { watchRecovery } from "./inbox/recovery.ts";
import { pruneProcessed } from "./inbox/store.ts";
import { createLogger, type Logger } from "./logging.ts";
import { appserviceRouter } from "./matrix/appservice-api.ts";
import { transactionRoute } from "./matrix/transaction-route.ts";
import { Homeserver } from "./matrix/client.ts";
import { decodeEvent, type RawEvent } from "./matrix/events.ts";
import { classify, isTransient } from "./matrix/failures.ts";
import { HomeserverGate } from "./matrix/gate.ts";
import { RoomEncryption } from "./matrix/room-encryption.ts";
import { CryptoEngine } from "./crypto/engine.ts";
import { aliasQueryHandler } from "./rooms/alias-query.ts";
import { Reconciler } from "./rooms/reconcile.ts";
import { pingHomeserver as pingWithRetry } from "./matrix/ping.ts";
import { Municipalities } from "./tenants/municipalities.ts";
import { Scheduler, systemClock, type Clock } from "./scheduler/scheduler.ts";
import { Interrupted, withRetry, type RetryPolicy } from "./util/retry.ts";
import { createTasks } from "./util/tasks.ts";

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface StartOptions {
  logger?: Logger;
  /** First retry delay for work that needs the homeserver (default 1 s, doubling to 60 s). */
  retryMs?: number;
  /** Events waiting in memory before new transactions are refused (default 10 000). */
  maxPendingEvents?: number;
  /** Stored JSON bytes waiting in memory before new transactions are refused (default 32 MiB). */
  maxPendingBytes?: number;
  /** How long an event's handler is retried before its failure counts (default 15 min). */
  giveUpAfterMs?: number;
  /** The clock of office hours, terms and timers (tests set the time; default: the system's). */
  clock?: Clock;
}

export interface LoketApp {
  readonly port: number;
  readonly url: string;
  readonly database: Database;
  readonly metrics: Metrics;
  /** Resolves when every capability's start-up work (bots, room reconciliation) is done. */
  started(): Promise<void>;
  /** Resolves when every event received so far has been processed. */
  idle(): Promise<void>;
  /** Runs the timers due by the clock now (tests that move the clock call it); returns how many ran. */
  runTimers(): Promise<number>;
  stop(): Promise<void>;
}

export async function start(config: Config, opts: StartOptions = {}): Promise<LoketApp> {
  const log = opts.logger ?? createLogger(config.logging);
  const metrics = createMetrics();
  const tasks = createTasks(log, metrics);
  const stopped = new AbortController();
  const retryPolicy = (capability: string): RetryPolicy => ({
    isTransient,
    retryAfterMs: (err: unknown) => { const f = classify(err); return f.kind === "transient" ? f.retryAfterMs : undefined; },
    signal: stopped.signal,
    firstDelayMs: opts.retryMs ?? 1_000,
    maxDelayMs: 60_000,
    // Long enough to ride out a homeserver restart; short enough that one stuck room does not
    // hold its transaction (and the memory limit) for ever.
    giveUpAfterMs: opts.giveUpAfterMs ?? 15 * 60_000,
    onRetry: (err: unknown, attempt: number, delayMs: number) => {
      metrics.retries.inc({ capability });
      log.warn({ err: String(err), reason: classify(err).reason, capability, attempt, delayMs }, "homeserver call failed for a passing reason; retrying");
    },
  });
  // One policy per capability, made on first use: route() asks for it for every event.
  const policies = new Map<string, RetryPolicy>();
  const retry = (capability: string): RetryPolicy => {
    let policy = policies.get(capability);
    if (!policy) {
      policy = retryPolicy(capability);
      policies.set(capability, policy);
    }
    return policy;
  };

  const database = await openDatabase({
    ...databaseOptions(config),
    onConnectionError: (err) => { log.warn({ err }, "a database connection broke; it will be replaced"); },
  });
  const gate = new HomeserverGate({
    maxConcurrent: config.homeserver.max_concurrent_requests,
    requestTimeoutMs: config.homeserver.request_timeout_seconds * 1000,
    firstPauseMs: opts.retryMs ?? 1_000,
    maxPauseMs: 60_000,
    onChange: (state) => {
      metrics.homeserverInFlight.set(state.inFlight);
      metrics.homeserverWaiting.set(state.waiting);
    },
    onBreaker: (open, err) => {
      metrics.homeserverUnreachable.set(open ? 1 : 0);
      if (open) {
        metrics.homeserverOutages.inc();
        log.warn({ err: String(err), url: config.homeserver.url }, "the homeserver does not answer; every room's calls pause until it does");
      } else {
        log.info({ url: config.homeserver.url }, "the homeserver answers again");
      }
    },
  });
  const rooms = new RoomEncryption();
  const homeserver = new Homeserver({ url: config.homeserver.url, asToken: config.appservice.as_token, log, gate, db: database, rooms });
  // Undone in reverse order on stop, or when start-up fails half-way.
  const teardown: (() => Promise<void>)[] = [() => database.close()];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      // First end the waiting: retries stop, and calls to a slow homeserver are cut short (their
      // events stay pending for the next start). Transactions in flight only need the database.
      stopped.abort();
      homeserver.abortAll();
      for (const step of [...teardown].reverse()) await step();
    })();
    return stopping;
  };

  try {
    const applied = await migrate(database);
    log.info({ store: database.kind, applied }, "database ready");

    const municipalities = new Municipalities(config);
    const reconciler = new Reconciler({ db: database, hs: homeserver, config, metrics, log: log.child({ capability: "rooms" }) });
    const clock = opts.clock ?? systemClock;
    const scheduler = new Scheduler(database, clock, log.child({ capability: "scheduler" }), { isTransient });
    // What the greeting reads back of a DM's history goes into the inbox, which is made below,
    // after the capabilities it routes to (no event reaches a capability before it exists).
    const storeMissed: StoreMissed = (txnId, events) => inbox.storeMissed(txnId, events);
    const capabilities = createCapabilities({ config, database, municipalities, homeserver, reconciler, metrics, log, signal: stopped.signal, clock, scheduler, retry, storeMissed });
    teardown.push(async () => { for (const cap of capabilities) await cap.stop?.(); });
    // Stopped before the capabilities (teardown runs in reverse).
    teardown.push(() => scheduler.stop());
    let crypto: CryptoEngine | undefined;
    const ignoredByCapabilities = ignoredByAll(capabilities);
    const inbox = new Inbox(database, { batch: async (roomId, batch) => {
      const failures = await routeBatch(capabilities, roomId, batch, (received) => {
        if (received.type === "m.room.encryption" && received.state_key === "") rooms.markEncrypted(received.room_id);
        // Only ciphertext waits for the crypto engine; anything else is routed as it is, at once.
        if (!crypto || received.type !== "m.room.encrypted") return { ev: decodeEvent(received), as: "event" as const };
        const engine = crypto;
        return (async () => {
          // Undefined: not decryptable now (its room key has not arrived, or never will): only the
          // archive keeps it, as ciphertext; a late key brings the decrypted event back through
          // runLate and every hook. A failure is this event's alone (logged; it counts as done, as
          // a handler bug does), not its batch's.
          let raw: RawEvent | undefined;
          try {
            raw = await engine.inbound(received, log);
          } catch (err) {
            if (err instanceof Interrupted) throw err;
            log.error({ err, eventId: received.event_id, roomId }, "room queue failure");
            return undefined;
          }
          return raw ? { ev: decodeEvent(raw), as: "event" as const } : { ev: decodeEvent(received), as: "undecrypted" as const };
        })();
      }, retry);
      return failures.map((mine, i) => {
        for (const f of mine) {
          metrics.handlerFailures.inc({ capability: f.capability });
          log.error({ err: f.error, capability: f.capability, eventId: batch[i]?.event_id, roomId }, "event handler failed");
        }
        return mine.map((f) => `${f.capability}: ${String(f.error)}`);
      });
    } }, metrics, log, {
      maxPendingEvents: opts.maxPendingEvents, maxPendingBytes: opts.maxPendingBytes, signal: stopped.signal, retryMs: opts.retryMs,
      // Ciphertext is always routed: decrypting it is the crypto engine's to do (and to count).
      ignores: (roomId, events) => events.every((e) => e.type !== "m.room.encrypted" && e.type !== "m.room.encryption") && ignoredByCapabilities(roomId, events),
    });
    teardown.push(async () => {
      await inbox.drain();
      await tasks.idle();
    });
    if (config.crypto.enabled) {
      crypto = new CryptoEngine({
        db: database, config, log: log.child({ capability: "crypto" }), bots: municipalities.all.map((m) => m.botUserId),
        fetch: gate.fetch, signal: stopped.signal, metrics, onLate: (event) => inbox.runLate(event),
      });
      rooms.encryptor = crypto;
      const engine = crypto;
      // Stopped after the inbox has drained (teardown runs in reverse), before the database closes.
      teardown.splice(1, 0, () => engine.stop());
    }

    const pingHomeserver = async (): Promise<void> => {
      await pingWithRetry({
        ping: () => homeserver.ping(config.appservice.id),
        homeserverUrl: config.homeserver.url,
        publicUrl: config.appservice.public_url,
        metrics, log, signal: stopped.signal,
      });
    };
    const recovery = watchRecovery(database, () => !inbox.relieved, metrics, log, pingHomeserver);
    teardown.push(() => recovery.stop());

    const readiness: Readiness = { listening: false };
    const app = express();
    app.disable("x-powered-by");
    app.use(healthRouter(database, metrics, readiness));
    if (config.metrics.enabled) app.use(metricsRouter(metrics));
    const appservice = intakeHandlers({
      config, inbox, database, recovery, municipalities, homeserver, metrics, log, stopping: () => stopped.signal.aborted,
      roomQuery: aliasQueryHandler(config, homeserver, reconciler),
    });
    app.use(appserviceRouter(appservice));
    app.use(() => {
      throw new MatrixHttpError(404, "M_UNRECOGNIZED", "unrecognized endpoint");
    });
    app.use(errorMiddleware(log));

    const recovered = await inbox.recover();
    if (recovered > 0) log.info({ transactions: recovered }, "resuming transactions stored before the last stop");

    // Transactions take a short way past express; every other request goes through it.
    const http = await listen(transactionRoute(appservice, log, app), config.appservice.port, config.appservice.bind_address);
    // Stop taking transactions first; those in flight are answered (and stored) before the rest.
    teardown.push(() => http.close());
    readiness.listening = true;
    log.info({ port: http.port, address: config.appservice.bind_address }, "Loket listening");
    // Start-up work that needs the homeserver runs once Loket listens: what it sends makes the
    // homeserver push transactions, and Synapse may lose one it made while Loket was not
    // reachable. It is retried until it succeeds, so that Loket can start before Synapse does
    // (docker-compose) and catch up when it appears.
    const startups: Promise<void>[] = [];
    for (const cap of capabilities) {
      if (!cap.start) continue;
      const startCap = cap.start.bind(cap);
      startups.push(new Promise((done) => {
        tasks.run(`${cap.name}.start`, () => withRetry(startCap, { ...retry(cap.name), isTransient: () => true, giveUpAfterMs: Infinity }).catch(() => undefined).finally(done));
      }));
    }
    tasks.run("homeserver.ping", pingHomeserver);
    scheduler.start();
    const prune = (): void => {
      tasks.run("inbox.prune", async () => {
        const deleted = await pruneProcessed(database, config.database.inbox_retention_days);
        if (deleted > 0) log.info({ deleted }, "pruned processed transactions from the inbox");
      });
    };
    prune();
    const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
    teardown.push(() => { clearInterval(pruneTimer); return Promise.resolve(); });
    stopped.signal.addEventListener("abort", () => { readiness.listening = false; });

    return {
      port: http.port,
      url: `http://${config.appservice.bind_address}:${http.port}`,
      database,
      metrics,
      started: async () => { await Promise.all(startups); },
      idle: () => inbox.drain(),
      runTimers: () => scheduler.tick(),
      async stop() {
        await stopAll();
        log.info("Loket stopped");
      },
    };
  } catch (err) {
    await stopAll().catch((e: unknown) => { log.warn({ err: e }, "cleanup after a failed start failed"); });
    throw err;
  }
}
