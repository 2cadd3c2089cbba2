CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    username          TEXT        NOT NULL,
    email             TEXT,
    phone             TEXT,
    password_hash     TEXT        NOT NULL,
    role              TEXT        NOT NULL CHECK (role IN ('buyer', 'master', 'admin')),
    first_name        TEXT,
    last_name         TEXT,
    nickname          TEXT,
    description       TEXT,
    avatar_url        TEXT,
    region            TEXT,
    experience_years  INTEGER     NOT NULL DEFAULT 0 CHECK (experience_years BETWEEN 0 AND 80),
    last_login_at     TIMESTAMPTZ,
    -- Master statistics, kept by the marketplace service (master.stats_changed).
    rating            DOUBLE PRECISION NOT NULL DEFAULT 0,
    review_count      INTEGER     NOT NULL DEFAULT 0,
    completed_orders  INTEGER     NOT NULL DEFAULT 0,
    email_verified_at TIMESTAMPTZ,
    phone_verified_at TIMESTAMPTZ,
    status            TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned', 'suspended')),
    suspended_until   TIMESTAMPTZ,
    status_reason     TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);

-- Uniqueness is what makes two racing registrations end with exactly one account.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE verification_codes (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel     TEXT        NOT NULL CHECK (channel IN ('sms', 'email')),
    destination TEXT        NOT NULL,
    code_hash   TEXT        NOT NULL,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX verification_codes_destination ON verification_codes (destination, created_at DESC);

CREATE TABLE refresh_tokens (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  UUID        NOT NULL,
    token_hash TEXT        NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- User search: typo-tolerant and prefix matching on usernames and names (Cyrillic included).
CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin ((coalesce(first_name, '') || ' ' || coalesce(last_name, '')) gin_trgm_ops);

CREATE TABLE subscriptions (
    follower_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);

CREATE INDEX subscriptions_followee ON subscriptions (followee_id, created_at DESC);
CREATE INDEX subscriptions_follower ON subscriptions (follower_id, created_at DESC);

CREATE TABLE blocks (
    blocker_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- Every admin action: who did what to whom, the state before and after.
CREATE TABLE admin_audit (
    id         BIGSERIAL PRIMARY KEY,
    actor_id   BIGINT      NOT NULL REFERENCES users (id),
    action     TEXT        NOT NULL,
    target_id  BIGINT      NOT NULL REFERENCES users (id),
    before     JSONB       NOT NULL,
    after      JSONB       NOT NULL,
    reason     TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX admin_audit_target ON admin_audit (target_id, created_at DESC);
