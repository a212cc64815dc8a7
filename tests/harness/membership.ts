// Event-driven waits on the test user's own membership (invites arrive as rooms of their own,
// not as timeline events of a room the client already knows).
import { RoomEvent, type MatrixClient, type Room } from "matrix-js-sdk";

/** Resolves once the client's user has membership `membership` in roomId (already, or later). */
export function waitForMyMembership(client: MatrixClient, roomId: string, membership: string, timeoutMs = 30_000): Promise<Room> {
  return new Promise((resolve, reject) => {
    const existing = client.getRoom(roomId);
    if (existing?.getMyMembership() === membership) {
      resolve(existing);
      return;
    }
    const onMembership = (room: Room, now: string): void => {
      if (room.roomId !== roomId || now !== membership) return;
      cleanup();
      resolve(room);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${client.getUserId() ?? "?"} did not get membership '${membership}' in ${roomId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off(RoomEvent.MyMembership, onMembership);
    };
    client.on(RoomEvent.MyMembership, onMembership);
  });
}
