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
