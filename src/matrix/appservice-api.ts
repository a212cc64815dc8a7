// The homeserver -> appservice API (spec: application-service-api). Every request must carry
// the hs_token; transactions are stored durably before the 200.
import { createHash, timingSafeEqual } from "node:crypto";
import express, { type Request, type RequestHandler, type Router } from "express";
import { MatrixHttpError } from "../http/errors.ts";
import { decodeTransaction, type DecodedTransaction } from "./events.ts";

export interface AppserviceHandlers {
  hsToken: string;
  maxBodyBytes: number;
  /**
   * Stores the transaction durably. Throws a MatrixHttpError to refuse it on purpose (shutting
   * down, busy), anything else when it could not be stored; either way the homeserver retries.
   */
  onTransaction(txnId: string, body: string, txn: DecodedTransaction): Promise<"stored" | "duplicate">;
  /** True when the user exists (or was just created) in Loket's namespace. */
  onUserQuery(userId: string): Promise<boolean>;
  onRoomQuery(alias: string): Promise<boolean>;
  onPing(transactionId: string | undefined): void;
  onTransactionOutcome(outcome: "stored" | "duplicate" | "rejected" | "refused" | "failed", err?: unknown): void;
  onAuthFailure(reason: "missing" | "invalid"): void;
}

function tokenOf(req: Request): string | undefined {
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
  if (bearer?.[1]) return bearer[1];
  const query = req.query.access_token;
  return typeof query === "string" ? query : undefined;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

function requireHsToken(h: AppserviceHandlers): RequestHandler {
  // Comparing digests keeps the comparison constant-time and independent of the token length.
  const expected = digest(h.hsToken);
  return (req, _res, next) => {
    const token = tokenOf(req);
    if (token === undefined) {
      h.onAuthFailure("missing");
      throw new MatrixHttpError(401, "M_UNAUTHORIZED", "missing hs_token");
    }
    if (!timingSafeEqual(digest(token), expected)) {
      h.onAuthFailure("invalid");
      throw new MatrixHttpError(403, "M_FORBIDDEN", "invalid hs_token");
    }
    next();
  };
}

/** Path segments after a wildcard, joined: Synapse leaves '/' in user ids unescaped. */
const rest = (param: unknown): string => (Array.isArray(param) ? param.join("/") : String(param));

export function appserviceRouter(h: AppserviceHandlers): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: h.maxBodyBytes });
  const json = express.json({ type: () => true, limit: "64kb" });

  const transaction: RequestHandler = async (req, res) => {
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
      if (err instanceof MatrixHttpError) {
        h.onTransactionOutcome("refused", err);
        throw err;
      }
      h.onTransactionOutcome("failed", err);
      throw new MatrixHttpError(503, "M_UNKNOWN", "could not store the transaction; retry later");
    }
    h.onTransactionOutcome(outcome);
    res.json({});
  };

  const users: RequestHandler = async (req, res) => {
    if (!(await h.onUserQuery(rest(req.params.userId)))) throw new MatrixHttpError(404, "M_NOT_FOUND", "no such user");
    res.json({});
  };

  const rooms: RequestHandler = async (req, res) => {
    if (!(await h.onRoomQuery(rest(req.params.alias)))) throw new MatrixHttpError(404, "M_NOT_FOUND", "no such room alias");
    res.json({});
  };

  const ping: RequestHandler = (req, res) => {
    const body = req.body as { transaction_id?: unknown } | undefined;
    h.onPing(typeof body?.transaction_id === "string" ? body.transaction_id : undefined);
    res.json({});
  };

  const notFound = (): never => {
    throw new MatrixHttpError(404, "M_UNRECOGNIZED", "unrecognized endpoint");
  };
  const wrongMethod = (allow: string): RequestHandler => (_req, res) => {
    res.set("Allow", allow);
    throw new MatrixHttpError(405, "M_UNRECOGNIZED", "method not allowed on this endpoint");
  };

  const auth = requireHsToken(h);
  // The spec's paths, and the legacy unprefixed ones of older homeservers.
  for (const prefix of ["/_matrix/app/v1", ""]) {
    router.put(`${prefix}/transactions/:txnId`, auth, raw, transaction);
    router.get(`${prefix}/users/*userId`, auth, users);
    router.get(`${prefix}/rooms/*alias`, auth, rooms);
    router.all(`${prefix}/transactions/:txnId`, auth, wrongMethod("PUT"));
    router.all([`${prefix}/users/*userId`, `${prefix}/rooms/*alias`], auth, wrongMethod("GET"));
  }
  router.post("/_matrix/app/v1/ping", auth, json, ping);
  router.all("/_matrix/app/v1/ping", auth, wrongMethod("POST"));
  // Third-party protocol lookups: Loket offers none.
  router.get("/_matrix/app/v1/thirdparty/*path", auth, notFound);
  router.use("/_matrix", auth, notFound);
  return router;
}
