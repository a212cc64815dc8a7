// Reads every IndexedDB database whose name starts with a prefix (the OlmMachine's store) out of
// fake-indexeddb, and writes such a dump back into a fresh one. The dump is a schema (database
// versions, object stores, key paths, indexes) plus one record per stored key and value, each
// serialised with node:v8 (values are structured-clone data with typed arrays: JSON would not
// do). Records carry a stable id, so that the caller can write only the records that changed.
import { createHash } from "node:crypto";
import { deserialize, serialize } from "node:v8";
import { committed, done, factory, type IdbDatabase, type IdbOpenRequest } from "./idb.ts";

interface IndexSchema { name: string; keyPath: string | string[]; unique: boolean; multiEntry: boolean }
interface StoreSchema { name: string; keyPath: string | string[] | null; autoIncrement: boolean; indexes: IndexSchema[] }
/** One database; `suffix` is its name without the prefix, so a dump can move to another prefix. */
interface DatabaseSchema { suffix: string; version: number; stores: StoreSchema[] }

export interface DumpRecord {
  /** sha256 over database suffix, store name and key: the same key keeps the same id. */
  id: string;
  /** v8-serialised { db, store, key, value }. */
  data: Buffer;
}

export interface Dump {
  schema: Buffer;
  records: DumpRecord[];
}

const FORMAT = 2;

function opened(req: IdbOpenRequest): Promise<IdbDatabase> {
  req.onblocked = () => undefined;
  return done(req);
}

/** The databases under `prefix`, each read in one readonly transaction (a consistent cut). */
export async function dumpDatabases(prefix: string): Promise<Dump> {
  const idb = factory();
  const names = (await idb.databases()).map((d) => d.name ?? "").filter((n) => n.startsWith(prefix)).sort();
  const schemas: DatabaseSchema[] = [];
  const records: DumpRecord[] = [];
  for (const name of names) {
    const suffix = name.slice(prefix.length);
    const db = await opened(idb.open(name));
    try {
      const storeNames = Array.from(db.objectStoreNames);
      const stores: StoreSchema[] = [];
      if (storeNames.length > 0) {
        const tx = db.transaction(storeNames, "readonly");
        const reads = storeNames.map(async (storeName) => {
          const store = tx.objectStore(storeName);
          const indexes = Array.from(store.indexNames).map((i) => {
            const idx = store.index(i);
            return { name: idx.name, keyPath: idx.keyPath, unique: idx.unique, multiEntry: idx.multiEntry };
          });
          stores.push({ name: storeName, keyPath: store.keyPath, autoIncrement: store.autoIncrement, indexes });
          // getAll and getAllKeys both walk the primary key order, so they line up.
          const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
          keys.forEach((key, i) => {
            const id = createHash("sha256").update(suffix).update("\0").update(storeName).update("\0").update(serialize(key)).digest("hex");
            records.push({ id, data: serialize({ db: suffix, store: storeName, key, value: values[i] }) });
          });
        });
        await Promise.all(reads);
        await committed(tx);
      }
      stores.sort((a, b) => a.name.localeCompare(b.name));
      schemas.push({ suffix, version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return { schema: serialize({ format: FORMAT, dbs: schemas }), records };
}

/** Recreates the dumped databases under `prefix`; none of them may exist yet. */
export async function restoreDatabases(prefix: string, dump: { schema: Buffer; records: Iterable<{ data: Buffer }> }): Promise<void> {
  const parsed = deserialize(dump.schema) as { format: number; dbs: DatabaseSchema[] };
  if (parsed.format !== FORMAT) throw new Error(`unknown crypto store dump format ${parsed.format}`);
  const bySuffix = new Map<string, { store: string; key: unknown; value: unknown }[]>();
  for (const r of dump.records) {
    const rec = deserialize(r.data) as { db: string; store: string; key: unknown; value: unknown };
    const list = bySuffix.get(rec.db) ?? [];
    list.push(rec);
    bySuffix.set(rec.db, list);
  }
  const idb = factory();
  for (const d of parsed.dbs) {
    const req = idb.open(prefix + d.suffix, d.version);
    const inline = new Map(d.stores.map((s) => [s.name, s.keyPath !== null]));
    req.onupgradeneeded = () => {
      const db = req.result;
      if (db.objectStoreNames.length > 0) throw new Error(`IndexedDB database ${db.name} already exists`);
      for (const s of d.stores) {
        const store = db.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const i of s.indexes) store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
      }
    };
    const db = await opened(req);
    try {
      if (d.stores.length === 0) continue;
      const tx = db.transaction(d.stores.map((s) => s.name), "readwrite");
      for (const rec of bySuffix.get(d.suffix) ?? []) {
        // In-line keys come from the value itself; out-of-line keys are given.
        if (inline.get(rec.store) === true) tx.objectStore(rec.store).put(rec.value);
        else tx.objectStore(rec.store).put(rec.value, rec.key);
      }
      await committed(tx);
    } finally {
      db.close();
    }
  }
}

/** Deletes the databases under `prefix` (after the machine that used them is closed). */
export async function deleteDatabases(prefix: string): Promise<void> {
  const idb = factory();
  for (const d of await idb.databases()) {
    if (d.name?.startsWith(prefix)) await done(idb.deleteDatabase(d.name));
  }
}
