-- The grace window of refresh rotation: a token rotated moments ago answers a retry with the
-- same successor. The successor is kept sealed with a key derived from the rotated token, so
-- only someone who presents that token can read it.
ALTER TABLE refresh_tokens
    ADD COLUMN successor_id     BIGINT REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    ADD COLUMN successor_sealed BYTEA;
