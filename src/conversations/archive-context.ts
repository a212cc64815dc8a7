// What the archive needs to know of the rooms this capability knows: conversation rooms (with
// their reference, department, citizen and closure), the municipality's own rooms (space,
// service desk, departments) and the bots' direct chats, in that order: the first that knows the
// room wins. Read through the room directory: one query per batch of rooms, kept a few seconds.
import type { ArchiveContext, RoomContext } from "../archive/context.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import type { RoomDirectory, RoomFacts } from "./directory.ts";

export function directoryContext(directory: RoomDirectory, municipalities: Municipalities): ArchiveContext {
  const contextOf = ({ conversation: c, managed, direct }: RoomFacts): RoomContext | undefined => {
    if (c) {
      return {
        municipality: c.municipality, reference: c.reference, department: c.department, citizen: c.citizen,
        ...(c.status === "closed" ? { closedAt: c.updatedAt } : {}),
      };
    }
    if (managed) return { municipality: managed.municipality, ...(managed.department ? { department: managed.department } : {}) };
    if (!direct) return undefined;
    // Rooms the bot has left still count, so that its own leave (and what led to it) is kept.
    const m = direct.bot === municipalities.senderUserId ? municipalities.defaultMunicipality : municipalities.byBotUserId(direct.bot);
    return m ? { municipality: m.id, citizen: direct.citizen } : undefined;
  };
  return {
    roomContext(roomId) {
      return directory.answer(roomId, "kept", contextOf);
    },
    forget(roomId) {
      directory.forget(roomId);
    },
    knownUnrelated(roomId) {
      return directory.knowsNothingOf(roomId);
    },
  };
}
