// A municipality's bot user: registered in the appservice namespace, with the municipality's
// name as display name. The profile is written only when it differs: Synapse rewrites the bot's
// membership event in every room it is in when its display name is set.
import type { Logger } from "../logging.ts";
import type { Homeserver } from "../matrix/client.ts";
import { localpartOf } from "../matrix/ids.ts";
import type { Municipality } from "./municipalities.ts";

export async function ensureBot(hs: Homeserver, m: Municipality, log: Logger): Promise<void> {
  const outcome = await hs.ensureRegistered(localpartOf(m.botUserId));
  const bot = hs.intent(m.botUserId);
  const current = outcome === "created" ? undefined : await bot.getDisplayName(m.botUserId);
  const renamed = current !== m.name;
  if (renamed) await bot.setDisplayName(m.name);
  log.info({ municipality: m.id, bot: m.botUserId, outcome, renamed }, "municipality bot ready");
}
