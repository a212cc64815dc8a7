// Run as a child process (`node pglite-initdb.ts DIR`): creates a fresh PGlite data
// directory, that is PostgreSQL's initdb compiled to WebAssembly. It takes seconds of synchronous
// CPU and a second WebAssembly instance of a few hundred MB; in a process of its own, neither
// blocks Loket's event loop nor stays in Loket's resident memory.
import { PGlite } from "@electric-sql/pglite";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: pglite-initdb.ts DATA_DIR");
const db = await PGlite.create({ dataDir });
await db.close();
