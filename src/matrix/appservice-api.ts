// The homeserver -> appservice API (spec: application-service-api). Every request must carry
// the hs_token; transactions are stored durably before the 200.
import { timingSafeEqual } from "node:crypto";
import express, { type Request, type RequestHandler, type Router } from "express";
import { MatrixHttpError } from "../http/errors.ts";
import { decodeTransaction, type DecodedTransaction } from "./events.ts";

export interface AppserviceHandlers {
  hsToken: string;
  maxBodyBytes: number;
  /** Stores the transaction durably; throws when it cannot (the homeserver will retry). */
  onTransaction(txnId: string, body: string, txn: DecodedTransaction): Promise<"stored" | "duplicate">;
  /** True when the user exists (or was just created) in Loket's namespace. */
  onUserQuery(userId: string): Promise<boolean>;
  onRoomQuery(alias: string): Promise<boolean>;
  onPing(transactionId: string | undefined): void;
  /** False while Loket is shutting down: transactions get 503 and the homeserver retries. */
  accepting(): boolean;
  onTransactionOutcome(outcome: "stored" | "duplicate" | "rejected" | "failed", err?: unknown): void;
}

function tokenOf(req: Request): string | undefined {
  const header = req.get("authorization");
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  const query = req.query.access_token;
  return typeof query === "string" ? query : undefined;
}

function requireHsToken(hsToken: string): RequestHandler {
  const expected = Buffer.from(hsToken);
  return (req, _res, next) => {
    const token = tokenOf(req);
    if (token === undefined) throw new MatrixHttpError(401, "M_UNAUTHORIZED", "missing hs_token");
    const given = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new MatrixHttpError(403, "M_FORBIDDEN", "invalid hs_token");
    }
    next();
  };
}

export function appserviceRouter(h: AppserviceHandlers): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: h.maxBodyBytes });
  const json = express.json({ type: () => true, limit: "64kb" });

  const transaction: RequestHandler = async (req, res) => {
    if (!h.accepting()) throw new MatrixHttpError(503, "M_UNKNOWN", "shutting down; retry later");
    const body = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      h.onTransactionOutcome("rejected");
      throw new MatrixHttpError(400, "M_NOT_JSON", "transaction body is not valid JSON");
    }
    const txn = decodeTransaction(parsed);
    if (typeof txn === "string") {
      h.onTransactionOutcome("rejected");
      throw new MatrixHttpError(400, "M_BAD_JSON", `not a transaction: ${txn}`);
    }
    let outcome: "stored" | "duplicate";
    try {
      outcome = await h.onTransaction(String(req.params.txnId), body, txn);
    } catch (err) {
      h.onTransactionOutcome("failed", err);
      throw new MatrixHttpError(503, "M_UNKNOWN", "could not store the transaction; retry later");
    }
    h.onTransactionOutcome(outcome);
    res.json({});
  };

  const users: RequestHandler = async (req, res) => {
    if (!(await h.onUserQuery(String(req.params.userId)))) {
      throw new MatrixHttpError(404, "M_NOT_FOUND", "no such user");
    }
    res.json({});
  };

  const rooms: RequestHandler = async (req, res) => {
    if (!(await h.onRoomQuery(String(req.params.alias)))) {
      throw new MatrixHttpError(404, "M_NOT_FOUND", "no such room alias");
    }
    res.json({});
  };

  const ping: RequestHandler = (req, res) => {
    const body = req.body as { transaction_id?: unknown } | undefined;
    h.onPing(typeof body?.transaction_id === "string" ? body.transaction_id : undefined);
    res.json({});
  };

  const auth = requireHsToken(h.hsToken);
  for (const prefix of ["/_matrix/app/v1", ""]) {
    router.put(`${prefix}/transactions/:txnId`, auth, raw, transaction);
    router.get(`${prefix}/users/:userId`, auth, users);
    router.get(`${prefix}/rooms/:alias`, auth, rooms);
  }
  router.post("/_matrix/app/v1/ping", auth, json, ping);
  // Third-party protocol lookups: Loket offers none.
  router.get("/_matrix/app/v1/thirdparty/*path", auth, () => {
    throw new MatrixHttpError(404, "M_NOT_FOUND", "no third-party protocols");
  });
  router.use("/_matrix/app", auth, () => {
    throw new MatrixHttpError(404, "M_UNRECOGNIZED", "unrecognized appservice endpoint");
  });
  return router;
}
