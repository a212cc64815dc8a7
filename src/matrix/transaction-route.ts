// The short way for what the homeserver sends most: a transaction with a valid hs_token in its
// Authorization header and a Content-Length within the limit. It takes the same steps as the
// express route (receiveTransaction) without express's routing, body parser and response
// helpers, which cost more per transaction than storing it. Anything else (another endpoint or
// method, a query string or fragment, no or a wrong token, no Content-Length, a body too large,
// a Content-Encoding) goes to the express app, which answers it as before, errors and metrics
// included (express unzips a compressed body, and refuses an encoding it does not know).
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { errorAnswer } from "../http/errors.ts";
import type { Logger } from "../logging.ts";
import { bearerToken, hsTokenCheck, receiveTransaction, TRANSACTION_PATH, type AppserviceHandlers } from "./appservice-api.ts";

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) }).end(body);
}

function readBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    // A request cut short has nobody left to answer.
    req.on("error", () => { resolve(undefined); });
    // One chunk (most bodies) is the body as it is: no copy.
    req.on("end", () => { resolve(received !== length ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)); });
  });
}

export function transactionRoute(h: AppserviceHandlers, log: Logger, fallback: RequestListener): RequestListener {
  const isHsToken = hsTokenCheck(h.hsToken);
  return (req, res) => {
    const url = req.url ?? "";
    const token = bearerToken(req.headers.authorization);
    const length = Number(req.headers["content-length"] ?? Number.NaN);
    const encoding = req.headers["content-encoding"];
    if (req.method !== "PUT" || /[?#]/.test(url) || !TRANSACTION_PATH.test(url) || token === undefined
      || !Number.isSafeInteger(length) || length > h.maxBodyBytes || (encoding !== undefined && encoding.toLowerCase() !== "identity")
      || !isHsToken(token)) {
      fallback(req, res);
      return;
    }
    void readBody(req, length).then(async (body) => {
      if (body === undefined) return;
      try {
        await receiveTransaction(h, url.slice(url.lastIndexOf("/") + 1), body);
        answer(res, 200, "{}");
      } catch (err) {
        const { status, body: error } = errorAnswer(err, log, { method: req.method, path: url });
        answer(res, status, JSON.stringify(error));
      }
    }).catch((err: unknown) => {
      // Answering failed (the connection is gone, or an answer was half written): nothing left to tell the homeserver.
      log.warn({ err, path: url }, "could not answer a transaction");
      res.destroy();
    });
  };
}
