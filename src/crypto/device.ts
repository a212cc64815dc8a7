// The bot's device on the homeserver and its cross-signing identity.
import { randomBytes } from "node:crypto";
import { OwnUserIdentity, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import { enc, type DeviceHttp } from "./http.ts";
import { send } from "./requests.ts";

/** A new fixed device id: recognisable, and random enough never to clash. */
export function newDeviceId(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return `LOKET${[...randomBytes(10)].map((b) => alphabet[b % alphabet.length] ?? "A").join("")}`;
}

/**
 * Creates the device through the appservice device API (MSC4190, open to every appservice since
 * Synapse 1.141, no user-interactive auth): 201 when created, 200 when it already exists.
 * Called without ?device_id= (the device may not exist yet).
 */
export async function ensureDevice(userHttp: DeviceHttp, deviceId: string, displayName: string): Promise<void> {
  await userHttp.request("PUT", `/v3/devices/${enc(deviceId)}`, { body: { display_name: displayName } });
}

/**
 * Deletes the bot's other Loket devices (left behind when a store was lost), so that clients
 * stop encrypting for keys nobody holds. Appservices delete devices without UIA (MSC4190).
 */
export async function deleteStaleDevices(userHttp: DeviceHttp, keep: string): Promise<string[]> {
  const res = await userHttp.request<{ devices?: { device_id: string }[] }>("GET", "/v3/devices");
  const stale = (res.devices ?? []).map((d) => d.device_id).filter((id) => id.startsWith("LOKET") && id !== keep);
  for (const id of stale) await userHttp.request("DELETE", `/v3/devices/${enc(id)}`, { body: {} });
  return stale;
}

/**
 * Makes sure the bot has a cross-signing identity that the homeserver knows and whose private
 * keys the machine holds, and that the device is signed by it. Without one (new bot, or the
 * homeserver lost or replaced it), a new identity is bootstrapped: persisted first, then the
 * public keys are uploaded with /keys/device_signing/upload (appservices need no UIA) and the
 * signatures with /keys/signatures/upload. Call inside bot.run().
 */
export async function ensureCrossSigning(bot: BotDevice): Promise<"existing" | "created"> {
  const { machine } = bot;
  const own = (): UserId => new UserId(bot.userId);
  // Ask the homeserver what it has for us now (not what an old query cached).
  const query = machine.queryKeysForUsers([own()]);
  await machine.markRequestAsSent(query.id, query.type, await send(bot.http, query));
  const status = await machine.crossSigningStatus();
  const identity = await machine.getIdentity(own());
  const complete = status.hasMaster && status.hasSelfSigning && status.hasUserSigning;
  // Our own identity counts as verified when the machine holds the private master key it shows.
  const matches = identity instanceof OwnUserIdentity && identity.isVerified();
  identity?.free();
  if (complete && matches) return "existing";

  const requests = await machine.bootstrapCrossSigning(true);
  // The private keys exist only in the store: save them before their public halves go out.
  await bot.persist();
  const upload: unknown = requests.uploadKeysRequest;
  if (upload !== undefined && upload !== null) {
    const req = upload as Parameters<typeof send>[1];
    const res = await send(bot.http, req);
    if (req.id !== undefined) await machine.markRequestAsSent(req.id, req.type, res);
  }
  await bot.http.request("POST", "/v3/keys/device_signing/upload", { body: requests.uploadSigningKeysRequest.body });
  await send(bot.http, requests.uploadSignaturesRequest);
  await bot.persist();
  return "created";
}
