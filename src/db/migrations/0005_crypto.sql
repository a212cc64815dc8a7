-- E2EE (src/crypto): one OlmMachine store per bot device, and room events waiting for their key.
-- Merge note: written as 0002 because the migration runner wants contiguous numbers; it is meant
-- to become 0005_crypto.sql when merged after 0002-0004.
CREATE TABLE crypto_stores (
  user_id     text        PRIMARY KEY,
  -- fixed device id of the bot, chosen once and kept for ever
  device_id   text        NOT NULL,
  -- schema of the OlmMachine's IndexedDB databases (versions, object stores, indexes),
  -- v8-serialised and sealed with AES-256-GCM (crypto.store_key); NULL until the first persist
  dump        bytea,
  -- next_batch of the bot device's /sync, written in the same transaction as the records that
  -- processed it
  sync_token  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The records of those databases, one row per IndexedDB key, each sealed (AES-256-GCM, bound to
-- its bot and id); a persist writes only the records that changed since the previous one.
CREATE TABLE crypto_store_records (
  user_id     text        NOT NULL REFERENCES crypto_stores (user_id) ON DELETE CASCADE,
  -- sha256 over database, object store and key
  record_id   text        NOT NULL,
  data        bytea       NOT NULL,
  PRIMARY KEY (user_id, record_id)
);

-- Encrypted room events whose room key had not arrived; retried when a key arrives and at start.
CREATE TABLE crypto_waiting_events (
  event_id    text        PRIMARY KEY,
  room_id     text        NOT NULL,
  session_id  text        NOT NULL,
  -- the event exactly as received (ciphertext)
  event       text        NOT NULL,
  reason      text        NOT NULL,
  attempts    int         NOT NULL DEFAULT 0,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crypto_waiting_events_session ON crypto_waiting_events (room_id, session_id);
