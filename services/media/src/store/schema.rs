// The media schema (migrations/media), written to match the migration.

diesel::table! {
    videos (id) {
        id -> Int8,
        user_id -> Int8,
        title -> Text,
        description -> Text,
        hashtags -> Array<Text>,
        price_minor -> Nullable<Int8>,
        product_description -> Nullable<Text>,
        is_ad -> Bool,
        status -> Text,
        failure_reason -> Nullable<Text>,
        attempts -> Int4,
        original_path -> Text,
        container -> Text,
        size_bytes -> Int8,
        cover_path -> Nullable<Text>,
        duration_ms -> Nullable<Int8>,
        codec -> Nullable<Text>,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        fps -> Nullable<Float8>,
        bitrate -> Nullable<Int8>,
        thumbnails -> Array<Text>,
        hls_path -> Nullable<Text>,
        renditions -> Array<Text>,
        processed_at -> Nullable<Timestamptz>,
        views_count -> Int8,
        likes_count -> Int8,
        comments_count -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    uploads (id) {
        id -> Uuid,
        user_id -> Int8,
        protocol -> Text,
        length -> Nullable<Int8>,
        #[sql_name = "offset"]
        offset_ -> Int8,
        chunk_size -> Nullable<Int8>,
        total_chunks -> Nullable<Int4>,
        file_name -> Nullable<Text>,
        metadata -> Jsonb,
        tus_metadata -> Nullable<Text>,
        concat -> Nullable<Text>,
        parts -> Array<Uuid>,
        status -> Text,
        video_id -> Nullable<Int8>,
        error -> Nullable<Jsonb>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    upload_chunks (upload_id, chunk_index) {
        upload_id -> Uuid,
        chunk_index -> Int4,
        size_bytes -> Int8,
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> Int8,
        followee_id -> Int8,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> Int8,
        blocked_id -> Int8,
    }
}

diesel::joinable!(upload_chunks -> uploads (upload_id));
diesel::allow_tables_to_appear_in_same_query!(videos, uploads, upload_chunks, follows, blocks);
