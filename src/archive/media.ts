// The media download queue: archive_media rows with status 'pending', downloaded through the
// homeserver's authenticated media API as the municipality's bot, stored by SHA-256. Downloads go
// through the outgoing gate (src/matrix/gate.ts) like every call to the homeserver: its
// concurrency limit, its circuit breaker, and its per-request timeout, which covers reading the
// body too (a server that stalls mid-file is cut off). A failed download is tried again with
// back-off (5 s doubling up to archive.media_retry_max_seconds), for as long as it takes: never
// given up, never forgotten.
import { Readable } from "node:stream";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logging.ts";
import { storeBlob } from "./blobs.ts";
import { parseMxc } from "./media-refs.ts";

export interface MediaOptions {
  homeserverUrl: string;
  /** The gate's fetch (Homeserver.fetch). */
  fetch: (input: URL, init: RequestInit) => Promise<Response>;
  asToken: string;
  blobDir: string;
  maxDelaySeconds: number;
  log: Logger;
  signal: AbortSignal;
}

export interface PendingMedia {
  event_id: string;
  url: string;
  bot: string;
  attempts: number;
  mime: string | null;
}

/** Downloads what is due; returns how many were stored. */
export async function downloadPending(db: Database, opts: MediaOptions, batch = 20): Promise<number> {
  let stored = 0;
  const stopping = (): boolean => opts.signal.aborted;
  for (;;) {
    if (stopping()) return stored;
    const rows = await db.query<PendingMedia>(
      `SELECT event_id, url, bot, attempts, mime FROM archive_media
       WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1`,
      [batch],
    );
    if (rows.length === 0) return stored;
    for (const row of rows) {
      if (stopping()) return stored;
      try {
        const got = await download(row, opts);
        await db.query(
          `UPDATE archive_media SET status = 'stored', sha256 = $3, size = $4, mime = COALESCE($5, mime), stored_at = now(),
             attempts = attempts + 1, last_error = NULL WHERE event_id = $1 AND url = $2`,
          [row.event_id, row.url, got.sha256, got.size, got.mime],
        );
        stored++;
      } catch (err) {
        const delay = Math.min(5 * 2 ** row.attempts, opts.maxDelaySeconds);
        opts.log.warn({ err: String(err), url: row.url, eventId: row.event_id, attempts: row.attempts + 1, delaySeconds: delay }, "media download failed; will retry");
        await db.query(
          `UPDATE archive_media SET attempts = attempts + 1, last_error = $3, next_attempt_at = now() + make_interval(secs => $4)
           WHERE event_id = $1 AND url = $2`,
          [row.event_id, row.url, String(err).slice(0, 500), delay],
        );
      }
    }
  }
}

/** Downloads one file into the blob store; throws when it could not be fetched whole. */
export async function download(row: PendingMedia, opts: Pick<MediaOptions, "homeserverUrl" | "fetch" | "asToken" | "blobDir" | "signal">): Promise<{ sha256: string; size: number; mime: string | null }> {
  const mxc = parseMxc(row.url);
  if (!mxc) throw new Error("malformed mxc url");
  const url = new URL(`/_matrix/client/v1/media/download/${encodeURIComponent(mxc.server)}/${encodeURIComponent(mxc.mediaId)}`, opts.homeserverUrl);
  url.searchParams.set("user_id", row.bot);
  url.searchParams.set("allow_redirect", "true");
  const res = await opts.fetch(url, { headers: { authorization: `Bearer ${opts.asToken}` }, signal: opts.signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`homeserver answered ${res.status}`);
  }
  const { sha256, size } = await storeBlob(opts.blobDir, Readable.fromWeb(res.body));
  return { sha256, size, mime: row.mime ?? res.headers.get("content-type") };
}
