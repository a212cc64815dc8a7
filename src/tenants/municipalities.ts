// The municipalities of this deployment and their bot identities, derived once from the config.
import type { Config, MunicipalityConfig } from "../config/schema.ts";
import { userId, type UserId } from "../matrix/ids.ts";

export interface Municipality {
  readonly id: string;
  readonly name: string;
  readonly botUserId: UserId;
  readonly config: MunicipalityConfig;
  /** Staff of the municipality: its own staff list and every department's. */
  readonly staff: ReadonlySet<string>;
}

export class Municipalities {
  readonly all: readonly Municipality[];
  readonly senderUserId: UserId;
  private readonly byBot: ReadonlyMap<string, Municipality>;
  private readonly defaultId: string;
  private readonly virtualPrefix: string;

  constructor(config: Config) {
    this.virtualPrefix = `@${config.appservice.user_prefix}`;
    const domain = config.homeserver.domain;
    this.all = config.municipalities.map((m) => ({
      id: m.id,
      name: m.name,
      botUserId: userId(m.bot_localpart, domain),
      config: m,
      staff: new Set([...m.staff.map((s) => (typeof s === "string" ? s : s.user)), ...m.departments.flatMap((d) => d.staff)]),
    }));
    this.byBot = new Map(this.all.map((m) => [m.botUserId, m]));
    this.senderUserId = userId(config.appservice.sender_localpart, domain);
    this.defaultId = config.appservice.default_municipality;
  }

  byBotUserId(id: string): Municipality | undefined {
    return this.byBot.get(id);
  }

  get defaultMunicipality(): Municipality | undefined {
    return this.all.find((m) => m.id === this.defaultId);
  }

  /** True for users Loket itself acts as: the municipality bots and the appservice sender. */
  isOwnBot(id: string): boolean {
    return id === this.senderUserId || this.byBot.has(id);
  }

  /**
   * True for every user in Loket's namespace: its bots and the virtual (bridged) users of
   * `appservice.user_prefix`. The homeserver sends Loket every event by or about them.
   */
  isLoketUser(id: string): boolean {
    return this.isOwnBot(id) || id.startsWith(this.virtualPrefix);
  }
}
