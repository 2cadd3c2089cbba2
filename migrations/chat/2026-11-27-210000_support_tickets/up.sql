-- Support tickets: a user's question to support, its thread of replies, the files attached
-- when it was opened, and the audit trail of what admins did with it.
CREATE TABLE tickets (
    id               BIGSERIAL PRIMARY KEY,
    -- The author: only they and admins see the ticket.
    user_id          BIGINT      NOT NULL,
    subject          TEXT        NOT NULL,
    body             TEXT        NOT NULL,
    category         TEXT        NOT NULL
        CHECK (category IN ('account', 'order', 'payment', 'technical', 'complaint', 'other')),
    status           TEXT        NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    -- The admin handling it, if any.
    assignee_id      BIGINT,
    order_id         BIGINT,
    request_id       BIGINT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The last reply or status change: lists show the most recently active first.
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tickets_author_recent ON tickets (user_id, last_activity_at DESC, id DESC);
CREATE INDEX tickets_recent ON tickets (last_activity_at DESC, id DESC);
CREATE INDEX tickets_status_recent ON tickets (status, last_activity_at DESC, id DESC);
CREATE INDEX tickets_assignee_recent ON tickets (assignee_id, last_activity_at DESC, id DESC)
    WHERE assignee_id IS NOT NULL;

CREATE TABLE ticket_replies (
    id           BIGSERIAL PRIMARY KEY,
    ticket_id    BIGINT      NOT NULL REFERENCES tickets (id),
    author_id    BIGINT      NOT NULL,
    -- Written by support (an admin), not by the ticket's author.
    from_support BOOLEAN     NOT NULL,
    body         TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ticket_replies_thread ON ticket_replies (ticket_id, id);

-- Files stored in the object store under `path`; served only to the ticket's readers.
CREATE TABLE ticket_attachments (
    id           BIGSERIAL PRIMARY KEY,
    ticket_id    BIGINT      NOT NULL REFERENCES tickets (id),
    path         TEXT        NOT NULL,
    file_name    TEXT,
    content_type TEXT        NOT NULL,
    size         BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, id);

-- Every admin action on a ticket (status change, assignment, reply), written in the
-- transaction of the action.
CREATE TABLE ticket_audit (
    id         BIGSERIAL PRIMARY KEY,
    ticket_id  BIGINT      NOT NULL REFERENCES tickets (id),
    actor_id   BIGINT      NOT NULL,
    action     TEXT        NOT NULL CHECK (action IN ('status_changed', 'assigned', 'replied')),
    details    JSONB       NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ticket_audit_ticket ON ticket_audit (ticket_id, id);
