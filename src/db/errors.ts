// Telling an error about the data apart from an outage. PostgreSQL (and PGlite, the same server
// code) reports a SQLSTATE with each error; class 22 ("data exception": invalid byte sequence,
// a NUL in text, bad JSON escapes, ...) means the statement's content was refused, and sending
// the same content again will fail the same way. Anything else (connection errors have no
// SQLSTATE) may pass.

/** The SQLSTATE of a database error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when the database refused the statement for its content (SQLSTATE class 22). */
export function isContentError(err: unknown): boolean {
  return sqlState(err)?.startsWith("22") ?? false;
}
