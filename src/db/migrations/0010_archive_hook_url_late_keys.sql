-- Archive hook deliveries are keyed by the hook's URL, no longer by its position in
-- archive.hooks (reordering or removing a hook re-routed pending deliveries). Rows written before
-- this migration keep their position in `hook`, with hook_url NULL: at start Loket adopts them,
-- mapping each position through archive.hooks as configured then (src/archive/hooks.ts), so
-- upgrade first and reorder later. New rows leave `hook` NULL.
ALTER TABLE archive_hook_outbox ADD COLUMN hook_url text;
ALTER TABLE archive_hook_outbox ALTER COLUMN hook DROP NOT NULL;
DROP INDEX archive_hook_outbox_pending;
CREATE INDEX archive_hook_outbox_pending ON archive_hook_outbox (hook_url, conversation, id) WHERE delivered_at IS NULL;

-- An encrypted event whose room key had not arrived is archived as its ciphertext (event_type
-- m.room.encrypted); when the key arrives its decrypted content becomes a second, later record
-- with the same event_id. So event_id is unique per kind of record, not overall.
ALTER TABLE archive_records DROP CONSTRAINT archive_records_event_id_key;
CREATE UNIQUE INDEX archive_records_event ON archive_records (event_id, (event_type = 'm.room.encrypted'));
