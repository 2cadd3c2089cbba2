-- Where a user can be reached, learnt from auth's verification events (codes go to the
-- address being verified) and kept current as new codes are requested.
CREATE TABLE contacts (
    user_id    BIGINT PRIMARY KEY,
    email      TEXT,
    phone      TEXT,
    locale     TEXT        NOT NULL DEFAULT 'ru',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A user's delivery settings; a user without a row has the defaults.
CREATE TABLE settings (
    user_id     BIGINT PRIMARY KEY,
    time_zone   TEXT        NOT NULL DEFAULT 'Asia/Almaty',
    -- Quiet hours as minutes after local midnight; both set or both NULL.
    quiet_start SMALLINT CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end   SMALLINT CHECK (quiet_end BETWEEN 0 AND 1439),
    -- Low-priority notifications (likes, new followers) gathered into a periodic digest.
    digest      BOOLEAN     NOT NULL DEFAULT false,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- Per user, notification type and channel: the user's choice where it differs from the default.
CREATE TABLE preferences (
    user_id BIGINT  NOT NULL,
    kind    TEXT    NOT NULL,
    channel TEXT    NOT NULL CHECK (channel IN ('push', 'sms', 'email', 'in_app')),
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

-- OneSignal subscription ids of a user's devices.
CREATE TABLE push_tokens (
    token      TEXT PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    platform   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX push_tokens_user ON push_tokens (user_id);

-- What each master serves (from master.services_changed): who hears of a new request.
CREATE TABLE masters (
    master_id      BIGINT PRIMARY KEY,
    region_codes   TEXT[] NOT NULL,
    category_codes TEXT[] NOT NULL
);
CREATE INDEX masters_regions ON masters USING gin (region_codes);

-- One row per thing a user is told; the in-app list shows those with in_app.
CREATE TABLE notifications (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT      NOT NULL,
    kind           TEXT        NOT NULL,
    data           JSONB       NOT NULL DEFAULT '{}',
    -- The event (and reason) it comes from: an event never notifies a user twice of one thing.
    source         TEXT        NOT NULL,
    in_app         BOOLEAN     NOT NULL,
    digest_pending BOOLEAN     NOT NULL DEFAULT false,
    read_at        TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, source)
);
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC) WHERE in_app;
CREATE INDEX notifications_unread ON notifications (user_id) WHERE in_app AND read_at IS NULL;
CREATE INDEX notifications_digest ON notifications (user_id) WHERE digest_pending;

-- One row per (notification, channel): its idempotency key goes to the provider, so that a
-- retry, a redelivered event or a crash between sending and recording never sends twice.
CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    notification_id BIGINT      NOT NULL REFERENCES notifications ON DELETE CASCADE,
    user_id         BIGINT      NOT NULL,
    channel         TEXT        NOT NULL CHECK (channel IN ('push', 'sms', 'email', 'in_app')),
    -- Security messages (verification codes) ignore quiet hours and go to a fixed address.
    security        BOOLEAN     NOT NULL DEFAULT false,
    destination     TEXT,
    idempotency_key UUID        NOT NULL UNIQUE,
    status          TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'held', 'sent', 'dead', 'skipped')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    provider_id     TEXT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    UNIQUE (notification_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending', 'held');
CREATE INDEX deliveries_held ON deliveries (user_id) WHERE status = 'held';
CREATE INDEX deliveries_dead ON deliveries (updated_at DESC, id DESC) WHERE status = 'dead';

-- The delivery log: every attempt, with its outcome and latency.
CREATE TABLE delivery_attempts (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT      NOT NULL REFERENCES deliveries ON DELETE CASCADE,
    attempt     INTEGER     NOT NULL,
    channel     TEXT        NOT NULL,
    outcome     TEXT        NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'skipped')),
    provider_id TEXT,
    error       TEXT,
    latency_ms  INTEGER     NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);

-- Development mode: what would have been sent, for admins to see.
CREATE TABLE recorded_messages (
    id          BIGSERIAL PRIMARY KEY,
    channel     TEXT        NOT NULL,
    destination TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
