-- Timers (migration 0004): work due at a moment (an answer term running out, a retention
-- date), kept as rows so that a restart forgets none. A timer is claimed with a lease before it
-- runs, so that with several Loket processes on one database each timer runs in one of them;
-- after a crash the lease runs out and it runs again (handlers are idempotent).
CREATE TABLE timers (
  id            bigserial   PRIMARY KEY,
  kind          text        NOT NULL,
  -- what the timer is for, unique per kind: scheduling it again moves it instead of adding one
  key           text        NOT NULL,
  due_at        timestamptz NOT NULL,
  payload       jsonb       NOT NULL DEFAULT '{}',
  claimed_until timestamptz,
  fired_at      timestamptz,
  UNIQUE (kind, key)
);

CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
