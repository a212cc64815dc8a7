// The content-addressed blob store: a directory where each file is named by its SHA-256
// (<dir>/<first two hex>/<sha256>). Writes go to a temporary file first and are renamed into
// place, so a blob that exists is complete.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export function blobPath(dir: string, sha256: string): string {
  return join(dir, sha256.slice(0, 2), sha256);
}

export async function storeBlob(dir: string, source: Readable | AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const tmp = join(dir, "tmp", randomBytes(8).toString("hex"));
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(tmp));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const sha256 = hash.digest("hex");
  const dest = blobPath(dir, sha256);
  mkdirSync(join(dir, sha256.slice(0, 2)), { recursive: true });
  if (existsSync(dest)) rmSync(tmp);
  else renameSync(tmp, dest);
  return { sha256, size };
}

export function deleteBlob(dir: string, sha256: string): void {
  rmSync(blobPath(dir, sha256), { force: true });
}
