DROP INDEX delivery_attempts_unfinished;
UPDATE delivery_attempts SET outcome = 'failed' WHERE outcome IN ('sending', 'in_doubt');
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check
    CHECK (outcome IN ('sent', 'retry', 'failed', 'skipped'));
ALTER TABLE delivery_attempts DROP COLUMN request;
