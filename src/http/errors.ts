// User-facing errors apart from bugs: known failures carry a Matrix errcode and an HTTP status;
// anything else is logged and answered with a generic 500.
import type { ErrorRequestHandler } from "express";
import type { Logger } from "../logging.ts";

export class MatrixHttpError extends Error {
  readonly status: number;
  readonly errcode: string;
  constructor(status: number, errcode: string, message: string) {
    super(message);
    this.status = status;
    this.errcode = errcode;
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
}

function fromBodyParser(err: BodyParserError): MatrixHttpError | undefined {
  if (err.type === "entity.too.large") return new MatrixHttpError(413, "M_TOO_LARGE", "request body too large");
  if (err.type === "entity.parse.failed") return new MatrixHttpError(400, "M_NOT_JSON", "request body is not valid JSON");
  if (err.type === "encoding.unsupported" || err.type === "charset.unsupported") {
    return new MatrixHttpError(415, "M_UNKNOWN", "unsupported encoding");
  }
  // Express itself marks client mistakes it finds (a malformed %-escape in the path) as 400.
  if (err.status === 400) return new MatrixHttpError(400, "M_INVALID_PARAM", "malformed request");
  return undefined;
}

/** The answer to an error: its own when it is a known failure; else it is logged, and the answer is a generic 500. */
export function errorAnswer(err: unknown, log: Logger, request: { method?: string; path: string }): { status: number; body: { errcode: string; error: string } } {
  const known = err instanceof MatrixHttpError ? err : fromBodyParser(err as BodyParserError);
  if (known) return { status: known.status, body: { errcode: known.errcode, error: known.message } };
  log.error({ err, method: request.method, path: request.path }, "unhandled error in HTTP handler");
  return { status: 500, body: { errcode: "M_UNKNOWN", error: "internal error" } };
}

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const { status, body } = errorAnswer(err, log, req);
    res.status(status).json(body);
  };
}
