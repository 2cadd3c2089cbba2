ALTER TABLE refresh_tokens DROP COLUMN successor_sealed, DROP COLUMN successor_id;
