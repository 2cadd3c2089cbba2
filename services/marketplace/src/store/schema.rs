// Mirrors migrations/marketplace; checked by the integration tests that run every query.

diesel::table! {
    regions (code) {
        code -> Text,
        name_ru -> Text,
        name_kk -> Text,
        kind -> Text,
        sort -> Integer,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        parent_code -> Nullable<Text>,
        name_ru -> Text,
        name_kk -> Text,
        sort -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Nullable<Text>,
        role -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        region_code -> Nullable<Text>,
        active -> Bool,
        served_regions -> Array<Text>,
        served_categories -> Array<Text>,
        about -> Nullable<Text>,
        rating_sum -> BigInt,
        review_count -> Integer,
        completed_orders -> Integer,
        points -> BigInt,
        /// Generated: the home region and the served ones.
        service_area -> Array<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    requests (id) {
        id -> BigInt,
        buyer_id -> BigInt,
        title -> Text,
        description -> Text,
        region_code -> Text,
        categories -> Array<Text>,
        budget -> Nullable<BigInt>,
        images -> Array<Text>,
        status -> Text,
        views -> BigInt,
        proposal_count -> Integer,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    proposals (id) {
        id -> BigInt,
        request_id -> BigInt,
        master_id -> BigInt,
        price -> BigInt,
        deadline_days -> Integer,
        message -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> BigInt,
        request_id -> BigInt,
        proposal_id -> BigInt,
        buyer_id -> BigInt,
        master_id -> BigInt,
        title -> Text,
        price -> BigInt,
        deadline_days -> Integer,
        due_at -> Timestamptz,
        status -> Text,
        delivered_at -> Nullable<Timestamptz>,
        revision_notes -> Nullable<Text>,
        completed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_status_history (id) {
        id -> BigInt,
        order_id -> BigInt,
        from_status -> Nullable<Text>,
        to_status -> Text,
        action -> Text,
        actor_id -> BigInt,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reviews (id) {
        id -> BigInt,
        order_id -> BigInt,
        buyer_id -> BigInt,
        master_id -> BigInt,
        rating -> SmallInt,
        text -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    points_ledger (id) {
        id -> BigInt,
        user_id -> BigInt,
        points -> Integer,
        reason -> Text,
        source -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    player_counters (user_id, counter) {
        user_id -> BigInt,
        counter -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    achievements (code) {
        code -> Text,
        title -> Text,
        description -> Text,
        counter -> Text,
        threshold -> BigInt,
        sort -> Integer,
    }
}

diesel::table! {
    user_achievements (user_id, code) {
        user_id -> BigInt,
        code -> Text,
        unlocked_at -> Timestamptz,
    }
}

diesel::joinable!(proposals -> requests (request_id));
diesel::joinable!(user_achievements -> achievements (code));
diesel::allow_tables_to_appear_in_same_query!(
    requests,
    proposals,
    orders,
    users,
    user_achievements,
    achievements,
    points_ledger,
    player_counters,
    reviews
);
