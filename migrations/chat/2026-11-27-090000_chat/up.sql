-- One conversation between two users, optionally about a request. `last_seq` is the chat's
-- message counter: a message takes `last_seq + 1` under the chat row's lock, so sequence
-- numbers are gapless and commit in order (docs/decisions/0007-chat-delivery.md).
CREATE TABLE chats (
    id              BIGSERIAL PRIMARY KEY,
    -- The two participants, smaller id first: one chat per pair and request.
    user_low        BIGINT      NOT NULL,
    user_high       BIGINT      NOT NULL,
    request_id      BIGINT,
    last_seq        BIGINT      NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (user_low < user_high)
);
CREATE UNIQUE INDEX chats_pair_request ON chats (user_low, user_high, COALESCE(request_id, 0));

-- A participant's side of a chat: how far they have read, and when the chat last moved (so
-- that "my chats, most recent first" is one index range however many chats a user has).
CREATE TABLE chat_members (
    chat_id          BIGINT      NOT NULL REFERENCES chats (id),
    user_id          BIGINT      NOT NULL,
    partner_id       BIGINT      NOT NULL,
    read_seq         BIGINT      NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_recent ON chat_members (user_id, last_activity_at DESC, chat_id DESC);

CREATE TABLE messages (
    id                BIGSERIAL PRIMARY KEY,
    chat_id           BIGINT      NOT NULL REFERENCES chats (id),
    seq               BIGINT      NOT NULL,
    -- NULL for a system message (the chat was opened by an accepted proposal, …).
    sender_id         BIGINT,
    kind              TEXT        NOT NULL CHECK (kind IN ('text', 'image', 'voice', 'video', 'file', 'system')),
    body              TEXT        NOT NULL DEFAULT '',
    media_url         TEXT,
    media_type        TEXT,
    media_size        BIGINT,
    client_message_id TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at         TIMESTAMPTZ,
    deleted_at        TIMESTAMPTZ,
    UNIQUE (chat_id, seq)
);
-- A re-sent message (same sender, same client id) returns the first one.
CREATE UNIQUE INDEX messages_client_id ON messages (chat_id, sender_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

-- Auth's blocks, projected from user.blocked / user.unblocked.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL,
    blocked_id BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
