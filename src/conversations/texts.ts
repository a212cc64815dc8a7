// Citizen- and staff-facing texts of conversations, and what a DM must allow to be one (pure).
import { t, type Language } from "../i18n/index.ts";
import type { LoketRoomContent } from "../rooms/plan.ts";
import { LOKET_ROOM_EVENT } from "../rooms/plan.ts";
import type { Municipality } from "../tenants/municipalities.ts";
import type { Conversation } from "./store.ts";

export const matrixTo = (roomId: string, domain: string): string => `https://matrix.to/#/${roomId}?via=${domain}`;

/** The first message of a conversation: who, the reference, the Archiefwet, !help. */
export function firstMessageText(m: Municipality, reference: string, lang: Language): string {
  const intro = m.config.greeting !== "" ? m.config.greeting : t(lang, "welcome_intro", { name: m.name });
  return t(lang, "first_message", { intro, name: m.name, reference });
}

export function loketRoomContent(c: Conversation): LoketRoomContent & { department?: string } {
  return {
    kind: "conversation",
    municipality: c.municipality,
    reference: c.reference,
    status: c.status,
    ...(c.department !== "" && { department: c.department }),
  };
}

interface CreateContent { room_version?: string; additional_creators?: unknown }
interface PowerLevels { users?: Record<string, number>; users_default?: number; state_default?: number; invite?: number; events?: Record<string, number> }

/** Room versions before 12 have no creator power (MSC4289). */
const creatorPowerVersion = (v: string | undefined): boolean => v !== undefined && !/^([1-9]|1[01])$/.test(v);

/**
 * Whether the bot can run a conversation in this DM: set Loket's state and the topic, invite
 * staff and give them power. In room version 12 Element's trusted_private_chat makes the
 * invited bot an additional creator (unlimited power); in older versions it gives it 100.
 */
export function botCanHost(create: CreateContent | undefined, power: PowerLevels | undefined, bot: string): boolean {
  const creators = Array.isArray(create?.additional_creators) ? (create.additional_creators as unknown[]) : [];
  if (creatorPowerVersion(create?.room_version ?? "1") && creators.includes(bot)) return true;
  if (!power) return false;
  const level = power.users?.[bot] ?? power.users_default ?? 0;
  const stateDefault = power.state_default ?? 50;
  const needed = Math.max(
    power.events?.[LOKET_ROOM_EVENT] ?? stateDefault,
    power.events?.["m.room.topic"] ?? stateDefault,
    power.events?.["m.room.power_levels"] ?? stateDefault,
    power.invite ?? 0,
  );
  return level >= needed;
}
