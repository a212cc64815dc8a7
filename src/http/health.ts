// Liveness and readiness. /ready is 503 until Loket has migrated and listens, and whenever the
// database does not answer. Every /ready shares one database check: at most one is in flight,
// and its result is reused for a short while, so that a flood of /ready requests costs at most
// one connection of the pool (a ping's timeout does not cancel its query).
import express, { type Router } from "express";
import type { Database } from "../db/database.ts";
import type { Metrics } from "./metrics.ts";

export interface Readiness {
  listening: boolean;
}

export interface HealthOptions {
  /** How long a /ready waits for the database (default 1 s). */
  timeoutMs?: number;
  /** How long a finished check's result is reused (default 1 s). */
  cacheMs?: number;
}

/**
 * One shared check: at most one runs at a time, however many callers wait for it (each gives up
 * after timeoutMs, the check itself goes on); its result is reused for cacheMs after it ends.
 */
export function sharedCheck(check: () => Promise<void>, timeoutMs: number, cacheMs: number): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  let last: { ok: boolean; at: number } | undefined;
  return async () => {
    if (last && performance.now() - last.at < cacheMs) return last.ok;
    running ??= check().then(() => true, () => false).then((ok) => {
      last = { ok, at: performance.now() };
      running = undefined;
      return ok;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false); }, timeoutMs); });
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export function healthRouter(db: Database, metrics: Metrics, state: Readiness, opts: HealthOptions = {}): Router {
  const router = express.Router();
  const timeoutMs = opts.timeoutMs ?? 1_000;
  // The query itself may run up to the pool's query timeout; only one ever does.
  const databaseAnswers = sharedCheck(() => db.ping(30_000), timeoutMs, opts.cacheMs ?? 1_000);
  router.get("/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/ready", async (_req, res) => {
    if (!state.listening) {
      res.status(503).json({ status: "starting" });
      return;
    }
    if (await databaseAnswers()) {
      metrics.databaseUp.set(1);
      res.json({ status: "ready" });
    } else {
      metrics.databaseUp.set(0);
      res.status(503).json({ status: "database unavailable" });
    }
  });
  return router;
}

export function metricsRouter(metrics: Metrics): Router {
  const router = express.Router();
  router.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
