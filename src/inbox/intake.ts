// What the appservice API does with each request: the glue between the HTTP endpoint, the
// inbox, the recovery watch and the tenants.
import type { Config } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import { MatrixHttpError } from "../http/errors.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { AppserviceHandlers } from "../matrix/appservice-api.ts";
import type { Homeserver } from "../matrix/client.ts";
import { localpartOf } from "../matrix/ids.ts";
import type { Municipalities } from "../tenants/municipalities.ts";
import { InboxBusy, type Inbox } from "./inbox.ts";
import type { RecoveryWatch } from "./recovery.ts";
import { recordPoison } from "./store.ts";

export interface IntakeDeps {
  config: Config;
  inbox: Inbox;
  database: Database;
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
    onTransaction: async (txnId, body, content) => {
      if (d.stopping()) throw new MatrixHttpError(503, "M_UNKNOWN", "shutting down; retry later");
      try {
        const outcome = await d.inbox.receive(txnId, body, content);
        if (outcome === "poison") d.metrics.poison.inc({ reason: "database_rejected" });
        return outcome;
      } catch (err) {
        if (!(err instanceof InboxBusy)) throw err;
        d.recovery.refused("busy");
        throw new MatrixHttpError(503, "M_UNKNOWN", "busy; retry later");
      }
    },
    onPoison: async (rawTxnId, body, reason) => {
      await recordPoison(d.database, rawTxnId, body, reason);
      d.metrics.poison.inc({ reason });
      // The id as a hex string: it may hold any bytes. Never the body.
      d.log.error({ txnIdHex: rawTxnId.toString("hex"), reason, bytes: body.length }, "recorded a transaction Loket cannot use as poison and acknowledged it");
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
