-- Inter-government rooms (config federation.rooms) that Loket created, with what it last wrote
-- to each: every start reconciles config against this index, never by reading room state, and
-- writes state only where config differs from it.
CREATE TABLE federation_rooms (
  id            text        PRIMARY KEY,         -- federation.rooms[].id
  owner         text        NOT NULL,            -- municipality id whose bot created the room
  room_id       text        NOT NULL UNIQUE,
  room_version  text        NOT NULL,
  name          text        NOT NULL,            -- m.room.name last sent
  server_acl    text        NOT NULL,            -- m.room.server_acl content last sent (aclKey)
  staff         text        NOT NULL,            -- JSON array: staff invited and given power 50
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
