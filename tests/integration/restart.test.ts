// Loket is down while a citizen opens a DM: Synapse keeps the transaction, and when Loket
// starts again (and pings Synapse) the invite is processed and the citizen is greeted.
import { Preset } from "matrix-js-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newUser, waitForEvent, type TestUser } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME, startStack, type Stack } from "../harness/stack.ts";

let stack: Stack;
let citizen: TestUser;
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

beforeAll(async () => {
  stack = await startStack();
  citizen = await newUser(stack.synapse, "burger");
});
afterEach((ctx) => { if (ctx.task.result?.state === "fail") stack.keepData(); });
afterAll(async () => {
  citizen.client.stopClient();
  await stack.stop();
});

describe("Loket restarts", () => {
  it("an invite sent while Loket was down is greeted once it is back", async () => {
    await stack.stopLoket();
    const { room_id: roomId } = await citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat });
    await stack.restartLoket();
    const greeting = await waitForEvent(citizen.client, roomId, (ev) => ev.getSender() === bot && ev.getType() === "m.room.message");
    expect(greeting.getContent().body).toMatch(/^Welkom bij Gemeente Testdorp/);
    await stack.loket.idle();
    const invites = (await inboxEvents(stack.loket.database)).filter((r) => r.event.room_id === roomId && r.event.state_key === bot
      && (r.event.content as { membership?: string }).membership === "invite");
    expect(invites).toHaveLength(1);
    expect(invites[0]?.processed).toBe(true);
  });
});
