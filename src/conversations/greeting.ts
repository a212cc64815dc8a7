// First contact: a citizen invites a municipality's bot to a DM; the bot joins and the DM
// becomes (or leads to) a conversation. The appservice's own user greets for the default
// municipality, or lists them all.
// Invites to other rooms are accepted from the municipality's staff only, and declined
// otherwise, so that nobody can pull a government bot into rooms of their choosing. The
// inviter's is_direct flag is only a claim: a public room, or one with anybody else joined or
// invited, is no direct chat, and the bot leaves it again. Once in a DM, the bot reads back what
// the citizen did there before it joined (missed.ts), which the homeserver never sent Loket.
import type { Capability } from "../core/capability.ts";
import type { Database } from "../db/database.ts";
import { t, type Language } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { MembershipEvent, RawEvent } from "../matrix/events.ts";
import type { RoomId } from "../matrix/ids.ts";
import type { Municipalities, Municipality } from "../tenants/municipalities.ts";
import { breaksDirectChat, rememberDirectRoom } from "./direct-rooms.ts";
import { missedBeforeJoin } from "./missed.ts";

export function greetingText(m: Municipality): string {
  const lang: Language = m.config.language;
  return m.config.greeting !== "" ? m.config.greeting : t(lang, "greeting", { name: m.name });
}

export function directoryText(all: readonly Municipality[], lang: Language = "nl"): string {
  if (all.length === 0) return t(lang, "directory_empty");
  return t(lang, "directory", { list: all.map((m) => `- ${m.name}: ${m.botUserId}`).join("\n") });
}

/** Opens (or brings the citizen back to) a conversation for a DM the bot has joined. */
export type DmHandler = (m: Municipality, roomId: RoomId, citizen: string, cause: string) => Promise<void>;

/**
 * Stores events the homeserver never sent, to be processed like a transaction of their own
 * after what their room has queued; `txnId` names the cause (a replay stores nothing new).
 */
export type StoreMissed = (txnId: string, events: RawEvent[]) => Promise<void>;

export interface GreetingDeps {
  municipalities: Municipalities;
  db: Database;
  hs: Homeserver;
  log: Logger;
  onDm: DmHandler;
  storeMissed: StoreMissed;
}

export function greetingCapability({ municipalities, db, hs, log, onDm, storeMissed }: GreetingDeps): Capability {
  return {
    name: "greeting",
    async onMembership(ev: MembershipEvent) {
      if (ev.membership !== "invite" || !municipalities.isOwnBot(ev.target)) return;
      const isSender = ev.target === municipalities.senderUserId;
      const bot = hs.intent(ev.target, isSender);
      const m = isSender ? municipalities.defaultMunicipality : municipalities.byBotUserId(ev.target);
      const dm = { bot: ev.target, citizen: ev.sender };
      const claimsDm = ev.isDirect && breaksDirectChat({ joinRule: ev.inviteJoinRule }, dm) === undefined;
      if (!claimsDm) {
        if (!isSender && m?.staff.has(ev.sender)) {
          await bot.join(ev.roomId);
          log.info({ roomId: ev.roomId, bot: ev.target, inviter: ev.sender }, "joined a staff room on invite");
        } else {
          await bot.leave(ev.roomId);
          log.info({ roomId: ev.roomId, bot: ev.target, inviter: ev.sender }, "declined an invite to a room that is not a DM");
        }
        return;
      }
      await bot.join(ev.roomId);
      const others = (await bot.members(ev.roomId)).filter((u) => breaksDirectChat({ newMember: u }, dm) !== undefined);
      if (others.length > 0) {
        await bot.leave(ev.roomId);
        log.info({ roomId: ev.roomId, bot: ev.target, inviter: ev.sender }, "left a room marked as a DM that has other members");
        return;
      }
      await rememberDirectRoom(db, ev.roomId, ev.target, ev.sender);
      log.info({ roomId: ev.roomId, bot: ev.target }, "joined a DM on invite");
      if (m && !isSender) {
        await onDm(m, ev.roomId, ev.sender, ev.eventId);
        // Processed after this job, in a conversation: the first question is queued and archived
        // like any later one.
        const history = await bot.history(ev.roomId);
        const missed = missedBeforeJoin(history.events, ev.target, ev.sender, (u) => municipalities.isLoketUser(u));
        if (missed === undefined) {
          log.warn({ roomId: ev.roomId, bot: ev.target }, "the bot's join is not in the DM's recent history; what came before it is not read back");
          return;
        }
        if (!history.complete) log.warn({ roomId: ev.roomId, bot: ev.target, events: history.events.length }, "the DM's history is longer than what is read back; anything older is not");
        await storeMissed(`loket-missed:${ev.eventId}`, missed);
        return;
      }
      const text = m ? greetingText(m) : directoryText(municipalities.all);
      await bot.sendNotice(ev.roomId, text, `greeting:${ev.eventId}`);
    },
    ignores: (_roomId, events) => events.every((e) => e.type !== "m.room.member"),
  };
}
