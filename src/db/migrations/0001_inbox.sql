-- The durable inbox: appservice transactions exactly as the homeserver sent them, stored before
-- they are acknowledged. One row per transaction keeps intake cheap; capabilities (the archive)
-- keep their own per-event records.
CREATE TABLE inbox_transactions (
  seq           bigserial   PRIMARY KEY,
  txn_id        text        NOT NULL,
  -- sha256 over the event ids: a retry has the same, a reset homeserver's reused id does not
  events_sha256 text        NOT NULL,
  event_count   int         NOT NULL,
  body          text        NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  UNIQUE (txn_id, events_sha256)
);

CREATE INDEX inbox_transactions_pending ON inbox_transactions (seq) WHERE processed_at IS NULL;
CREATE INDEX inbox_transactions_processed ON inbox_transactions (processed_at) WHERE processed_at IS NOT NULL;

-- Handlers that failed for good on an event: kept for operators, never retried automatically,
-- and kept when the transaction itself is pruned.
CREATE TABLE inbox_failures (
  id           bigserial   PRIMARY KEY,
  txn_seq      bigint      NOT NULL,
  event_id     text        NOT NULL,
  room_id      text        NOT NULL,
  failure      text        NOT NULL,
  failed_at    timestamptz NOT NULL DEFAULT now()
);
