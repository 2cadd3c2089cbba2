// Mirrors migrations/auth; checked by the integration tests that run every query.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        nickname -> Nullable<Text>,
        description -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        region -> Nullable<Text>,
        experience_years -> Integer,
        last_login_at -> Nullable<Timestamptz>,
        rating -> Double,
        review_count -> Integer,
        completed_orders -> Integer,
        email_verified_at -> Nullable<Timestamptz>,
        phone_verified_at -> Nullable<Timestamptz>,
        status -> Text,
        suspended_until -> Nullable<Timestamptz>,
        status_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    verification_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        channel -> Text,
        destination -> Text,
        code_hash -> Text,
        attempts -> Integer,
        expires_at -> Timestamptz,
        consumed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family_id -> Uuid,
        token_hash -> Text,
        expires_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        successor_id -> Nullable<BigInt>,
        successor_sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    subscriptions (follower_id, followee_id) {
        follower_id -> BigInt,
        followee_id -> BigInt,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    admin_audit (id) {
        id -> BigInt,
        actor_id -> BigInt,
        action -> Text,
        target_id -> BigInt,
        before -> Jsonb,
        after -> Jsonb,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(verification_codes -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    verification_codes,
    refresh_tokens,
    subscriptions,
    blocks,
    admin_audit
);
