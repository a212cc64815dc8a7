// The audit log of the archive (BIO2 8.15): every read, export, destruction, hold and GDPR action
// as one row with actor, action, object, result, origin and time. Append-only (a trigger refuses
// UPDATE and DELETE) and chained like the records: hash = SHA-256(JCS(row + prev_hash)).
import { hostname, userInfo } from "node:os";
import type { Database, Queryable } from "../db/database.ts";
import { GENESIS_HASH, jcs, sha256Hex } from "./chain.ts";

// Any fixed number: serialises writers of the audit chain (transaction-scoped advisory lock).
const AUDIT_LOCK = 7_105_040_109;

export interface AuditEntry {
  actor: string;
  action: string;
  object: string;
  result: string;
}

export function auditOrigin(): string {
  let user = "unknown";
  try { user = userInfo().username; } catch { /* no passwd entry */ }
  return `cli ${user}@${hostname()} pid ${process.pid}`;
}

function auditHash(seq: number, at: string, e: AuditEntry & { origin: string }, prev: string): string {
  return sha256Hex(jcs({ seq, at, actor: e.actor, action: e.action, object: e.object, result: e.result, origin: e.origin, prev_hash: prev }));
}

export async function audit(db: Database, entry: AuditEntry, origin = auditOrigin()): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [AUDIT_LOCK]);
    const [last] = await tx.query<{ seq: string; hash: string }>("SELECT seq::text AS seq, hash FROM archive_audit ORDER BY archive_audit.seq DESC LIMIT 1");
    const seq = Number(last?.seq ?? 0) + 1;
    const prev = last?.hash ?? GENESIS_HASH;
    const at = new Date().toISOString();
    await tx.query(
      "INSERT INTO archive_audit (seq, at, actor, action, object, result, origin, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      [seq, at, entry.actor, entry.action, entry.object, entry.result, origin, prev, auditHash(seq, at, { ...entry, origin }, prev)],
    );
  });
}

/** Recomputes the audit chain in batches; returns the count and the first break, if any. */
export async function verifyAudit(db: Queryable): Promise<{ count: number; broken?: string }> {
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (;;) {
    const rows = await db.query<{ seq: string; at: Date; actor: string; action: string; object: string; result: string; origin: string; prev_hash: string; hash: string }>(
      "SELECT seq::text AS seq, at, actor, action, object, result, origin, prev_hash, hash FROM archive_audit WHERE seq > $1 ORDER BY archive_audit.seq LIMIT 1000",
      [prev.seq],
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== prev.seq + 1) return { count: prev.seq, broken: `audit entry #${prev.seq + 1} is missing` };
      if (r.prev_hash !== prev.hash || auditHash(seq, new Date(r.at).toISOString(), r, r.prev_hash) !== r.hash) {
        return { count: prev.seq, broken: `audit entry #${seq} (${r.action} ${r.object}) was altered` };
      }
      prev = { seq, hash: r.hash };
    }
    if (rows.length < 1000) return { count: prev.seq };
  }
}
