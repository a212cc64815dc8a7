-- Intake keeps the raw bytes (issue 5): the body is stored as received, not after a UTF-8
-- decode. Existing bodies were valid text, so converting them loses nothing.
ALTER TABLE inbox_transactions ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');

-- Transactions Loket cannot use (the database refused their content, their id or body is not
-- UTF-8, or they exceed the spec's bounds). They were acknowledged so that the homeserver moves
-- on; kept here, bytes as received, for operators. Pruned with the inbox.
CREATE TABLE inbox_poison (
  id           bigserial   PRIMARY KEY,
  -- the transaction id from the request path, percent-decoded to bytes
  txn_id       bytea       NOT NULL,
  body         bytea       NOT NULL,
  reason       text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX inbox_poison_received ON inbox_poison (received_at);
