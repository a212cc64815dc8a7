// The appservice room-alias query (GET /_matrix/app/v1/rooms/{alias}): the homeserver asks when
// someone looks up an alias in Loket's exclusive namespace that does not exist. A declared alias
// gets its room on demand (created if it is missing, re-pointed if only the alias was deleted).
import type { Config, MunicipalityConfig } from "../config/schema.ts";
import type { Homeserver } from "../matrix/client.ts";
import { aliasLocalparts, aliasStem, botOf } from "./plan.ts";
import type { Reconciler } from "./reconcile.ts";

export interface DeclaredAlias {
  municipality: MunicipalityConfig;
  key: string;
}

/** Every alias the config declares, full form (#localpart:domain). */
export function declaredAliases(config: Config): Map<string, DeclaredAlias> {
  const out = new Map<string, DeclaredAlias>();
  for (const m of config.municipalities) {
    for (const [key, localpart] of aliasLocalparts(config.appservice.alias_prefix, aliasStem(m), m.departments.map((d) => d.id))) {
      out.set(`#${localpart}:${config.homeserver.domain}`, { municipality: m, key });
    }
  }
  return out;
}

export function aliasQueryHandler(config: Config, hs: Homeserver, reconciler: Reconciler): (alias: string) => Promise<boolean> {
  const declared = declaredAliases(config);
  return async (alias) => {
    const found = declared.get(alias);
    if (!found) return false;
    const room = await reconciler.ensureDeclared(found.municipality, found.key);
    if (!room) return false;
    // The room existed but its alias was deleted: point it back.
    await hs.intent(botOf(config, found.municipality)).createAlias(alias, room.roomId);
    return true;
  };
}
