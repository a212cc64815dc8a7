// What the appservice API does with each request: the glue between the HTTP endpoint, the
// inbox, the recovery watch and the tenants.
import type { Config } from "../config/schema.ts";
import { MatrixHttpError } from "../http/errors.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { AppserviceHandlers } from "../matrix/appservice-api.ts";
import type { Homeserver } from "../matrix/client.ts";
import { localpartOf } from "../matrix/ids.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import type { Inbox } from "./inbox.ts";
import type { RecoveryWatch } from "./recovery.ts";

export interface IntakeDeps {
  config: Config;
  inbox: Inbox;
  recovery: RecoveryWatch;
  municipalities: Municipalities;
  homeserver: Homeserver;
  metrics: Metrics;
  log: Logger;
  stopping(): boolean;
  /** The room-alias query: true when the alias is Loket's and its room now exists. */
  roomQuery(alias: string): Promise<boolean>;
}

export function intakeHandlers(d: IntakeDeps): AppserviceHandlers {
  return {
    hsToken: d.config.appservice.hs_token,
    maxBodyBytes: d.config.appservice.max_body_bytes,
    onTransaction: (txnId, body, txn) => {
      if (d.stopping()) throw new MatrixHttpError(503, "M_UNKNOWN", "shutting down; retry later");
      if (d.inbox.overloaded) {
        d.recovery.refused("busy");
        throw new MatrixHttpError(503, "M_UNKNOWN", "busy; retry later");
      }
      return d.inbox.receive(txnId, body, txn);
    },
    onUserQuery: async (userId) => {
      const bot = d.municipalities.byBotUserId(userId);
      if (!bot) return false;
      await d.homeserver.ensureRegistered(localpartOf(bot.botUserId));
      return true;
    },
    onRoomQuery: (alias) => d.roomQuery(alias),
    onPing: (transactionId) => { d.log.debug({ transactionId }, "ping from the homeserver"); },
    onTransactionOutcome: (outcome, err) => {
      d.metrics.transactions.inc({ outcome });
      if (outcome === "failed") {
        d.log.error({ err }, "could not store a transaction; answered 503 so the homeserver retries");
        d.recovery.refused("database");
      }
    },
    onAuthFailure: (reason) => { d.metrics.authFailures.inc({ reason }); },
  };
}
