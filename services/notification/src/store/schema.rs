// Mirrors migrations/notification; checked by the integration tests that run every query.

diesel::table! {
    contacts (user_id) {
        user_id -> BigInt,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        locale -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    settings (user_id) {
        user_id -> BigInt,
        time_zone -> Text,
        quiet_start -> Nullable<SmallInt>,
        quiet_end -> Nullable<SmallInt>,
        digest -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    preferences (user_id, kind, channel) {
        user_id -> BigInt,
        kind -> Text,
        channel -> Text,
        enabled -> Bool,
    }
}

diesel::table! {
    push_tokens (token) {
        token -> Text,
        user_id -> BigInt,
        platform -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        data -> Jsonb,
        source -> Text,
        in_app -> Bool,
        digest_pending -> Bool,
        read_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        notification_id -> BigInt,
        user_id -> BigInt,
        channel -> Text,
        security -> Bool,
        destination -> Nullable<Text>,
        idempotency_key -> Uuid,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamptz,
        provider_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempt -> Integer,
        channel -> Text,
        outcome -> Text,
        provider_id -> Nullable<Text>,
        error -> Nullable<Text>,
        latency_ms -> Integer,
        created_at -> Timestamptz,
        request -> Nullable<Text>,
    }
}

diesel::table! {
    recorded_messages (id) {
        id -> BigInt,
        channel -> Text,
        destination -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(deliveries -> notifications (notification_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    contacts,
    settings,
    preferences,
    push_tokens,
    notifications,
    deliveries,
    delivery_attempts,
    recorded_messages
);
