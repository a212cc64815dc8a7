// The Synapse harness itself: start a real Synapse, register users through the
// shared-secret admin API, and drive it with matrix-js-sdk as a real client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, Direction, EventType, MsgType } from "matrix-js-sdk";
import type { MatrixClient } from "matrix-js-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSynapse } from "../../src/devserver/synapse.ts";
import type { RegisteredUser, RunningSynapse } from "../../src/devserver/synapse.ts";
import { quiet } from "../harness/client.ts";
import { SYNAPSE_VENV } from "../harness/paths.ts";

const SERVER_NAME = "loket.test";

describe("Synapse harness", () => {
  let dataDir = "";
  let synapse: RunningSynapse | undefined;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  const clients: MatrixClient[] = [];

  function hs(): RunningSynapse {
    if (synapse === undefined) throw new Error("Synapse not started");
    return synapse;
  }

  function client(accessToken?: string, userId?: string): MatrixClient {
    const c = createClient({ baseUrl: hs().baseUrl, accessToken, userId, logger: quiet });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "loket-synapse-harness-"));
    synapse = await startSynapse({ venvDir: SYNAPSE_VENV, dataDir, serverName: SERVER_NAME });
    alice = await synapse.registerUser("alice", "alice-secret", { admin: true, displayname: "Alice" });
    bob = await synapse.registerUser("bob", "bob-secret");
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.stopClient();
    await synapse?.stop();
    if (dataDir !== "") await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("registers users with the shared secret", async () => {
    expect(alice.userId).toBe(`@alice:${SERVER_NAME}`);
    expect(bob.userId).toBe(`@bob:${SERVER_NAME}`);
    expect(hs().baseUrl).toBe(`http://127.0.0.1:${hs().port}`);

    const whoami = await client(bob.accessToken, bob.userId).whoami();
    expect(whoami.user_id).toBe(bob.userId);
    expect(whoami.device_id).toBe(bob.deviceId);

    const profile = await client(alice.accessToken, alice.userId).getProfileInfo(alice.userId);
    expect(profile.displayname).toBe("Alice");

    // The admin flag took effect: only admins may read the admin user API.
    const res = await fetch(`${hs().baseUrl}/_synapse/admin/v2/users/${encodeURIComponent(bob.userId)}`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { admin: boolean }).admin).toBe(false);
  });

  it("carries a message from one client to another", async () => {
    // Alice logs in with her password, like a real client.
    const login = await client().loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: "alice" },
      password: "alice-secret",
    });
    expect(login.user_id).toBe(alice.userId);
    const a = client(login.access_token, login.user_id);
    const b = client(bob.accessToken, bob.userId);

    const { room_id: roomId } = await a.createRoom({ name: "Harness room" });
    await a.invite(roomId, bob.userId);
    await b.joinRoom(roomId);
    const body = `hallo Bob, het is ${new Date().toISOString()}`;
    const sent = await a.sendMessage(roomId, { msgtype: MsgType.Text, body });

    const page = await b.createMessagesRequest(roomId, null, 50, Direction.Backward);
    const messages = page.chunk.filter((e) => e.type === (EventType.RoomMessage as string));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.event_id).toBe(sent.event_id);
    expect(messages[0]?.sender).toBe(alice.userId);
    expect(messages[0]?.content).toEqual({ msgtype: "m.text", body });

    const members = await b.getJoinedRoomMembers(roomId);
    expect(Object.keys(members.joined).sort()).toEqual([alice.userId, bob.userId].sort());
  });
});
