// Archive media downloads go through the outgoing gate: the authenticated media API as the bot,
// the gate's concurrency accounting, and its per-request timeout, which also cuts off a body
// that stalls half-way (no partial blob is left behind).
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blobPath } from "../../src/archive/blobs.ts";
import { download } from "../../src/archive/media.ts";
import { HomeserverGate } from "../../src/matrix/gate.ts";
import { localServers } from "../harness/local-http.ts";

const serve = localServers();

const row = { event_id: "$e", url: "mxc://hs.example/abc", bot: "@bot:hs.example", attempts: 0, mime: null };
const FILE = Buffer.from("a file of the archive");

describe("archive media downloads", () => {
  it("use the authenticated media API as the bot, through the gate", async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(`${req.url ?? ""} ${req.headers.authorization ?? ""}`);
      res.writeHead(200, { "content-type": "text/plain" }).end(FILE);
    });
    let most = 0;
    const gate = new HomeserverGate({ maxConcurrent: 1, requestTimeoutMs: 5_000, firstPauseMs: 20, maxPauseMs: 40, onChange: (s) => { most = Math.max(most, s.inFlight); } });
    const blobDir = mkdtempSync(join(tmpdir(), "loket-media-"));
    const got = await download(row, { homeserverUrl: url, fetch: gate.fetch, asToken: "as-token", blobDir, signal: new AbortController().signal });
    const sha = createHash("sha256").update(FILE).digest("hex");
    expect(got).toEqual({ sha256: sha, size: FILE.length, mime: "text/plain" });
    expect(readFileSync(blobPath(blobDir, sha)).equals(FILE)).toBe(true);
    expect(seen).toEqual(["/_matrix/client/v1/media/download/hs.example/abc?user_id=%40bot%3Ahs.example&allow_redirect=true Bearer as-token"]);
    expect(most).toBe(1);
  });

  it("give up on a body that stalls, after the gate's request timeout, leaving no partial file", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1000" });
      res.write(FILE); // and never the rest
    });
    const gate = new HomeserverGate({ maxConcurrent: 1, requestTimeoutMs: 200, firstPauseMs: 20, maxPauseMs: 40 });
    const blobDir = mkdtempSync(join(tmpdir(), "loket-media-"));
    await expect(download(row, { homeserverUrl: url, fetch: gate.fetch, asToken: "t", blobDir, signal: new AbortController().signal })).rejects.toThrow();
    expect(readdirSync(join(blobDir, "tmp"))).toEqual([]);
    expect(readdirSync(blobDir)).toEqual(["tmp"]);
  });
});
