import { describe, expect, it } from "vitest";
import { decodeEvent, decodeTransaction, type RawEvent } from "../../src/matrix/events.ts";
import { isServerName, isUserId } from "../../src/matrix/ids.ts";

const member: RawEvent = {
  event_id: "$e1", room_id: "!r:hs", type: "m.room.member", sender: "@burger:hs",
  state_key: "@gemeente_x:hs", content: { membership: "invite", is_direct: true }, origin_server_ts: 5,
};

describe("transaction decoding", () => {
  it("accepts a transaction and keeps ephemeral data apart", () => {
    const txn = decodeTransaction({ events: [member], ephemeral: [{ type: "m.typing" }] });
    expect(txn).toEqual({ events: [member], extra: { ephemeral: [{ type: "m.typing" }] } });
  });

  it.each([
    [[], "the body must be a JSON object"],
    [{}, "'events' must be an array"],
    [{ events: [1] }, "events[0] must be an object"],
    [{ events: [{ ...member, event_id: 3 }] }, "events[0].event_id must be a string"],
  ])("rejects %j", (body, message) => {
    expect(decodeTransaction(body)).toBe(message);
  });
});

describe("event decoding", () => {
  it("types a DM invite", () => {
    expect(decodeEvent(member)).toMatchObject({ kind: "membership", membership: "invite", isDirect: true, target: "@gemeente_x:hs" });
  });

  it("types a text message and leaves other events opaque", () => {
    const msg = { ...member, type: "m.room.message", content: { msgtype: "m.text", body: "hallo" } };
    expect(decodeEvent(msg)).toMatchObject({ kind: "message", msgtype: "m.text", body: "hallo" });
    expect(decodeEvent({ ...member, type: "m.room.topic" }).kind).toBe("other");
  });
});

describe("identifiers", () => {
  it.each([
    ["@alice:example.nl", true], ["@a.b_c=d-e/f+g:hs.test:8448", true], ["@alice:[::1]:8448", true],
    ["alice:example.nl", false], ["@Alice:example.nl", false], ["@alice", false], ["@:example.nl", false], ["@al ice:example.nl", false],
  ])("isUserId(%s) is %s", (id, ok) => {
    expect(isUserId(id)).toBe(ok);
  });

  it("checks server names", () => {
    expect(isServerName("gemeente.example.nl")).toBe(true);
    expect(isServerName("bad_host!")).toBe(false);
  });
});
