// The seam through which the archive learns which municipality (and conversation) a room
// belongs to, without knowing the tables of conversations, managed rooms and direct chats: the
// composition root passes one (src/conversations/archive-context.ts, over the room directory).

export interface RoomContext {
  /** Municipality id: whose chain the room's events join. */
  municipality: string;
  /** The conversation's reference number; missing: the room id is the conversation's key. */
  reference?: string;
  /** Archive category id (config archive.categories), when the conversation has one. */
  category?: string;
  /** Department id, whose archive_category is the default. */
  department?: string;
  /** The citizen of the conversation (for holds and GDPR requests). */
  citizen?: string;
  /** When the conversation was closed (the retention term counts from it). */
  closedAt?: Date;
}

export interface ArchiveContext {
  /**
   * The room's context, or undefined when the room is none of a municipality's (not archived);
   * as a value when it is known at once (kept from an earlier read), else as a promise.
   */
  roomContext(roomId: string): RoomContext | undefined | Promise<RoomContext | undefined>;
  /** Forget what is cached of a room (a bot acted in it: it may have just become a municipality's). */
  forget?(roomId: string): void;
  /** True when it is known at once that the room is none of a municipality's (nothing to archive). */
  knownUnrelated?(roomId: string): boolean;
}
