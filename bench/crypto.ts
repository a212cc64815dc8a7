// E2EE benchmark: decryptions and encryptions per second of one bot device (OlmMachine, WASM),
// and the cost of persisting its store (read fake-indexeddb, v8, sha256 per record, AES-256-GCM
// and one transaction that writes only the records that changed) as the store grows with inbound
// room keys. No homeserver: a second OlmMachine plays the citizen and the benchmark hands the
// to-device messages over. On PostgreSQL (DATABASE_URL or the local default) and on PGlite.
//   npm run bench:crypto [-- --messages 1000 --sessions 0,100,500 --rounds 5]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HistoryVisibility, initAsync, RoomId } from "@matrix-org/matrix-sdk-crypto-wasm";
import { pino } from "pino";
import { BotDevice } from "../src/crypto/bot.ts";
import { decryptWith } from "../src/crypto/decrypt.ts";
import { encryptionSettings } from "../src/crypto/encrypt.ts";
import { DeviceHttp } from "../src/crypto/http.ts";
import { deriveKeys } from "../src/crypto/seal.ts";
import { CryptoStoreRows } from "../src/crypto/store.ts";
import { openDatabase, type Database } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { OlmPeer, receiveToDevice, uploadKeys } from "../tests/harness/olm-peer.ts";
import { createTestDatabase } from "../tests/harness/postgres.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000" },
    sessions: { type: "string", default: "0,100,500" },
    rounds: { type: "string", default: "5" },
  },
});
const MESSAGES = Number(values.messages);
const SESSION_LEVELS = values.sessions.split(",").map(Number);
const ROUNDS = Number(values.rounds);
const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ROOM = "!bench:bench.test";
const USER = "@gemeente_bench:bench.test";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const perSecond = (n: number, ms: number): number => Math.round((n * 1000) / ms);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function bench(kind: "postgres" | "pglite", db: Database): Promise<string[]> {
  const keys = deriveKeys("benchmark store key, not secret");
  const rows = new CryptoStoreRows(db, keys.dump);
  await rows.create(USER, "BENCHDEVICE");
  const http = new DeviceHttp({ baseUrl: "http://127.0.0.1:9", asToken: "unused" }, USER, "BENCHDEVICE");
  const bot = await BotDevice.open({ userId: USER, deviceId: "BENCHDEVICE", http, rows, machineKey: keys.machine, log: pino({ level: "silent" }), assertWriter: () => undefined }, undefined);
  const uploaded = await uploadKeys(bot.machine);
  const citizen = await OlmPeer.create("@burger:bench.test", "CITIZEN");
  const target = { userId: USER, deviceId: "BENCHDEVICE", keys: uploaded };
  // A Megolm session is good for 100 messages by default, then it must be shared anew (the
  // service's encrypt() does that); here one session lasts the whole run.
  const settings = encryptionSettings(HistoryVisibility.Shared);
  settings.rotationPeriodMessages = BigInt(MESSAGES * (ROUNDS + 1) + 1000);
  await receiveToDevice(bot.machine, await citizen.shareRoomKey(ROOM, target, settings));
  const out: string[] = [];

  // Decryption: the citizen's messages in one Megolm session, through the service's decrypt path.
  const events = await Promise.all(Array.from({ length: MESSAGES }, (_, i) => citizen.encrypt(ROOM, `Vraag ${i}: wanneer wordt het grofvuil opgehaald?`)));
  const dec: number[] = [];
  for (let r = 0; r < ROUNDS; r++) dec.push(await time(async () => { for (const ev of events) await decryptWith([bot], ev); }));
  out.push(`| ${kind} | decrypt | ${perSecond(MESSAGES, median(dec))} /s |`);

  // Encryption: the bot's outbound session (shared with the citizen's device), alone and
  // followed by the persist the service does after each encryption.
  const botSettings = encryptionSettings(HistoryVisibility.Shared);
  botSettings.rotationPeriodMessages = settings.rotationPeriodMessages;
  await receiveToDevice(citizen.machine, await new OlmPeer(bot.machine, uploaded).shareRoomKey(ROOM, citizen, botSettings));
  const content = JSON.stringify({ msgtype: "m.notice", body: "Goedemiddag, waarmee kan ik helpen?" });
  const enc: number[] = [];
  for (let r = 0; r < ROUNDS; r++) enc.push(await time(async () => { for (let i = 0; i < MESSAGES; i++) await bot.machine.encryptRoomEvent(new RoomId(ROOM), "m.room.message", content); }));
  out.push(`| ${kind} | encrypt (Megolm only) | ${perSecond(MESSAGES, median(enc))} /s |`);
  const withPersist = Math.min(200, MESSAGES);
  const encP = await time(async () => {
    for (let i = 0; i < withPersist; i++) {
      await bot.machine.encryptRoomEvent(new RoomId(ROOM), "m.room.message", content);
      await bot.persist();
    }
  });
  out.push(`| ${kind} | encrypt + persist (service path, fresh store) | ${perSecond(withPersist, encP)} /s |`);

  // Persisting as inbound room keys accumulate (one per room a citizen writes in): a persist
  // reads and hashes the whole store, and writes the records that changed.
  let have = 0;
  const addKey = async (): Promise<void> => {
    await receiveToDevice(bot.machine, await citizen.shareRoomKey(`!room${have}:bench.test`, target));
    have++;
  };
  for (const level of SESSION_LEVELS) {
    while (have < level) await addKey();
    await bot.persist();
    const idle: number[] = [];
    const oneKey: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      idle.push(await time(() => bot.persist()));
      await addKey();
      oneKey.push(await time(() => bot.persist()));
    }
    out.push(`| ${kind} | persist, ${bot.recordCount} records (${Math.round(bot.storeBytes / 1024)} KiB): nothing changed | ${median(idle).toFixed(1)} ms |`);
    out.push(`| ${kind} | persist, ${bot.recordCount} records: after one new room key (${bot.lastPersist.records} records written) | ${median(oneKey).toFixed(1)} ms |`);
  }
  await bot.close();
  citizen.machine.close();
  return out;
}

await initAsync();
const lines = ["| store | operation | median |", "| --- | --- | --- |"];
const pg = await createTestDatabase(SERVER_URL);
const dir = mkdtempSync(join(tmpdir(), "loket-bench-crypto-"));
try {
  for (const kind of ["postgres", "pglite"] as const) {
    const db = await openDatabase({ url: kind === "postgres" ? pg.url : "", dataDir: join(dir, "pglite"), poolSize: 2 });
    await migrate(db);
    try {
      lines.push(...await bench(kind, db));
    } finally {
      await db.close();
    }
  }
} finally {
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nE2EE, ${MESSAGES} messages, median of ${ROUNDS} rounds, Node ${process.version}\n`);
console.log(lines.join("\n"));
