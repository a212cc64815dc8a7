// First contact: a citizen invites a municipality's bot to a DM; the bot joins and greets.
// The appservice's own user does the same for the default municipality, or lists them all.
import type { Capability } from "../core/capability.ts";
import { t, type Language } from "../i18n/index.ts";
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import type { MembershipEvent } from "../matrix/events.ts";
import type { Municipalities, Municipality } from "../tenants/municipalities.ts";

export function greetingText(m: Municipality): string {
  const lang: Language = m.config.language;
  return m.config.greeting !== "" ? m.config.greeting : t(lang, "greeting", { name: m.name });
}

export function directoryText(all: readonly Municipality[], lang: Language = "nl"): string {
  if (all.length === 0) return t(lang, "directory_empty");
  return t(lang, "directory", { list: all.map((m) => `- ${m.name}: ${m.botUserId}`).join("\n") });
}

export function greetingCapability(municipalities: Municipalities, hs: Homeserver, log: Logger): Capability {
  return {
    name: "greeting",
    async onMembership(ev: MembershipEvent) {
      if (ev.membership !== "invite" || !municipalities.isOwnBot(ev.target)) return;
      const isSender = ev.target === municipalities.senderUserId;
      const bot = hs.intent(ev.target, isSender);
      await bot.join(ev.roomId);
      log.info({ roomId: ev.roomId, bot: ev.target, direct: ev.isDirect }, "joined room on invite");
      if (!ev.isDirect) return;
      const m = isSender ? municipalities.defaultMunicipality : municipalities.byBotUserId(ev.target);
      const text = m ? greetingText(m) : directoryText(municipalities.all);
      await bot.sendNotice(ev.roomId, text, `greeting:${ev.eventId}`);
    },
  };
}
