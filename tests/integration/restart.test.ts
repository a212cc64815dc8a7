// Loket is down while a citizen opens a DM: Synapse keeps the transaction, and when Loket
// starts again (and pings Synapse) the invite is processed and the citizen is greeted.
import { describe, expect, it } from "vitest";
import { openDm, waitForMessageFrom } from "../harness/client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}`;

describe("Loket restarts", () => {
  it("an invite sent while Loket was down is greeted once it is back", async () => {
    const { stack, citizen } = fixture;
    await stack.stopLoket();
    const roomId = await openDm(citizen, bot);
    await stack.restartLoket();
    const greeting = await waitForMessageFrom(citizen.client, roomId, bot);
    expect(greeting.getContent().body).toMatch(/^Welkom bij Gemeente Testdorp/);
    await stack.loket.idle();
    const invites = (await inboxEvents(stack.loket.database)).filter((r) => r.event.room_id === roomId && r.event.state_key === bot
      && (r.event.content as { membership?: string }).membership === "invite");
    expect(invites).toHaveLength(1);
    expect(invites[0]?.processed).toBe(true);
  });
});
