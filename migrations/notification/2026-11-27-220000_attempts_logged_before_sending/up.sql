-- An attempt is logged as `sending`, with what was asked of which provider, in its own
-- transaction before the provider is called, and finished after the answer. One still `sending`
-- when its delivery's lease has run out was cut short between the two (the sender died): its
-- message may or may not have gone, it is `in_doubt` (docs/decisions/0010-*).
ALTER TABLE delivery_attempts ADD COLUMN request TEXT;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check
    CHECK (outcome IN ('sending', 'sent', 'retry', 'failed', 'skipped', 'in_doubt'));
CREATE INDEX delivery_attempts_unfinished ON delivery_attempts (delivery_id) WHERE outcome = 'sending';
