// Before start and migrate: one connection to PostgreSQL, so that an unreachable or misconfigured
// database ends in one clear line naming database.url (credentials redacted) and the cause,
// rather than in a driver's stack trace half-way through start-up.
import { redactCredentials } from "../config/redact.ts";
import type { Config } from "../config/schema.ts";
import { databaseOptions, openDatabase } from "../db/database.ts";
import { DatabaseTooNewError } from "../db/migrate.ts";
import { CliError } from "./errors.ts";

/** The cause of a connection failure in words: pg may throw an AggregateError with no message. */
export function causeOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e) => causeOf(e)))].join("; ");
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message !== "" ? err.message : typeof code === "string" ? code : err.name;
    return err.cause === undefined ? message : `${message} (${causeOf(err.cause)})`;
  }
  return String(err);
}

export async function checkDatabase(config: Config): Promise<void> {
  const url = config.database.url;
  if (url === "") return;
  const db = await openDatabase({ ...databaseOptions(config, 1), onConnectionError: () => undefined });
  try {
    await db.ping(10_000);
  } catch (err) {
    throw new CliError(`cannot use the PostgreSQL database at database.url ${redactCredentials(url)}: ${causeOf(err)}`, 2);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** Database failures during start-up or migration, as one line; other errors pass unchanged. */
export function asDatabaseError(err: unknown): unknown {
  if (err instanceof DatabaseTooNewError) return new CliError(err.message, 2);
  return err;
}
