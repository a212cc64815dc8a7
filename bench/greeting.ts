// Greeting latency, end to end: a citizen (matrix-js-sdk, syncing) opens a DM with the
// municipality's bot on a real Synapse; measured from the createRoom call, and from its answer
// (the room exists, the invite is sent), until the greeting arrives through the citizen's sync.
// Sequential DMs; p50/p95/p99/max. Then the auto-reply (issue 8): new citizens each open a DM,
// wait for the greeting and ask a question; measured from the send call until the bot's
// auto-reply or receipt arrives through the citizen's sync.
//   npm run bench:greeting [-- --dms 100 --replies 30]
import { parseArgs } from "node:util";
import { EventType, MsgType } from "matrix-js-sdk";
import { newUser, openDm, waitForEvent, waitForMessageFrom } from "../tests/harness/client.ts";
import { SERVER_NAME, startStack } from "../tests/harness/stack.ts";

const { values } = parseArgs({ options: { dms: { type: "string", default: "100" }, replies: { type: "string", default: "30" } } });
const DMS = Number(values.dms);
const REPLIES = Number(values.replies);
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

const stack = await startStack();
const citizen = await newUser(stack.synapse, "burger");
const total: number[] = [];
const afterCreate: number[] = [];
const autoReply: number[] = [];
try {
  // One DM to warm up (JIT, connection pools) that is not counted.
  await waitForMessageFrom(citizen.client, await openDm(citizen, bot), bot);
  for (let i = 0; i < DMS; i++) {
    const started = performance.now();
    const roomId = await openDm(citizen, bot);
    const created = performance.now();
    await waitForMessageFrom(citizen.client, roomId, bot);
    total.push(performance.now() - started);
    afterCreate.push(performance.now() - created);
  }
  for (let i = 0; i < REPLIES; i++) {
    const asker = await newUser(stack.synapse, "vrager");
    const roomId = await openDm(asker, bot);
    const greeting = await waitForMessageFrom(asker.client, roomId, bot);
    const started = performance.now();
    await asker.client.sendEvent(roomId, EventType.RoomMessage, { msgtype: MsgType.Text, body: "Wanneer is het stadhuis open?" });
    await waitForEvent(asker.client, roomId, (ev) => ev.getSender() === bot && ev.getType() === "m.room.message" && ev.getId() !== greeting.getId() && /referentie/.test(String(ev.getContent().body)));
    autoReply.push(performance.now() - started);
    asker.client.stopClient();
  }
} finally {
  citizen.client.stopClient();
  await stack.stop();
}

function stats(xs: number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const pct = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return { p50: pct(50), p95: pct(95), p99: pct(99), max: Math.round(sorted[sorted.length - 1] ?? 0) };
}
const all = stats(total);
const tail = stats(afterCreate);
const store = process.env.DATABASE_URL ? "PostgreSQL (Loket and Synapse)" : "PGlite (Loket), SQLite (Synapse)";
console.log(`\nGreeting latency over ${DMS} DMs, ${store}, Node ${process.version}\n`);
console.log("| measured from | p50 | p95 | p99 | max |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(`| createRoom called | ${all.p50} ms | ${all.p95} ms | ${all.p99} ms | ${all.max} ms |`);
console.log(`| createRoom answered (invite sent) | ${tail.p50} ms | ${tail.p95} ms | ${tail.p99} ms | ${tail.max} ms |\n`);
const reply = stats(autoReply);
console.log(`Auto-reply latency over ${REPLIES} citizens' first questions (message sent until the reply arrives)\n`);
console.log("| measured from | p50 | p95 | p99 | max |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(`| question sent | ${reply.p50} ms | ${reply.p95} ms | ${reply.p99} ms | ${reply.max} ms |\n`);
console.log(JSON.stringify({ bench: "greeting", dms: DMS, store, from_create_call_ms: all, from_create_answer_ms: tail, replies: REPLIES, auto_reply_ms: reply }));
process.exit(0);
