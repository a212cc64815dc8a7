// The real client side of the tests: matrix-js-sdk clients that sync like any Matrix app, and
// event-driven waits (no sleeps).
import { ClientEvent, createClient, Direction, Preset, RoomEvent, SyncState, type MatrixClient, type MatrixEvent } from "matrix-js-sdk";
import type { Logger } from "matrix-js-sdk/lib/logger.js";
import type { RunningSynapse } from "../../src/devserver/synapse.ts";

export const quiet: Logger = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, getChild: () => quiet };

export interface TestUser {
  userId: string;
  client: MatrixClient;
}

let counter = 0;

/** Registers a fresh user (prefix plus a unique suffix, or exactly `localpart`) with a syncing client. */
export async function newUser(synapse: RunningSynapse, prefix: string, opts: { exact?: boolean } = {}): Promise<TestUser> {
  const localpart = opts.exact ? prefix : `${prefix}${Date.now().toString(36)}${counter++}`;
  const reg = await synapse.registerUser(localpart, "test-password-1");
  const client = createClient({ baseUrl: synapse.baseUrl, accessToken: reg.accessToken, userId: reg.userId, deviceId: reg.deviceId, logger: quiet });
  await startSyncing(client);
  return { userId: reg.userId, client };
}

/** A fresh user with a client that does not sync: for tests that need many users and read rooms on demand. */
export async function newQuietUser(synapse: RunningSynapse, prefix: string): Promise<TestUser> {
  const reg = await synapse.registerUser(`${prefix}${Date.now().toString(36)}${counter++}`, "test-password-1");
  return { userId: reg.userId, client: createClient({ baseUrl: synapse.baseUrl, accessToken: reg.accessToken, userId: reg.userId, deviceId: reg.deviceId, logger: quiet }) };
}

/** Starts the client's sync loop and resolves once the first sync is in. */
export async function startSyncing(client: MatrixClient): Promise<void> {
  const synced = new Promise<void>((resolve) => {
    client.on(ClientEvent.Sync, (state: SyncState) => { if (state === SyncState.Prepared) resolve(); });
  });
  await client.startClient({ initialSyncLimit: 20 });
  await synced;
}

/** Resolves with the first event in roomId that matches, already received or still to come. */
export function waitForEvent(client: MatrixClient, roomId: string, match: (ev: MatrixEvent) => boolean, timeoutMs = 30_000): Promise<MatrixEvent> {
  return new Promise((resolve, reject) => {
    const existing = client.getRoom(roomId)?.getLiveTimeline().getEvents().find(match);
    if (existing) {
      resolve(existing);
      return;
    }
    const onEvent = (ev: MatrixEvent): void => {
      if (ev.getRoomId() !== roomId || !match(ev)) return;
      cleanup();
      resolve(ev);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching event in ${roomId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off(RoomEvent.Timeline, onEvent);
    };
    client.on(RoomEvent.Timeline, onEvent);
  });
}

/** Messages in a room as the server has them (not the client's cache). */
export async function roomMessages(client: MatrixClient, roomId: string): Promise<{ event_id: string; sender: string; type: string; state_key?: string; content: Record<string, unknown> }[]> {
  const res = await client.createMessagesRequest(roomId, null, 100, Direction.Forward);
  return res.chunk.map((e) => {
    const stateKey = (e as { state_key?: string }).state_key;
    return { event_id: e.event_id, sender: e.sender, type: e.type, ...(stateKey === undefined ? {} : { state_key: stateKey }), content: e.content };
  });
}

/** Opens a direct chat with target, as Element does; returns the room id. */
export async function openDm(user: TestUser, target: string): Promise<string> {
  const { room_id } = await user.client.createRoom({ is_direct: true, invite: [target], preset: Preset.TrustedPrivateChat });
  return room_id;
}

/** The first m.room.message from sender in roomId. */
export function waitForMessageFrom(client: MatrixClient, roomId: string, sender: string, timeoutMs?: number): Promise<MatrixEvent> {
  return waitForEvent(client, roomId, (ev) => ev.getSender() === sender && ev.getType() === "m.room.message", timeoutMs);
}
