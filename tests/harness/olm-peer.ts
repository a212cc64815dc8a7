// A second OlmMachine that talks to a bot device without a homeserver: the test plays the server
// by handing each side the other's requests. Used by the crypto store test and the benchmark.
import {
  DeviceId, DeviceLists, EncryptionSettings, KeysClaimRequest, KeysQueryRequest, KeysUploadRequest,
  OlmMachine, RoomId, UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm";
import type { RawEvent } from "../../src/matrix/events.ts";

interface UploadBody {
  device_keys?: Record<string, unknown>;
  one_time_keys?: Record<string, unknown>;
}

/** Marks a machine's key uploads as done; returns what it uploaded. */
export async function uploadKeys(machine: OlmMachine): Promise<UploadBody> {
  const out: UploadBody = {};
  for (const req of await machine.outgoingRequests()) {
    if (!(req instanceof KeysUploadRequest)) continue;
    const body = JSON.parse(req.body) as UploadBody;
    out.device_keys ??= body.device_keys;
    out.one_time_keys = { ...out.one_time_keys, ...body.one_time_keys };
    const count = Object.keys(body.one_time_keys ?? {}).length;
    await machine.markRequestAsSent(req.id, req.type, JSON.stringify({ one_time_key_counts: { signed_curve25519: count } }));
  }
  return out;
}

export class OlmPeer {
  readonly machine: OlmMachine;
  readonly userId: string;
  readonly deviceId: string;
  /** What the machine uploaded (device keys, one-time keys): for the other side's key query. */
  readonly keys: UploadBody;
  private counter = 0;

  constructor(machine: OlmMachine, keys: UploadBody) {
    this.machine = machine;
    this.userId = machine.userId.toString();
    this.deviceId = machine.deviceId.toString();
    this.keys = keys;
  }

  static async create(userId: string, deviceId: string): Promise<OlmPeer> {
    const machine = await OlmMachine.initialize(new UserId(userId), new DeviceId(deviceId));
    return new OlmPeer(machine, await uploadKeys(machine));
  }

  /**
   * Establishes an Olm session with the target device (its uploaded keys) and returns the
   * to-device events carrying this peer's room key for `roomId`, as the target would sync them.
   */
  async shareRoomKey(roomId: string, target: { userId: string; deviceId: string; keys: UploadBody }, settings = new EncryptionSettings()): Promise<unknown[]> {
    const m = this.machine;
    await m.updateTrackedUsers([new UserId(target.userId)]);
    for (const req of await m.outgoingRequests()) {
      if (req instanceof KeysQueryRequest) {
        const res = { device_keys: { [target.userId]: { [target.deviceId]: target.keys.device_keys } }, failures: {} };
        await m.markRequestAsSent(req.id, req.type, JSON.stringify(res));
      }
    }
    const claim = await m.getMissingSessions([new UserId(target.userId)]);
    if (claim instanceof KeysClaimRequest) {
      const [keyId, key] = Object.entries(target.keys.one_time_keys ?? {})[0] ?? [];
      if (keyId === undefined) throw new Error("the target uploaded no one-time keys");
      const res = { one_time_keys: { [target.userId]: { [target.deviceId]: { [keyId]: key } } }, failures: {} };
      await m.markRequestAsSent(claim.id, claim.type, JSON.stringify(res));
    }
    const events: unknown[] = [];
    for (const req of await m.shareRoomKey(new RoomId(roomId), [new UserId(target.userId)], settings)) {
      const body = JSON.parse(req.body) as { messages: Record<string, Record<string, unknown>> };
      for (const devices of Object.values(body.messages)) {
        for (const content of Object.values(devices)) events.push({ type: req.event_type, sender: this.userId, content });
      }
      await m.markRequestAsSent(req.id, req.type, "{}");
    }
    return events;
  }

  /** An m.room.encrypted room event as the homeserver would deliver it. */
  async encrypt(roomId: string, body: string): Promise<RawEvent> {
    const content = await this.machine.encryptRoomEvent(new RoomId(roomId), "m.room.message", JSON.stringify({ msgtype: "m.text", body }));
    return {
      event_id: `$peer${++this.counter}-${Date.now()}`,
      room_id: roomId,
      type: "m.room.encrypted",
      sender: this.userId,
      origin_server_ts: Date.now(),
      content: JSON.parse(content) as Record<string, unknown>,
    };
  }
}

/** Feeds to-device events to a machine the way a /sync would. */
export async function receiveToDevice(machine: OlmMachine, events: unknown[]): Promise<void> {
  await machine.receiveSyncChanges(JSON.stringify(events), new DeviceLists(), new Map([["signed_curve25519", 50]]), new Set());
}
