CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- array_to_string is only STABLE (it serves any array type); for text[] it is immutable, which
-- a generated column needs.
CREATE FUNCTION hashtag_text(tags TEXT[]) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string(tags, ' ') $$;

-- Video search: stems (Russian; Kazakh words are matched by prefix) over the title, the
-- description, the hashtags and the product's description, plus trigrams for typos.
ALTER TABLE videos
    ADD COLUMN search_text TEXT GENERATED ALWAYS AS (title || ' ' || hashtag_text(hashtags)) STORED,
    ADD COLUMN search_document TSVECTOR GENERATED ALWAYS AS (to_tsvector('russian',
        title || ' ' || description || ' ' || hashtag_text(hashtags) || ' ' || coalesce(product_description, ''))) STORED;
CREATE INDEX videos_search_document ON videos USING gin (search_document) WHERE status = 'ready';
CREATE INDEX videos_search_trgm ON videos USING gin (search_text gin_trgm_ops) WHERE status = 'ready';
CREATE INDEX videos_products_idx ON videos (created_at DESC, id DESC) WHERE status = 'ready' AND price_minor IS NOT NULL;
CREATE INDEX follows_followee_idx ON follows (followee_id);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);

-- Stories: each viewer counted once, the author sees who; likes once per user.
ALTER TABLE stories
    ADD COLUMN views_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN likes_count BIGINT NOT NULL DEFAULT 0;
CREATE TABLE story_views (
    story_id  BIGINT      NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    viewer_id BIGINT      NOT NULL,
    viewed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (story_id, viewer_id)
);
CREATE INDEX story_views_viewer_idx ON story_views (viewer_id);
CREATE TABLE story_likes (
    story_id   BIGINT      NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (story_id, user_id)
);
CREATE INDEX stories_pinned_idx ON stories (user_id, created_at DESC) WHERE is_pinned;

-- Analyses of a video, asked for by its owner and made by a job (jobs.media.analyze):
-- queued → running → done | failed; the result says which method produced each finding.
CREATE TABLE video_analyses (
    id                   BIGSERIAL PRIMARY KEY,
    video_id             BIGINT           NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    analysis_type        TEXT             NOT NULL
                         CHECK (analysis_type IN ('furniture', 'scene', 'objects', 'text', 'sentiment')),
    confidence_threshold DOUBLE PRECISION NOT NULL CHECK (confidence_threshold BETWEEN 0 AND 1),
    status               TEXT             NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts             INTEGER          NOT NULL DEFAULT 0,
    findings             JSONB,
    error                TEXT,
    created_at           TIMESTAMPTZ      NOT NULL DEFAULT now(),
    finished_at          TIMESTAMPTZ
);
CREATE INDEX video_analyses_video_idx ON video_analyses (video_id, id DESC);
