// Reads every IndexedDB database whose name starts with a prefix (the OlmMachine's store) out of
// fake-indexeddb, and writes such a dump back into a fresh one. Schema (version, object stores,
// key paths, indexes) and records (keys and values) survive; values are structured-clone data
// (typed arrays included), so the dump is serialised with node:v8, not JSON.
import { deserialize, serialize } from "node:v8";
import { committed, done, factory, type IdbDatabase, type IdbOpenRequest } from "./idb.ts";

interface IndexDump { name: string; keyPath: string | string[]; unique: boolean; multiEntry: boolean }
interface StoreDump {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexDump[];
  keys: unknown[];
  values: unknown[];
}
/** One database; `suffix` is its name without the prefix, so a dump can move to another prefix. */
interface DatabaseDump { suffix: string; version: number; stores: StoreDump[] }

const FORMAT = 1;

function opened(req: IdbOpenRequest): Promise<IdbDatabase> {
  req.onblocked = () => undefined;
  return done(req);
}

/** The databases under `prefix`, each read in one readonly transaction (a consistent cut). */
export async function dumpDatabases(prefix: string): Promise<Buffer> {
  const idb = factory();
  const names = (await idb.databases()).map((d) => d.name ?? "").filter((n) => n.startsWith(prefix)).sort();
  const dbs: DatabaseDump[] = [];
  for (const name of names) {
    const db = await opened(idb.open(name));
    try {
      const storeNames = Array.from(db.objectStoreNames);
      const stores: StoreDump[] = [];
      if (storeNames.length > 0) {
        const tx = db.transaction(storeNames, "readonly");
        const reads = storeNames.map(async (storeName) => {
          const store = tx.objectStore(storeName);
          const indexes = Array.from(store.indexNames).map((i) => {
            const idx = store.index(i);
            return { name: idx.name, keyPath: idx.keyPath, unique: idx.unique, multiEntry: idx.multiEntry };
          });
          // getAll and getAllKeys both walk the primary key order, so they line up.
          const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
          return { name: storeName, keyPath: store.keyPath, autoIncrement: store.autoIncrement, indexes, keys, values };
        });
        stores.push(...(await Promise.all(reads)));
        await committed(tx);
      }
      dbs.push({ suffix: name.slice(prefix.length), version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return serialize({ format: FORMAT, dbs });
}

/** Recreates the dumped databases under `prefix`; none of them may exist yet. */
export async function restoreDatabases(prefix: string, dump: Buffer): Promise<void> {
  const parsed = deserialize(dump) as { format: number; dbs: DatabaseDump[] };
  if (parsed.format !== FORMAT) throw new Error(`unknown crypto store dump format ${parsed.format}`);
  const idb = factory();
  for (const d of parsed.dbs) {
    const req = idb.open(prefix + d.suffix, d.version);
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
      for (const s of d.stores) {
        const store = tx.objectStore(s.name);
        s.values.forEach((value, i) => {
          // In-line keys come from the value itself; out-of-line keys are given.
          if (s.keyPath === null) store.put(value, s.keys[i]);
          else store.put(value);
        });
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
