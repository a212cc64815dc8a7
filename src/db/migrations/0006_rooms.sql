-- Rooms and conversations (issue 6). Merged as 0004: numbered 0002 while on the rooms branch.

-- The index of the rooms Loket manages for each municipality (space, service desk, departments),
-- so that start-up compares config with this table instead of reading every room's state.
-- `applied` is what Loket last wrote into the room (name, topic, members, power, nl.loket.room).
CREATE TABLE managed_rooms (
  municipality text        NOT NULL,
  room_key     text        NOT NULL,
  kind         text        NOT NULL,
  department   text,
  room_id      text        NOT NULL UNIQUE,
  alias        text,
  name         text        NOT NULL,
  applied      text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (municipality, room_key)
);

-- One counter per municipality and year: a reference number is taken in the same transaction
-- that records its conversation, so numbers have no gaps and no duplicates.
CREATE TABLE reference_counters (
  municipality text NOT NULL,
  year         int  NOT NULL,
  last_number  int  NOT NULL,
  PRIMARY KEY (municipality, year)
);

CREATE TABLE conversations (
  id           bigserial   PRIMARY KEY,
  municipality text        NOT NULL,
  reference    text        NOT NULL UNIQUE,
  citizen      text        NOT NULL,
  -- the conversation room; NULL while Loket is still creating it
  room_id      text        UNIQUE,
  -- the citizen's DM with the bot, when the conversation lives in a room of its own
  dm_room_id   text,
  status       text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'closed')),
  department   text        NOT NULL,
  language     text        NOT NULL,
  assigned     text        NOT NULL DEFAULT '[]',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One open (or waiting) conversation per citizen per municipality.
CREATE UNIQUE INDEX conversations_one_open ON conversations (municipality, citizen) WHERE status <> 'closed';
CREATE INDEX conversations_dm ON conversations (dm_room_id) WHERE dm_room_id IS NOT NULL;
