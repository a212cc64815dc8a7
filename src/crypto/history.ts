// Sharing a room's history with someone the bot invites (MSC4268, "share history on invite").
// Clients on the Rust crypto stack ignore room keys forwarded without a request, so forwarding
// keys is no way to give a newly joined staff member the earlier messages. MSC4268 is: the
// inviter uploads an encrypted bundle of the room's keys (those sent while the history was
// shared) to the media repository and sends its location and key to the invitee's devices over
// Olm. matrix-js-sdk 43 accepts such a bundle when it joins a room, from its inviter only, and
// only when the sending device is cross-signed by the inviter (the bot's device is). The bundle
// goes to the invitee's cross-signed devices only: matrix-sdk-crypto refuses any other sharing
// strategy for history (AllDevices is turned into IdentityBasedStrategy), so staff must have
// cross-signing set up, as Element does at first login.
import { CollectStrategy, RoomId, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import { uploadMedia } from "./http.ts";
import { send } from "./requests.ts";

/**
 * Sends `userId`'s devices the room keys the bot holds for `roomId`. Call it just before the
 * same bot invites the user (the invitee's client accepts the bundle from its inviter only).
 * Only the user's cross-signed devices get it ("no-devices" when there are none).
 */
export async function shareHistory(bot: BotDevice, roomId: string, userId: string): Promise<"shared" | "nothing-to-share" | "no-devices"> {
  return bot.run(async () => {
    const { machine } = bot;
    const bundle = await machine.buildRoomKeyBundle(new RoomId(roomId));
    if (!bundle) return "nothing-to-share";
    const data = bundle.encryptedData;
    const info = bundle.mediaEncryptionInfo;
    bundle.free();
    const url = await uploadMedia(bot.http.opts, bot.userId, data);
    // Track the invitee (the machine keeps devices of tracked users only) and get a fresh view
    // of their devices: the bot may share no room with them yet.
    await machine.updateTrackedUsers([new UserId(userId)]);
    await bot.flush();
    const query = machine.queryKeysForUsers([new UserId(userId)]);
    await machine.markRequestAsSent(query.id, query.type, await send(bot.http, query));
    const claim = await machine.getMissingSessions([new UserId(userId)]);
    if (claim) await machine.markRequestAsSent(claim.id, claim.type, await send(bot.http, claim));
    const requests = await machine.shareRoomKeyBundleData(new UserId(userId), new RoomId(roomId), url, info, CollectStrategy.identityBasedStrategy());
    if (requests.length === 0) return "no-devices";
    for (const req of requests) await machine.markRequestAsSent(req.id, req.type, await send(bot.http, req));
    await bot.persist();
    return "shared";
  });
}
