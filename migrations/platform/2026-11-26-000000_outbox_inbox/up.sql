-- Transactional outbox: events written in the same transaction as the change they describe,
-- published afterwards by the relay (crates/platform/src/outbox.rs), then deleted.
CREATE TABLE outbox (
    seq          BIGSERIAL PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    event_type   TEXT        NOT NULL,
    aggregate_id TEXT        NOT NULL,
    kafka_topic  TEXT,
    nats_subject TEXT,
    payload      BYTEA       NOT NULL,
    traceparent  TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts     INTEGER     NOT NULL DEFAULT 0,
    last_error   TEXT,
    locked_until TIMESTAMPTZ,
    CHECK (kafka_topic IS NOT NULL OR nats_subject IS NOT NULL)
) WITH (fillfactor = 70); -- room for the lease updates to stay HOT (no index writes)

-- Wakes the relay of this schema as soon as a transaction with new events commits.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Idempotent consumers: an event id is recorded in the same transaction as its effect.
CREATE TABLE inbox (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    event_type   TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
