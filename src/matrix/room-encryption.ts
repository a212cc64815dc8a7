// Which rooms are encrypted, and the seam to the E2EE engine for outgoing messages. A room once
// encrypted stays encrypted (Matrix has no way back), so a "yes" is kept for good; a "no" holds
// until the room's m.room.encryption event comes through the inbox, which marks it before any
// later event of that room is handled.

export interface Encryptor {
  /** True for the bots that have a device (the appservice sender never has one). */
  canEncrypt(bot: string): boolean;
  encrypt(bot: string, roomId: string, type: string, content: object): Promise<{ type: "m.room.encrypted"; content: Record<string, unknown> }>;
  /** Shares the room keys the bot holds with the user's devices, right before the bot invites them. */
  shareHistory(bot: string, roomId: string, userId: string): Promise<void>;
}

export class RoomEncryption {
  private readonly known = new Map<string, boolean>();
  encryptor: Encryptor | undefined;

  markEncrypted(roomId: string): void {
    this.known.set(roomId, true);
  }

  /** The cached answer, or `lookup` (the room's m.room.encryption state) asked once. */
  async isEncrypted(roomId: string, lookup: () => Promise<boolean>): Promise<boolean> {
    const cached = this.known.get(roomId);
    if (cached !== undefined) return cached;
    const answer = await lookup();
    if (!this.known.get(roomId)) this.known.set(roomId, answer);
    // Keep the cache small: forget the oldest "no" answers beyond a limit.
    if (this.known.size > 50_000) {
      for (const [room, enc] of this.known) {
        if (!enc) this.known.delete(room);
        if (this.known.size <= 40_000) break;
      }
    }
    return this.known.get(roomId) ?? answer;
  }
}
