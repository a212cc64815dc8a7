-- The service queue (issue 8): the promised answer time of each conversation, who is on duty,
-- and which staff direct rooms the bots keep (for a coordinator's escalations).

-- queued_at: when the current question entered the queue; due_at: the promised answer time
-- (NULL once staff answered, while waiting for the citizen, or when closed); overdue: the term
-- passed without a staff reply; last_citizen_at / last_staff_at: the quiet-period rule.
ALTER TABLE conversations ADD COLUMN queued_at       timestamptz;
ALTER TABLE conversations ADD COLUMN due_at          timestamptz;
ALTER TABLE conversations ADD COLUMN overdue         boolean NOT NULL DEFAULT false;
ALTER TABLE conversations ADD COLUMN last_citizen_at timestamptz;
ALTER TABLE conversations ADD COLUMN last_staff_at   timestamptz;
CREATE INDEX conversations_queue ON conversations (municipality, department, due_at) WHERE status = 'open';

-- Staff on duty per department; everybody starts off duty. last_assigned_at breaks ties.
CREATE TABLE staff_duty (
  municipality     text        NOT NULL,
  department       text        NOT NULL,
  user_id          text        NOT NULL,
  on_duty          boolean     NOT NULL,
  changed_at       timestamptz NOT NULL,
  last_assigned_at timestamptz,
  PRIMARY KEY (municipality, department, user_id)
);

-- A bot's direct room with a staff member (a coordinator hears of missed terms there).
CREATE TABLE staff_rooms (
  bot        text        NOT NULL,
  user_id    text        NOT NULL,
  room_id    text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot, user_id)
);

-- Each citizen question's decision (asked, answered, with which promise), recorded with the
-- queue change it made, so that processing the event again (a retry, a restart) answers the
-- same way instead of deciding anew from the rows it already changed.
CREATE TABLE queue_questions (
  event_id     text        PRIMARY KEY,
  conversation bigint      NOT NULL,
  at           timestamptz NOT NULL,
  due_at       timestamptz,
  answer       boolean     NOT NULL,
  reopened     boolean     NOT NULL
);

-- Conversations opened before the queue existed count as asked (their next message gets no
-- receipt; it starts the answer clock).
UPDATE conversations SET queued_at = created_at;
