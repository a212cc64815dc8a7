-- The archive (Archiefwet). Every event in a municipality's rooms is one row of archive_records,
-- written exactly once (event_id is unique) while the event is processed. Records form one
-- SHA-256 hash chain per municipality (seq 1, 2, ...); archive_heads holds each chain's head and
-- is locked (SELECT ... FOR UPDATE) by every writer, so concurrent rooms cannot fork a chain.
CREATE TABLE archive_records (
  id               bigserial   PRIMARY KEY,
  municipality     text        NOT NULL,
  seq              bigint      NOT NULL,
  room_id          text        NOT NULL,
  -- the conversation's key: its reference number, or the room id while rooms have none
  conversation     text        NOT NULL,
  reference        text,
  event_id         text        NOT NULL UNIQUE,
  event_type       text        NOT NULL,
  state_key        text,
  sender           text        NOT NULL,
  origin_server_ts bigint      NOT NULL,
  received_at      timestamptz NOT NULL,
  -- the event as received (decrypted when available); null once destroyed (a tombstone)
  content          jsonb,
  -- the encrypted event as received, when the room is encrypted; null otherwise or once destroyed
  ciphertext       jsonb,
  content_sha256   text        NOT NULL,
  prev_hash        text        NOT NULL,
  hash             text        NOT NULL,
  destroyed_at     timestamptz,
  destruction_id   bigint,
  UNIQUE (municipality, seq)
);
CREATE INDEX archive_records_conversation ON archive_records (conversation, seq);
CREATE INDEX archive_records_sender ON archive_records (sender);

CREATE TABLE archive_heads (
  municipality text   PRIMARY KEY,
  seq          bigint NOT NULL,
  hash         text   NOT NULL
);

-- One row per conversation: what retention needs (category, closing date) and export shows.
CREATE TABLE archive_conversations (
  conversation text        PRIMARY KEY,
  municipality text        NOT NULL,
  room_id      text        NOT NULL,
  reference    text,
  citizen      text,
  category     text,
  department   text,
  opened_at    timestamptz NOT NULL,
  last_at      timestamptz NOT NULL,
  closed_at    timestamptz,
  destroyed_at timestamptz
);
CREATE INDEX archive_conversations_municipality ON archive_conversations (municipality, last_at);

-- Checkpoints: a chain head witnessed at a time (and posted to the staff room as state).
CREATE TABLE archive_checkpoints (
  id            bigserial   PRIMARY KEY,
  municipality  text        NOT NULL,
  seq           bigint      NOT NULL,
  hash          text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  room_id       text,
  event_id      text
);

-- Media of archived events; rows with status 'pending' are the durable download queue.
CREATE TABLE archive_media (
  event_id        text        NOT NULL,
  url             text        NOT NULL,
  municipality    text        NOT NULL,
  bot             text        NOT NULL,
  encrypted       boolean     NOT NULL DEFAULT false,
  status          text        NOT NULL DEFAULT 'pending',
  sha256          text,
  size            bigint,
  mime            text,
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  stored_at       timestamptz,
  PRIMARY KEY (event_id, url)
);
CREATE INDEX archive_media_pending ON archive_media (next_attempt_at) WHERE status = 'pending';

CREATE TABLE archive_holds (
  id            bigserial   PRIMARY KEY,
  municipality  text        NOT NULL,
  conversation  text,
  citizen       text,
  reason        text        NOT NULL,
  created_by    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  released_by   text,
  released_at   timestamptz,
  CHECK ((conversation IS NULL) <> (citizen IS NULL))
);

CREATE TABLE archive_destructions (
  id            bigserial   PRIMARY KEY,
  municipality  text        NOT NULL,
  list_id       text        NOT NULL,
  list_sha256   text        NOT NULL,
  approved_by   text        NOT NULL,
  destroyed_at  timestamptz NOT NULL DEFAULT now(),
  -- [{conversation, reference, category, retention_years, closed_at, records}]
  conversations jsonb       NOT NULL,
  skipped       jsonb       NOT NULL
);

-- Outbox of the archive hooks: one row per record and hook, delivered in order per conversation.
CREATE TABLE archive_hook_outbox (
  id              bigserial   PRIMARY KEY,
  hook            int         NOT NULL,
  conversation    text        NOT NULL,
  record_id       bigint      NOT NULL,
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  delivered_at    timestamptz
);
CREATE INDEX archive_hook_outbox_pending ON archive_hook_outbox (hook, conversation, id) WHERE delivered_at IS NULL;

-- The audit log of archive reads, exports, destructions, holds and GDPR actions: append-only
-- (a trigger refuses UPDATE and DELETE) and chained like the records.
CREATE TABLE archive_audit (
  seq       bigint      PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text        NOT NULL,
  action    text        NOT NULL,
  object    text        NOT NULL,
  result    text        NOT NULL,
  origin    text        NOT NULL,
  prev_hash text        NOT NULL,
  hash      text        NOT NULL
);
CREATE FUNCTION archive_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'archive_audit is append-only';
END $$;
CREATE TRIGGER archive_audit_append_only BEFORE UPDATE OR DELETE ON archive_audit
  FOR EACH ROW EXECUTE FUNCTION archive_audit_append_only();
