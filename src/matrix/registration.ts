// The appservice registration file that Synapse loads (app_service_config_files).
import type { Config } from "../config/schema.ts";

export interface Registration {
  id: string;
  url: string;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  rate_limited: boolean;
  receive_ephemeral: boolean;
  namespaces: {
    users: { exclusive: boolean; regex: string }[];
    aliases: { exclusive: boolean; regex: string }[];
    rooms: { exclusive: boolean; regex: string }[];
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

export function buildRegistration(config: Config): Registration {
  const domain = escape(config.homeserver.domain);
  const { appservice } = config;
  const bots = config.municipalities.map((m) => escape(m.bot_localpart));
  const users = [
    // Synapse matches with re.match: anchored at the start only, so anchor the end ourselves.
    ...bots.map((b) => ({ exclusive: true, regex: `@${b}:${domain}$` })),
    { exclusive: true, regex: `@${escape(appservice.user_prefix)}.*:${domain}$` },
  ];
  return {
    id: appservice.id,
    url: appservice.public_url,
    as_token: appservice.as_token,
    hs_token: appservice.hs_token,
    sender_localpart: appservice.sender_localpart,
    rate_limited: false,
    receive_ephemeral: true,
    namespaces: {
      users,
      aliases: [{ exclusive: true, regex: `#${escape(appservice.alias_prefix)}.*:${domain}$` }],
      rooms: [],
    },
  };
}
