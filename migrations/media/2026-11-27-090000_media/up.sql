-- Videos: uploaded by any of the three paths (multipart, seed chunks, tus), then processed by
-- the worker: uploaded → processing → ready | failed (with the reason).
CREATE TABLE videos (
    id                  BIGSERIAL PRIMARY KEY,
    user_id             BIGINT      NOT NULL,
    title               TEXT        NOT NULL,
    description         TEXT        NOT NULL DEFAULT '',
    hashtags            TEXT[]      NOT NULL DEFAULT '{}',
    price_minor         BIGINT CHECK (price_minor >= 0),
    product_description TEXT,
    is_ad               BOOLEAN     NOT NULL DEFAULT FALSE,
    status              TEXT        NOT NULL DEFAULT 'uploaded'
                        CHECK (status IN ('uploaded', 'processing', 'ready', 'failed')),
    failure_reason      TEXT,
    attempts            INTEGER     NOT NULL DEFAULT 0,
    original_path       TEXT        NOT NULL,
    container           TEXT        NOT NULL,
    size_bytes          BIGINT      NOT NULL,
    cover_path          TEXT,
    -- ffprobe facts
    duration_ms         BIGINT,
    codec               TEXT,
    width               INTEGER,
    height              INTEGER,
    fps                 DOUBLE PRECISION,
    bitrate             BIGINT,
    -- worker output
    thumbnails          TEXT[]      NOT NULL DEFAULT '{}',
    hls_path            TEXT,
    renditions          TEXT[]      NOT NULL DEFAULT '{}',
    processed_at        TIMESTAMPTZ,
    views_count         BIGINT      NOT NULL DEFAULT 0,
    likes_count         BIGINT      NOT NULL DEFAULT 0,
    comments_count      BIGINT      NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX videos_user_id_idx ON videos (user_id, created_at DESC, id DESC);
CREATE INDEX videos_ready_idx ON videos (created_at DESC, id DESC) WHERE status = 'ready';
CREATE INDEX videos_hashtags_idx ON videos USING gin (hashtags);
CREATE INDEX videos_pending_idx ON videos (updated_at) WHERE status IN ('uploaded', 'processing');

-- Resumable uploads, both the seed's chunked API (chunks written at their place in a staged
-- file, any order) and tus 1.0 (appends at `offset`). Staged bytes live in files named after
-- the id; an upload that is not finished by `expires_at` is deleted with its file.
CREATE TABLE uploads (
    id            UUID PRIMARY KEY,
    user_id       BIGINT      NOT NULL,
    protocol      TEXT        NOT NULL CHECK (protocol IN ('chunks', 'tus')),
    -- total length; NULL while a tus upload defers it
    length        BIGINT CHECK (length >= 0),
    "offset"      BIGINT      NOT NULL DEFAULT 0,
    chunk_size    BIGINT,
    total_chunks  INTEGER,
    file_name     TEXT,
    -- the video's fields (title, description, hashtags, price, ...) as given at the start
    metadata      JSONB       NOT NULL DEFAULT '{}',
    -- tus: the raw Upload-Metadata header, answered back on HEAD
    tus_metadata  TEXT,
    -- tus concatenation: 'partial' parts are not videos; a 'final' upload is made of parts
    concat        TEXT CHECK (concat IN ('partial', 'final')),
    parts         UUID[]      NOT NULL DEFAULT '{}',
    status        TEXT        NOT NULL DEFAULT 'receiving'
                  CHECK (status IN ('receiving', 'assembling', 'complete', 'rejected')),
    video_id      BIGINT REFERENCES videos (id) ON DELETE SET NULL,
    error         JSONB,
    expires_at    TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX uploads_expiry_idx ON uploads (expires_at) WHERE status IN ('receiving', 'assembling', 'rejected');

-- The chunks of a chunked upload that have arrived (a re-sent chunk is the same row).
CREATE TABLE upload_chunks (
    upload_id   UUID    NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    size_bytes  BIGINT  NOT NULL,
    PRIMARY KEY (upload_id, chunk_index)
);

-- Likes: one per user and video; the counter on the video moves in the same transaction.
CREATE TABLE video_likes (
    video_id   BIGINT      NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);

CREATE TABLE comments (
    id         BIGSERIAL PRIMARY KEY,
    video_id   BIGINT      NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL,
    text       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX comments_video_idx ON comments (video_id, created_at DESC, id DESC);

-- View counts are buffered in Redis and flushed in batches; a batch's id is recorded with its
-- counts, so a batch retried after a crash is not counted twice.
CREATE TABLE view_flushes (
    id         TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Files of deleted videos, removed by a job after the deletion commits (it survives a crash).
CREATE TABLE file_deletions (
    prefix     TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Projections of auth's events: who follows whom, who blocked whom.
CREATE TABLE follows (
    follower_id BIGINT NOT NULL,
    followee_id BIGINT NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL,
    blocked_id BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE stories (
    id               BIGSERIAL PRIMARY KEY,
    user_id          BIGINT      NOT NULL,
    kind             TEXT        NOT NULL CHECK (kind IN ('image', 'video', 'voice')),
    media_path       TEXT        NOT NULL,
    caption          TEXT        NOT NULL DEFAULT '',
    background_color TEXT,
    music            TEXT,
    hashtags         TEXT[]      NOT NULL DEFAULT '{}',
    location         TEXT,
    is_pinned        BOOLEAN     NOT NULL DEFAULT FALSE,
    expired          BOOLEAN     NOT NULL DEFAULT FALSE,
    expires_at       TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX stories_user_idx ON stories (user_id, created_at DESC);
CREATE INDEX stories_expiry_idx ON stories (expires_at) WHERE NOT expired;
