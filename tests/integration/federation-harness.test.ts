// The federation harness itself: three Synapses federating over TLS on loopback, and what a
// server ACL does between them (the facts the inter-government rooms rely on).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newUser, waitForEvent, type TestUser } from "../harness/client.ts";
import { waitForMyMembership } from "../harness/membership.ts";
import { startFederation, type Federation } from "../harness/federation.ts";

let fed: Federation | undefined;
const users: TestUser[] = [];
const f = (): Federation => { if (!fed) throw new Error("no federation"); return fed; };

beforeAll(async () => {
  fed = await startFederation([{ label: "a" }, { label: "b" }, { label: "c" }]);
});
afterEach((ctx) => { if (ctx.task.result?.state === "fail") fed?.keepData(); });
afterAll(async () => {
  for (const u of users) u.client.stopClient();
  await fed?.stop();
});

async function user(label: string, prefix: string): Promise<TestUser> {
  const u = await newUser(f().server(label).synapse, prefix);
  users.push(u);
  return u;
}

describe("federation harness", () => {
  it("users on two servers share a room over TLS", async () => {
    const [alice, bob] = [await user("a", "alice"), await user("b", "bob")];
    const { room_id } = await alice.client.createRoom({ invite: [bob.userId] });
    await waitForMyMembership(bob.client, room_id, "invite");
    await bob.client.joinRoom(room_id);
    await alice.client.sendTextMessage(room_id, "hallo B");
    const got = await waitForEvent(bob.client, room_id, (ev) => ev.getContent().body === "hallo B");
    expect(got.getSender()).toBe(alice.userId);
  });

  it("an ACL must allow the own server name with its port; it keeps other hosts out", async () => {
    const [alice, carol] = [await user("a", "alice"), await user("c", "carol")];
    const a = f().server("a");
    const b = f().server("b");
    const acl = (allow: string[]) => ({ type: "m.room.server_acl", state_key: "", content: { allow, deny: [], allow_ip_literals: false } });
    await expect(alice.client.createRoom({ initial_state: [acl([a.host, b.host])] })).rejects.toMatchObject({ httpStatus: 400 });
    const { room_id } = await alice.client.createRoom({ initial_state: [acl([a.host, a.serverName, b.host])], invite: [carol.userId] });
    await waitForMyMembership(carol.client, room_id, "invite");
    // hs-a refuses to help hs-c join: the ACL, not the invite, decides.
    await expect(carol.client.joinRoom(room_id)).rejects.toMatchObject({ httpStatus: 403 });
  });
});
