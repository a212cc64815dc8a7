import { afterEach, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express from "express";
import type { Database } from "../../src/db/database.ts";
import { healthRouter } from "../../src/http/health.ts";
import { createMetrics } from "../../src/http/metrics.ts";

let server: Server | undefined;
afterEach(() => { server?.close(); });

/** A database whose pings hang until released; counts them. */
function hangingDatabase() {
  const waiting: (() => void)[] = [];
  let pings = 0;
  const db = {
    ping: () => {
      pings++;
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
  } as unknown as Database;
  return { db, pings: () => pings, release: () => { for (const w of waiting.splice(0)) w(); } };
}

async function serve(db: Database): Promise<string> {
  const app = express();
  app.use(healthRouter(db, createMetrics(), { listening: true }, { timeoutMs: 50, cacheMs: 60_000 }));
  const s = app.listen(0, "127.0.0.1");
  server = s;
  await new Promise<void>((r) => s.once("listening", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe("/ready", () => {
  it("a flood of requests against a hanging database runs one query, and each answers 503 at its timeout", async () => {
    const { db, pings, release } = hangingDatabase();
    const url = await serve(db);
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${url}/ready`).then((r) => r.status)));
    expect(answers).toEqual(Array(50).fill(503));
    expect(pings()).toBe(1);
    release();
  });

  it("reuses a finished check's result", async () => {
    let pings = 0;
    const url = await serve({ ping: () => { pings++; return Promise.resolve(); } } as unknown as Database);
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect(pings).toBe(1);
  });
});
