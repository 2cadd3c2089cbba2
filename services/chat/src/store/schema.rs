// Mirrors migrations/chat; checked by the integration tests that run every query.

diesel::table! {
    chats (id) {
        id -> BigInt,
        user_low -> BigInt,
        user_high -> BigInt,
        request_id -> Nullable<BigInt>,
        last_seq -> BigInt,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    chat_members (chat_id, user_id) {
        chat_id -> BigInt,
        user_id -> BigInt,
        partner_id -> BigInt,
        read_seq -> BigInt,
        last_activity_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        chat_id -> BigInt,
        seq -> BigInt,
        sender_id -> Nullable<BigInt>,
        kind -> Text,
        body -> Text,
        media_url -> Nullable<Text>,
        media_type -> Nullable<Text>,
        media_size -> Nullable<BigInt>,
        client_message_id -> Nullable<Text>,
        created_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        media_name -> Nullable<Text>,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
    }
}

diesel::joinable!(chat_members -> chats (chat_id));
diesel::allow_tables_to_appear_in_same_query!(chats, chat_members, messages, blocks);

diesel::table! {
    calls (id) {
        id -> BigInt,
        caller_id -> BigInt,
        callee_id -> BigInt,
        kind -> Text,
        status -> Text,
        media_key -> Nullable<Binary>,
        media_salt -> Nullable<Binary>,
        ring_deadline -> Timestamptz,
        created_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        ended_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    call_lines (user_id) {
        user_id -> BigInt,
        call_id -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(calls, call_lines);

diesel::table! {
    tickets (id) {
        id -> BigInt,
        user_id -> BigInt,
        subject -> Text,
        body -> Text,
        category -> Text,
        status -> Text,
        assignee_id -> Nullable<BigInt>,
        order_id -> Nullable<BigInt>,
        request_id -> Nullable<BigInt>,
        created_at -> Timestamptz,
        last_activity_at -> Timestamptz,
    }
}

diesel::table! {
    ticket_replies (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        author_id -> BigInt,
        from_support -> Bool,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ticket_attachments (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        path -> Text,
        file_name -> Nullable<Text>,
        content_type -> Text,
        size -> BigInt,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ticket_audit (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        actor_id -> BigInt,
        action -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(ticket_replies -> tickets (ticket_id));
diesel::joinable!(ticket_attachments -> tickets (ticket_id));
diesel::joinable!(ticket_audit -> tickets (ticket_id));
diesel::allow_tables_to_appear_in_same_query!(tickets, ticket_replies, ticket_attachments, ticket_audit);
