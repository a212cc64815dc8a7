// The composition root: start(config) builds Loket and returns a handle to stop it.
// The CLI and the integration tests both call this one function.
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import express from "express";
import { createCapabilities } from "./capabilities.ts";
import type { Config } from "./config/schema.ts";
import { route } from "./core/capability.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { errorMiddleware } from "./http/errors.ts";
import { healthRouter, metricsRouter, type Readiness } from "./http/health.ts";
import { createMetrics, type Metrics } from "./http/metrics.ts";
import { Inbox } from "./inbox/inbox.ts";
import { watchRecovery } from "./inbox/recovery.ts";
import { createLogger, type Logger } from "./logging.ts";
import { appserviceRouter } from "./matrix/appservice-api.ts";
import { Homeserver } from "./matrix/client.ts";
import { decodeEvent } from "./matrix/events.ts";
import { Municipalities } from "./tenants/municipalities.ts";
import { createTasks } from "./util/tasks.ts";

export interface StartOptions {
  logger?: Logger;
  /** Retry interval for start-up work that needs the homeserver (default 5 s). */
  retryMs?: number;
}

export interface LoketApp {
  readonly port: number;
  readonly url: string;
  readonly database: Database;
  readonly metrics: Metrics;
  /** Resolves when every event received so far has been processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function start(config: Config, opts: StartOptions = {}): Promise<LoketApp> {
  const log = opts.logger ?? createLogger(config.logging);
  const metrics = createMetrics();
  const tasks = createTasks(log, metrics);

  const database = await openDatabase({ url: config.database.url, dataDir: config.database.data_dir, poolSize: config.database.pool_size });
  try {
    const applied = await migrate(database);
    log.info({ store: database.kind, applied }, "database ready");
  } catch (err) {
    await database.close();
    throw err;
  }

  const homeserver = new Homeserver({ url: config.homeserver.url, asToken: config.appservice.as_token, log });
  const municipalities = new Municipalities(config);
  const capabilities = createCapabilities({ municipalities, homeserver, log });
  const inbox = new Inbox(database, async (raw) => {
    const failures = await route(capabilities, decodeEvent(raw));
    for (const f of failures) {
      metrics.handlerFailures.inc({ capability: f.capability });
      log.error({ err: f.error, capability: f.capability, eventId: raw.event_id, roomId: raw.room_id }, "event handler failed");
    }
    return failures.map((f) => `${f.capability}: ${String(f.error)}`);
  }, metrics, log);

  let stopping = false;
  const stopped = new AbortController();
  const retryMs = opts.retryMs ?? 5_000;
  // Start-up work that needs the homeserver is retried until it succeeds, so that Loket can
  // start before Synapse does (docker-compose) and catch up when it appears.
  for (const cap of capabilities) {
    if (!cap.start) continue;
    const startCap = cap.start.bind(cap);
    tasks.run(`${cap.name}.start`, async () => {
      while (!stopped.signal.aborted) {
        try {
          await startCap();
          return;
        } catch (err) {
          log.error({ err, capability: cap.name }, `start-up of ${cap.name} failed; retrying in ${retryMs} ms`);
          await sleep(retryMs, undefined, { signal: stopped.signal }).catch(() => undefined);
        }
      }
    });
  }

  const pingHomeserver = async (): Promise<void> => {
    const res = await homeserver.ping(config.appservice.id);
    if (res.ok) log.info({ durationMs: res.durationMs }, "homeserver reaches Loket (appservice ping)");
    else log.error({ errcode: res.errcode, error: res.error, url: config.appservice.public_url }, "the homeserver cannot reach Loket: check appservice.public_url, the tokens and the registration file");
  };
  const recovery = watchRecovery(database, metrics, log, pingHomeserver);

  const readiness: Readiness = { listening: false };
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRouter(database, metrics, readiness));
  if (config.metrics.enabled) app.use(metricsRouter(metrics));
  app.use(appserviceRouter({
    hsToken: config.appservice.hs_token,
    maxBodyBytes: config.appservice.max_body_bytes,
    onTransaction: (txnId, body, txn) => inbox.receive(txnId, body, txn),
    onUserQuery: async (userId) => {
      const bot = municipalities.byBotUserId(userId);
      if (!bot) return false;
      await homeserver.ensureRegistered(userId.slice(1, userId.indexOf(":")));
      return true;
    },
    onRoomQuery: () => Promise.resolve(false),
    onPing: (transactionId) => { log.debug({ transactionId }, "ping from the homeserver"); },
    accepting: () => !stopping,
    onTransactionOutcome: (outcome, err) => {
      metrics.transactions.inc({ outcome });
      if (outcome === "failed") {
        log.error({ err }, "could not store a transaction; answered 503 so the homeserver retries");
        recovery.storeFailed();
      }
    },
  }));
  app.use(errorMiddleware(log));

  const recovered = await inbox.recover();
  if (recovered > 0) log.info({ transactions: recovered }, "resuming transactions stored before the last stop");

  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.appservice.port, config.appservice.bind_address, resolve);
  });
  readiness.listening = true;
  const port = (server.address() as AddressInfo).port;
  log.info({ port, address: config.appservice.bind_address }, "Loket listening");
  tasks.run("homeserver.ping", pingHomeserver);

  return {
    port,
    url: `http://${config.appservice.bind_address}:${port}`,
    database,
    metrics,
    idle: () => inbox.drain(),
    async stop() {
      stopping = true;
      stopped.abort();
      readiness.listening = false;
      recovery.stop();
      // Stop taking connections; in-flight transactions finish and are stored first.
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      server.closeAllConnections();
      await inbox.drain();
      await tasks.idle();
      await database.close();
      log.info("Loket stopped");
    },
  };
}
