// Outgoing: share the room key with every device of the room's joined and invited members, then
// encrypt. Unverified devices get the key (CollectStrategy.allDevices): citizens rarely verify,
// and a public service that stays silent to unverified devices would not be heard at all.
import { CollectStrategy, EncryptionSettings, HistoryVisibility, RoomId, UserId } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { BotDevice } from "./bot.ts";
import { enc, HomeserverRequestError } from "./http.ts";
import { send } from "./requests.ts";

export interface EncryptedContent {
  type: "m.room.encrypted";
  content: Record<string, unknown>;
}

interface MemberEvent { state_key?: string; content?: { membership?: string } }

/** Joined and invited members, as the homeserver has them now. */
export async function roomMembers(bot: BotDevice, roomId: string): Promise<string[]> {
  const res = await bot.http.request<{ chunk?: MemberEvent[] }>("GET", `/v3/rooms/${enc(roomId)}/members`, { query: { not_membership: "leave" } });
  return (res.chunk ?? [])
    .filter((ev) => ev.content?.membership === "join" || ev.content?.membership === "invite")
    .map((ev) => ev.state_key ?? "")
    .filter((u) => u !== "");
}

async function historyVisibility(bot: BotDevice, roomId: string): Promise<HistoryVisibility> {
  try {
    const res = await bot.http.request<{ history_visibility?: string }>("GET", `/v3/rooms/${enc(roomId)}/state/m.room.history_visibility/`);
    switch (res.history_visibility) {
      case "invited": return HistoryVisibility.Invited;
      case "joined": return HistoryVisibility.Joined;
      case "world_readable": return HistoryVisibility.WorldReadable;
      default: return HistoryVisibility.Shared;
    }
  } catch (err) {
    if (err instanceof HomeserverRequestError && err.status === 404) return HistoryVisibility.Shared;
    throw err;
  }
}

export function encryptionSettings(visibility: HistoryVisibility): EncryptionSettings {
  const settings = new EncryptionSettings();
  settings.sharingStrategy = CollectStrategy.allDevices();
  settings.historyVisibility = visibility;
  return settings;
}

/**
 * Encrypts one event for a room. The machine rotates the room's outbound session by itself when
 * a member it was shared with is no longer in the list (left, kicked) or a device went away.
 */
export async function encryptForRoom(bot: BotDevice, roomId: string, type: string, content: object): Promise<EncryptedContent> {
  // The bot itself is always a recipient: with nobody to share with, the machine would have no
  // outbound session, and encryptRoomEvent panics inside the WASM module without one.
  const members = [...new Set([...await roomMembers(bot, roomId), bot.userId])];
  const visibility = await historyVisibility(bot, roomId);
  // The wasm calls take ownership of the UserId objects: build a fresh list for each call.
  const users = (): UserId[] => members.map((u) => new UserId(u));
  return bot.run(async () => {
    const { machine } = bot;
    await machine.updateTrackedUsers(users());
    await bot.flush(); // key queries for users not seen before
    const claim = await machine.getMissingSessions(users());
    if (claim) await machine.markRequestAsSent(claim.id, claim.type, await send(bot.http, claim));
    for (const req of await machine.shareRoomKey(new RoomId(roomId), users(), encryptionSettings(visibility))) {
      await machine.markRequestAsSent(req.id, req.type, await send(bot.http, req));
    }
    const encrypted = await machine.encryptRoomEvent(new RoomId(roomId), type, JSON.stringify(content));
    // The outbound session has ratcheted: persist before the ciphertext can leave, or a crash
    // would make the next message reuse the index (receivers reject that as a replay).
    await bot.persist();
    return { type: "m.room.encrypted", content: JSON.parse(encrypted) as Record<string, unknown> };
  });
}

/** Forget the outbound session (for example when a member leaves): the next message rotates. */
export async function rotateRoomKey(bot: BotDevice, roomId: string): Promise<boolean> {
  return bot.run(async () => {
    const rotated = await bot.machine.invalidateGroupSession(new RoomId(roomId));
    if (rotated) await bot.persist();
    return rotated;
  });
}
