// The short way for transactions (src/matrix/transaction-route.ts) must answer every request
// exactly as the express route does, and tell the handlers the same: each request below is sent
// as raw bytes to both, and the answers (status line, headers but Date and ETag, body) and the
// handlers' calls are compared. It must also be the way actually taken for a plain transaction.
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import express from "express";
import { describe, expect, it } from "vitest";
import { errorMiddleware, MatrixHttpError } from "../../src/http/errors.ts";
import type { Logger } from "../../src/logging.ts";
import { appserviceRouter, type AppserviceHandlers } from "../../src/matrix/appservice-api.ts";
import { transactionRoute } from "../../src/matrix/transaction-route.ts";
import { localServers } from "../harness/local-http.ts";

const TOKEN = "hs-token";
const TXN = JSON.stringify({ events: [{ event_id: "$a", room_id: "!r:hs", type: "m.room.message", sender: "@u:hs", content: { body: "x" } }] });

/** Fake handlers that write down every call; the transaction id says how onTransaction answers. */
function recorder(): { h: AppserviceHandlers; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const h: AppserviceHandlers = {
    hsToken: TOKEN,
    maxBodyBytes: 1000,
    onTransaction: (id, body) => {
      calls.push(["transaction", id, body.toString("utf8")]);
      if (id === "busy") return Promise.reject(new MatrixHttpError(503, "M_UNKNOWN", "busy; retry later"));
      if (id === "down") return Promise.reject(new Error("database down"));
      return Promise.resolve(id === "again" ? "duplicate" : "stored");
    },
    onPoison: (rawId, body, reason) => {
      calls.push(["poison", rawId.toString("hex"), body.length, reason]);
      return rawId.toString("utf8") === "poison-down" ? Promise.reject(new Error("database down")) : Promise.resolve();
    },
    onUserQuery: () => Promise.resolve(true),
    onRoomQuery: () => Promise.resolve(true),
    onPing: () => undefined,
    onTransactionOutcome: (outcome) => { calls.push(["outcome", outcome]); },
    onAuthFailure: (reason) => { calls.push(["auth", reason]); },
  };
  return { h, calls };
}

const silent = { error: () => undefined, warn: () => undefined } as unknown as Logger;

function expressApp(h: AppserviceHandlers): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(appserviceRouter(h));
  app.use(() => { throw new MatrixHttpError(404, "M_UNRECOGNIZED", "unrecognized endpoint"); });
  app.use(errorMiddleware(silent));
  return app;
}

/**
 * Sends the bytes on a connection of its own, without ending it (a half-closed connection may be
 * closed before the answer is written); resolves with the answer once the server closes it
 * (every request says Connection: close).
 */
function send(base: string, bytes: Buffer): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => { resolve(Buffer.concat(chunks).toString("latin1")); });
    socket.write(bytes);
  });
}

/** The answer without what may differ: header name case, Date, ETag. */
const normal = (answer: string): string =>
  answer.replace(/^([A-Za-z-]+):/gm, (_m, name: string) => `${name.toLowerCase()}:`).replace(/^(date|etag): .*\r\n/gm, "");

function request(path: string, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const payload = typeof body === "string" ? Buffer.from(body, "latin1") : body;
  const lines = [`PUT ${path} HTTP/1.1`, "Host: loket", "Connection: close", `Authorization: Bearer ${TOKEN}`, `Content-Length: ${payload.length}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === "Authorization") lines.splice(3, 1);
    if (value !== "") lines.push(`${name}: ${value}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

const T = "/_matrix/app/v1/transactions";
const CASES: Record<string, Buffer> = {
  "a transaction": request(`${T}/1`, TXN),
  "the legacy path": request("/transactions/1", TXN),
  "a duplicate": request(`${T}/again`, TXN),
  "no events": request(`${T}/2`, '{"events":[]}'),
  "not JSON": request(`${T}/3`, "{oops"),
  "not a transaction": request(`${T}/4`, '{"events":"none"}'),
  "an empty body": request(`${T}/5`, ""),
  "a body that is not UTF-8": request(`${T}/6`, "\xff\xfe"),
  "an id that is not UTF-8": request(`${T}/%FF%FE`, TXN),
  "an id of one NUL": request(`${T}/%00`, TXN),
  "a malformed escape": request(`${T}/%E0%A4%A`, TXN),
  "busy": request(`${T}/busy`, TXN),
  "the database down": request(`${T}/down`, TXN),
  "poison that cannot be recorded": request(`${T}/poison-down`, "\xff"),
  "a fragment": request(`${T}/7#part`, TXN),
  "a query string": request(`${T}/8?access_token=${TOKEN}`, TXN, { Authorization: "" }),
  "Bearer in capitals with spaces": request(`${T}/9`, TXN, { Authorization: `BEARER   ${TOKEN}  ` }),
  "a wrong token": request(`${T}/10`, TXN, { Authorization: "Bearer wrong" }),
  "no token": request(`${T}/11`, TXN, { Authorization: "" }),
  "a body over the limit": request(`${T}/12`, "x".repeat(1001)),
  "a gzipped body": request(`${T}/13`, gzipSync(TXN), { "Content-Encoding": "gzip" }),
  "an encoding express does not know": request(`${T}/14`, TXN, { "Content-Encoding": "compress" }),
  "the identity encoding": request(`${T}/15`, TXN, { "Content-Encoding": "identity" }),
};

describe("the short way for transactions", () => {
  const serve = localServers();

  it.each(Object.keys(CASES))("answers %s as the express route does", async (name) => {
    const bytes = CASES[name] as Buffer;
    const viaExpress = recorder();
    const viaShortWay = recorder();
    const expressOnly = await serve(expressApp(viaExpress.h));
    const shortWay = await serve(transactionRoute(viaShortWay.h, silent, expressApp(viaShortWay.h)));
    const expected = normal(await send(expressOnly, bytes));
    expect(expected).toMatch(/^HTTP\/1\.1 \d{3} /);
    expect(normal(await send(shortWay, bytes))).toBe(expected);
    expect(viaShortWay.calls).toEqual(viaExpress.calls);
  });

  it("is the way taken for a plain transaction, and not for a compressed one", async () => {
    const { h, calls } = recorder();
    const app = expressApp(h);
    let fellBack = 0;
    const base = await serve(transactionRoute(h, silent, (req, res) => { fellBack++; app(req, res); }));
    expect(await send(base, request(`${T}/1`, TXN))).toMatch(/^HTTP\/1\.1 200 /);
    expect(fellBack).toBe(0);
    expect(await send(base, request(`${T}/2`, gzipSync(TXN), { "Content-Encoding": "gzip" }))).toMatch(/^HTTP\/1\.1 200 /);
    expect(fellBack).toBe(1);
    // Unzipped by express, and stored as a transaction (not recorded as poison).
    expect(calls.filter((c) => c[0] === "transaction")).toEqual([["transaction", "1", TXN], ["transaction", "2", TXN]]);
  });
});
