// The pure parts of the crypto store: the IndexedDB dump (schema and records survive, moved to
// another name), the seal (wrong key, other row, altered bytes are refused) and the config rule.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { committed, done, factory, type IdbDatabase } from "../../src/crypto/idb.ts";
import { deleteDatabases, dumpDatabases, restoreDatabases } from "../../src/crypto/idb-dump.ts";
import { deriveKeys, seal, unseal } from "../../src/crypto/seal.ts";

async function open(name: string, upgrade?: (db: IdbDatabase) => void): Promise<IdbDatabase> {
  const req = factory().open(name, 3);
  req.onupgradeneeded = () => upgrade?.(req.result);
  return done(req);
}

describe("IndexedDB dump", () => {
  it("restores schema, in-line and out-of-line keys, indexes and typed arrays under another name", async () => {
    const db = await open("src::matrix-sdk-crypto", (d) => {
      const inline = d.createObjectStore("sessions", { keyPath: ["room", "id"], autoIncrement: false });
      inline.createIndex("by_room", "room", { unique: false, multiEntry: false });
      d.createObjectStore("core", { keyPath: null, autoIncrement: false });
    });
    const tx = db.transaction(["sessions", "core"], "readwrite");
    tx.objectStore("sessions").put({ room: "!a", id: "s1", pickle: new Uint8Array([1, 2, 3]) });
    tx.objectStore("sessions").put({ room: "!b", id: "s2", pickle: new Uint8Array([4]) });
    tx.objectStore("core").put({ account: "pickled" }, "account");
    await committed(tx);
    db.close();

    const dump = await dumpDatabases("src");
    expect(dump.records).toHaveLength(3);
    expect(new Set(dump.records.map((r) => r.id)).size).toBe(3);
    await deleteDatabases("src");
    await restoreDatabases("dst", dump);

    const back = await open("dst::matrix-sdk-crypto");
    expect(back.version).toBe(3);
    const read = back.transaction(["sessions", "core"], "readonly");
    const sessions = read.objectStore("sessions");
    expect(Array.from(sessions.indexNames)).toEqual(["by_room"]);
    expect(await done(sessions.getAll())).toEqual([
      { room: "!a", id: "s1", pickle: new Uint8Array([1, 2, 3]) },
      { room: "!b", id: "s2", pickle: new Uint8Array([4]) },
    ]);
    expect(await done(read.objectStore("core").getAllKeys())).toEqual(["account"]);
    await committed(read);
    back.close();
    // The same content gives the same record ids and bytes: unchanged records are not rewritten.
    const again = await dumpDatabases("dst");
    expect(again.records.map((r) => [r.id, r.data.toString("hex")]).sort()).toEqual(dump.records.map((r) => [r.id, r.data.toString("hex")]).sort());
    await deleteDatabases("dst");
  });
});

describe("seal", () => {
  const keys = deriveKeys("a store key of some length");
  const sealed = seal(keys.dump, Buffer.from("olm pickle"), "@bot:hs");

  it("round-trips with the same key and row", () => {
    expect(unseal(keys.dump, sealed, "@bot:hs").toString()).toBe("olm pickle");
    expect(sealed.includes(Buffer.from("olm pickle"))).toBe(false);
  });

  it("refuses another key, another row and altered bytes", () => {
    expect(() => unseal(deriveKeys("another store key, long").dump, sealed, "@bot:hs")).toThrow(/wrong crypto.store_key/);
    expect(() => unseal(keys.dump, sealed, "@other:hs")).toThrow(/wrong crypto.store_key/);
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    expect(() => unseal(keys.dump, altered, "@bot:hs")).toThrow();
  });

  it("derives different keys for the dump and the machine's own store cipher", () => {
    expect(Buffer.from(keys.machine).equals(keys.dump)).toBe(false);
    expect(() => deriveKeys("short")).toThrow(/at least 16/);
  });
});

describe("crypto config", () => {
  const base = { appservice: { as_token: "4f1c0e2b9a7d", hs_token: "8e3a5d7c1b0f" } };
  it("needs a store key when enabled, and accepts it from the config", () => {
    expect(() => parseConfig({ ...base, crypto: { enabled: true } })).toThrow(/crypto.store_key/);
    const { config } = parseConfig({ ...base, crypto: { enabled: true, store_key: "0123456789abcdef0123" } });
    expect(config.crypto).toMatchObject({ enabled: true, store_key: "0123456789abcdef0123", sync_timeout_ms: 30_000 });
    expect(parseConfig(base).config.crypto.enabled).toBe(false);
  });

  it("reads the store and backup keys from files (store_key_file, backup_key_file)", () => {
    const dir = mkdtempSync(join(tmpdir(), "loket-crypto-cfg-"));
    writeFileSync(join(dir, "store"), "from-a-file-0123456789\n");
    writeFileSync(join(dir, "backup"), "CLLoULDnHwJDZs1jMvWyueOvVtTc0iMOeF9Rh8B18+w=\n");
    const { config } = parseConfig({ ...base, crypto: { enabled: true, store_key_file: join(dir, "store"), backup_key_file: join(dir, "backup") } });
    expect(config.crypto.store_key).toBe("from-a-file-0123456789");
    expect(config.crypto.backup_key).toBe("CLLoULDnHwJDZs1jMvWyueOvVtTc0iMOeF9Rh8B18+w=");
    rmSync(dir, { recursive: true, force: true });
  });
});
