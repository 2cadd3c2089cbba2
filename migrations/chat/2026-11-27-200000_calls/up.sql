-- Calls between chat partners (services/chat/src/calls/machine.rs has the rules).
CREATE TABLE calls (
    id            BIGSERIAL PRIMARY KEY,
    caller_id     BIGINT      NOT NULL,
    callee_id     BIGINT      NOT NULL,
    kind          TEXT        NOT NULL CHECK (kind IN ('audio', 'video')),
    status        TEXT        NOT NULL DEFAULT 'ringing'
                  CHECK (status IN ('ringing', 'active', 'ended', 'missed', 'declined', 'cancelled')),
    -- A secure call's media key (AES-256-GCM, with its KDF salt), handed only to its
    -- participants with their WebRTC token; NULL for an ordinary call.
    media_key     BYTEA,
    media_salt    BYTEA,
    -- A ringing call not answered by then becomes missed (the sweep job; survives restarts).
    ring_deadline TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at   TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ,
    ended_by      BIGINT,
    CHECK (caller_id <> callee_id)
);
CREATE INDEX calls_of_caller ON calls (caller_id, created_at DESC, id DESC);
CREATE INDEX calls_of_callee ON calls (callee_id, created_at DESC, id DESC);
CREATE INDEX calls_ringing ON calls (ring_deadline) WHERE status = 'ringing';
CREATE INDEX calls_active ON calls (answered_at) WHERE status = 'active';

-- Who is on a line now: one row per participant of a ringing or active call, so that a
-- second call to or from a busy user fails on the primary key instead of racing a check.
CREATE TABLE call_lines (
    user_id BIGINT PRIMARY KEY,
    call_id BIGINT NOT NULL REFERENCES calls (id)
);
CREATE INDEX call_lines_call ON call_lines (call_id);
