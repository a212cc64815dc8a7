// The output contract of `loket crypto status`: the JSON shape (nulls for what is not there yet)
// and the text form, for a bot with a device, one whose device has no persisted keys yet, one
// without a device and one that is no longer configured.
import { describe, expect, it } from "vitest";
import { renderStatus, statusJson } from "../../src/cli/crypto.ts";
import type { StoredCryptoStatus } from "../../src/crypto/index.ts";

const machine = {
  userId: "@a:x", deviceId: "LOKETAAA",
  identityKeys: { curve25519: "curve", ed25519: "ed" },
  crossSigning: { master: true, selfSigning: true, userSigning: false, masterKey: "master" },
  roomKeys: { total: 3, backedUp: 2 }, trackedUsers: 4,
};
const status: StoredCryptoStatus = {
  bots: [
    { userId: "@a:x", deviceId: "LOKETAAA", machine, store: { bytes: 100, records: 5, updatedAt: "2026-11-28 10:00:00+00" }, synced: true },
    { userId: "@b:x", deviceId: "LOKETBBB", machine: undefined, store: { bytes: 0, records: 0, updatedAt: "2026-11-28 10:00:00+00" }, synced: false },
    { userId: "@c:x", deviceId: undefined, machine: undefined, store: { bytes: 0, records: 0, updatedAt: undefined }, synced: false },
    { userId: "@old:x", deviceId: "LOKETOLD", machine: { ...machine, userId: "@old:x", deviceId: "LOKETOLD" }, store: { bytes: 9, records: 1, updatedAt: "2026-01-01 00:00:00+00" }, synced: true },
  ],
  waitingEvents: 7,
};

describe("loket crypto status output", () => {
  it("--json: one object with snake_case fields and nulls for what does not exist yet", () => {
    const json = statusJson(status) as { bots: unknown[]; waiting_events: number };
    expect(json.waiting_events).toBe(7);
    expect(json.bots[0]).toEqual({
      user_id: "@a:x", device_id: "LOKETAAA",
      identity_keys: { curve25519: "curve", ed25519: "ed" },
      cross_signing: { master: true, self_signing: true, user_signing: false, master_key: "master" },
      room_keys: { total: 3, backed_up: 2 }, tracked_users: 4,
      store: { bytes: 100, records: 5, updated_at: "2026-11-28 10:00:00+00" }, synced: true,
    });
    expect(json.bots[1]).toMatchObject({ device_id: "LOKETBBB", identity_keys: null, cross_signing: null, room_keys: null, tracked_users: null, synced: false });
    expect(json.bots[2]).toMatchObject({ device_id: null, store: { bytes: 0, records: 0, updated_at: null } });
  });

  it("text: a block per bot, the unconfigured one marked, and the waiting count", () => {
    const text = renderStatus(status, ["@a:x", "@b:x", "@c:x"]);
    expect(text).toContain("@a:x\n  device          LOKETAAA\n  identity keys   curve25519 curve\n                  ed25519    ed\n");
    expect(text).toContain("cross-signing   master yes, self-signing yes, user-signing no\n  master key      master\n  room keys       3 (2 backed up)");
    expect(text).toContain("@b:x\n  device          LOKETBBB\n  keys            not persisted yet");
    expect(text).toContain("@c:x\n  no device yet: 'loket start' creates it");
    expect(text).toContain("@old:x (no longer in the config)");
    expect(text.endsWith("events waiting for their room keys: 7\n")).toBe(true);
  });
});
