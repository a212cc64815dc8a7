-- Outgoing messages (migration 0003): every message a bot sends is recorded under a
-- transaction id derived from its cause, before it is sent and again with the event id once the
-- homeserver accepted it, so that a replay after a crash (or a homeserver restart, which forgets
-- its own transaction cache) never sends it twice.
CREATE TABLE outgoing_sends (
  txn_id      text        PRIMARY KEY,
  sender      text        NOT NULL,
  room_id     text        NOT NULL,
  event_type  text        NOT NULL,
  -- null until the homeserver accepted the send
  event_id    text,
  -- in encrypted rooms, the ciphertext sent, so that a retry sends the very same event
  content     jsonb,
  attempts    int         NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);

-- Rooms that a bot joined as a citizen's direct chat: while it is there, the room must stay a
-- direct chat (not public, nobody else in it), or the bot leaves.
CREATE TABLE direct_rooms (
  room_id     text        NOT NULL,
  bot         text        NOT NULL,
  citizen     text        NOT NULL,
  joined_at   timestamptz NOT NULL DEFAULT now(),
  left_at     timestamptz,
  PRIMARY KEY (room_id, bot)
);
