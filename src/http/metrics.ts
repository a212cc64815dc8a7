// Every metric Loket exports, in one place. Prefix loket_. One registry per app instance, so that
// tests can run several instances in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "loket_" });
  const m = {
    registry,
    transactions: new Counter({
      name: "loket_transactions_total",
      help: "Appservice transactions received, by outcome: stored, duplicate, poison (recorded in inbox_poison and acknowledged), empty (nothing to keep), rejected (not a transaction), refused (busy or stopping), failed (storage error).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "loket_auth_failures_total",
      help: "Appservice API requests without (missing) or with a wrong (invalid) hs_token.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    homeserverPings: new Counter({
      name: "loket_homeserver_pings_total",
      help: "Appservice pings Loket asked the homeserver for (start-up, recovery), by outcome (ok, failed).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: "loket_handler_retries_total",
      help: "Event handlers retried after a passing failure (homeserver unreachable, overloaded, rate limited).",
      labelNames: ["capability"] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: "loket_events_total",
      help: "Persistent events stored from transactions, by type (m.* types; others as 'other').",
      labelNames: ["type"] as const,
      registers: [registry],
    }),
    processing: new Histogram({
      name: "loket_event_processing_seconds",
      help: "Time from storing an event to finishing its handlers; events no capability acts on are done without being routed and not counted here.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    handlerFailures: new Counter({
      name: "loket_handler_failures_total",
      help: "Event handlers that threw, by capability.",
      labelNames: ["capability"] as const,
      registers: [registry],
    }),
    taskFailures: new Counter({
      name: "loket_task_failures_total",
      help: "Background tasks that failed, by task name.",
      labelNames: ["task"] as const,
      registers: [registry],
    }),
    poison: new Counter({
      name: "loket_poison_transactions_total",
      help: "Transactions recorded as poison (inbox_poison) and acknowledged so that the homeserver moves on, by reason: transaction_id (not UTF-8), not_utf8 (body), too_deep, too_many_events, event_too_large, database_rejected (SQLSTATE class 22); and not_a_transaction: a stored body found at start-up not to decode (Loket stopped between storing it and answering 400).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    roomsReconciled: new Counter({
      name: "loket_rooms_reconciled_total",
      help: "Managed rooms (spaces, service desks, department rooms) checked against the config, by action: created, updated, unchanged.",
      labelNames: ["action"] as const,
      registers: [registry],
    }),
    botRoomLosses: new Counter({
      name: "loket_bot_room_losses_total",
      help: "A municipality bot was kicked or banned from a room, or lost power in it, by reason: kicked, banned, power.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    conversations: new Counter({
      name: "loket_conversations_total",
      help: "Citizen conversations, by event: opened (in the DM), opened_room (in a room Loket created), reused, reopened, taken.",
      labelNames: ["event"] as const,
      registers: [registry],
    }),
    queue: new Counter({
      name: "loket_queue_events_total",
      help: "The service queue, by event: queued (a citizen's first question), requeued (after reopening), assigned, handed_over, closed, waiting.",
      labelNames: ["event"] as const,
      registers: [registry],
    }),
    autoReplies: new Counter({
      name: "loket_auto_replies_total",
      help: "Answers promising a time to a citizen, by kind: closed (outside office hours) or receipt (inside).",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    termsMissed: new Counter({
      name: "loket_response_terms_missed_total",
      help: "Response terms that passed without a staff reply (escalated to the department room and coordinator).",
      labelNames: ["municipality", "department"] as const,
      registers: [registry],
    }),
    pending: new Gauge({
      name: "loket_inbox_pending_events",
      help: "Events waiting in memory to be processed (stored, or loaded at start-up).",
      registers: [registry],
    }),
    pendingBytes: new Gauge({
      name: "loket_inbox_pending_bytes",
      help: "Stored JSON bytes of the transactions waiting in memory to be processed.",
      registers: [registry],
    }),
    homeserverInFlight: new Gauge({
      name: "loket_homeserver_requests_in_flight",
      help: "Requests to the homeserver under way (at most homeserver.max_concurrent_requests).",
      registers: [registry],
    }),
    homeserverWaiting: new Gauge({
      name: "loket_homeserver_requests_waiting",
      help: "Requests to the homeserver waiting for a free slot or for the homeserver to answer again.",
      registers: [registry],
    }),
    homeserverUnreachable: new Gauge({
      name: "loket_homeserver_unreachable",
      help: "1 while the homeserver does not answer and every room's calls pause (circuit breaker open), else 0.",
      registers: [registry],
    }),
    homeserverOutages: new Counter({
      name: "loket_homeserver_outages_total",
      help: "Times the homeserver stopped answering and the calls of every room paused (circuit breaker opened).",
      registers: [registry],
    }),
    cryptoDecryptions: new Counter({
      name: "loket_crypto_decryptions_total",
      help: "Encrypted room events the bots tried to decrypt, by outcome: ok, waiting (room key not there yet: kept in crypto_waiting_events), failed (cannot be decrypted). An event that waited is counted again when it decrypts (ok) or fails later.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    cryptoEncryptions: new Counter({
      name: "loket_crypto_encryptions_total",
      help: "Room events the bots encrypted for an encrypted room, by outcome: ok, failed.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    cryptoWaitingEvents: new Gauge({
      name: "loket_crypto_waiting_events",
      help: "Encrypted events waiting for their room key (crypto_waiting_events); they are handled when the key arrives.",
      registers: [registry],
    }),
    cryptoOneTimeKeys: new Gauge({
      name: "loket_crypto_one_time_keys",
      help: "Signed curve25519 one-time keys of each bot's device on the homeserver, as the last /sync or key upload said; the bots top them up. Near 0: new Olm sessions fall back to the fallback key.",
      labelNames: ["bot"] as const,
      registers: [registry],
    }),
    cryptoPersist: new Histogram({
      name: "loket_crypto_store_persist_seconds",
      help: "Time to persist a bot's crypto store (dump, seal and write the changed records in one transaction).",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    databaseUp: new Gauge({
      name: "loket_database_up",
      help: "1 when the last database check succeeded, else 0.",
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

const KNOWN_TYPE = /^m\.[a-z.]+$/;
export function eventTypeLabel(type: string): string {
  return KNOWN_TYPE.test(type) && type.length < 40 ? type : "other";
}
