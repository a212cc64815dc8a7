// The homeserver -> appservice API (spec: application-service-api). Every request must carry
// the hs_token; transactions are stored durably before the 200.
import { isUtf8 } from "node:buffer";
import { hash, timingSafeEqual } from "node:crypto";
import express, { type Request, type RequestHandler, type Router } from "express";
import { MatrixHttpError } from "../http/errors.ts";
import { percentDecodeBytes, readTransactionBody, type NotATransaction, type PoisonReason, type TransactionContent } from "./transaction-body.ts";

export type TransactionOutcome = "stored" | "duplicate" | "poison" | "empty" | "rejected" | "refused" | "failed";

export interface AppserviceHandlers {
  hsToken: string;
  maxBodyBytes: number;
  /**
   * Stores the transaction durably (`body`: the bytes to keep, as received). Throws a
   * MatrixHttpError to refuse it on purpose (shutting down, busy), anything else when it could
   * not be stored; either way the homeserver retries. "poison": the database refused its
   * content, and it was recorded as poison instead. A NotATransaction: decoding the content
   * (while it was stored) found it is not a transaction, and nothing of it stays stored.
   */
  onTransaction(txnId: string, body: Buffer, content: TransactionContent): Promise<"stored" | "duplicate" | "poison" | NotATransaction>;
  /**
   * Records a transaction Loket cannot use (raw id bytes and body as received); it is then
   * answered 200, so that the homeserver moves on. Throws when it could not be recorded.
   */
  onPoison(rawTxnId: Buffer, body: Buffer, reason: PoisonReason): Promise<void>;
  /** True when the user exists (or was just created) in Loket's namespace. */
  onUserQuery(userId: string): Promise<boolean>;
  onRoomQuery(alias: string): Promise<boolean>;
  onPing(transactionId: string | undefined): void;
  onTransactionOutcome(outcome: TransactionOutcome, err?: unknown): void;
  onAuthFailure(reason: "missing" | "invalid"): void;
}

/** The token of an `Authorization: Bearer …` header. */
export const bearerToken = (header: string | undefined): string | undefined => /^bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];

function tokenOf(req: Request): string | undefined {
  const bearer = bearerToken(req.get("authorization"));
  if (bearer) return bearer;
  const query = req.query.access_token;
  return typeof query === "string" ? query : undefined;
}

const digest = (s: string): Buffer => hash("sha256", s, "buffer");

/** Whether a token is the hs_token: digests compared, so constant-time and independent of the token's length. */
export function hsTokenCheck(hsToken: string): (token: string) => boolean {
  const expected = digest(hsToken);
  return (token) => timingSafeEqual(digest(token), expected);
}

function requireHsToken(h: AppserviceHandlers): RequestHandler {
  const isHsToken = hsTokenCheck(h.hsToken);
  return (req, _res, next) => {
    const token = tokenOf(req);
    if (token === undefined) {
      h.onAuthFailure("missing");
      throw new MatrixHttpError(401, "M_UNAUTHORIZED", "missing hs_token");
    }
    if (!isHsToken(token)) {
      h.onAuthFailure("invalid");
      throw new MatrixHttpError(403, "M_FORBIDDEN", "invalid hs_token");
    }
    next();
  };
}

/**
 * Takes one transaction: stores it, or records it as poison, or refuses it. Resolves when the
 * homeserver may be answered 200 ({}); throws a MatrixHttpError for any other answer.
 * `idSegment`: the last path segment as sent (percent-encoded).
 */
export async function receiveTransaction(h: AppserviceHandlers, idSegment: string, raw: Buffer): Promise<void> {
  // The id as sent, undecoded by the router, so that bytes that are not UTF-8 survive.
  const rawId = percentDecodeBytes(idSegment);
  const verdict = readTransactionBody(raw);
  if (verdict.kind === "invalid") {
    h.onTransactionOutcome("rejected");
    throw new MatrixHttpError(400, verdict.errcode, verdict.message);
  }
  // Any answer but 200 makes Synapse send the same transaction again, for ever, and nothing
  // after it: a transaction Loket cannot use is recorded as poison and acknowledged.
  if (verdict.kind === "poison" || !isUtf8(rawId)) {
    try {
      await h.onPoison(rawId, raw, verdict.kind === "poison" ? verdict.reason : "transaction_id");
    } catch (err) {
      h.onTransactionOutcome("failed", err);
      throw new MatrixHttpError(503, "M_UNKNOWN", "could not store the transaction; retry later");
    }
    h.onTransactionOutcome("poison");
    return;
  }
  if (verdict.kind === "empty") {
    h.onTransactionOutcome("empty");
    return;
  }
  let outcome: "stored" | "duplicate" | "poison" | NotATransaction;
  try {
    outcome = await h.onTransaction(rawId.toString("utf8"), verdict.body, verdict.content);
  } catch (err) {
    if (err instanceof MatrixHttpError) {
      h.onTransactionOutcome("refused", err);
      throw err;
    }
    h.onTransactionOutcome("failed", err);
    throw new MatrixHttpError(503, "M_UNKNOWN", "could not store the transaction; retry later");
  }
  if (typeof outcome !== "string") {
    h.onTransactionOutcome("rejected");
    throw new MatrixHttpError(400, outcome.errcode, outcome.message);
  }
  h.onTransactionOutcome(outcome);
}

/** Path segments after a wildcard, joined: Synapse leaves '/' in user ids unescaped. */
const rest = (param: unknown): string => (Array.isArray(param) ? param.join("/") : String(param));

/** PUT here: a transaction (the spec's path, and the legacy unprefixed one of older homeservers). */
export const TRANSACTION_PATH = /^(?:\/_matrix\/app\/v1)?\/transactions\/[^/]+$/;

export function appserviceRouter(h: AppserviceHandlers): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: h.maxBodyBytes });
  const json = express.json({ type: () => true, limit: "64kb" });

  const transaction: RequestHandler = async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    await receiveTransaction(h, req.path.slice(req.path.lastIndexOf("/") + 1), raw);
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
  // A pattern without capture groups: the router would answer 400 to an id it cannot decode.
  router.put(TRANSACTION_PATH, auth, raw, transaction);
  for (const prefix of ["/_matrix/app/v1", ""]) {
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
