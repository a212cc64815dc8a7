// Structured JSON logs. Tokens are redacted wherever they appear as fields; message bodies are
// only ever logged at debug level by the code that handles them.
import { pino, type Logger } from "pino";

export type { Logger };

export interface LoggingOptions {
  level: string;
  file: string;
}

const REDACT = [
  "as_token", "hs_token", "access_token", "password", "token", "authorization",
  "*.as_token", "*.hs_token", "*.access_token", "*.password", "*.token", "*.authorization",
  "req.headers.authorization",
];

export function createLogger(opts: LoggingOptions): Logger {
  const destination = opts.file === "" ? pino.destination(1) : pino.destination({ dest: opts.file, mkdir: true });
  return pino({ level: opts.level, base: { app: "loket" }, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}
