// Liveness and readiness. /ready is 503 until Loket has migrated and listens, and whenever the
// database does not answer.
import express, { type Router } from "express";
import type { Database } from "../db/database.ts";
import type { Metrics } from "./metrics.ts";

export interface Readiness {
  listening: boolean;
}

export function healthRouter(db: Database, metrics: Metrics, state: Readiness): Router {
  const router = express.Router();
  router.get("/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/ready", async (_req, res) => {
    if (!state.listening) {
      res.status(503).json({ status: "starting" });
      return;
    }
    try {
      await db.ping(1_000);
      metrics.databaseUp.set(1);
      res.json({ status: "ready" });
    } catch {
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
