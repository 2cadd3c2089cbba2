//! Who may call what: every operation of the gateway's merged OpenAPI document has a row here.
//! An operation without a row fails the authorization suite, so a new endpoint cannot ship
//! before someone decides who may call it.
//!
//! Personas (see `e2e::world`): `Owner` owns the request and the order, `Master` proposed on
//! the request and works the order, `OtherBuyer`/`OtherMaster` own nothing, `Admin`.

use e2e::media::MediaWorld;
use e2e::world::{Persona, World};
use serde_json::{Value, json};

use Persona::*;

pub const ANYONE: &[Persona] = &Persona::ALL;
pub const SIGNED_IN: &[Persona] = &[Owner, OtherBuyer, Master, OtherMaster, Admin];
pub const BUYERS: &[Persona] = &[Owner, OtherBuyer];
pub const MASTERS: &[Persona] = &[Master, OtherMaster];
pub const ADMIN: &[Persona] = &[Admin];

pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub may: &'static [Persona],
    /// A body that would be accepted from whoever may call it, so that a refusal is about who
    /// calls, not about what was sent (JSON; `null` sends no body).
    pub body: fn(&World) -> Value,
    /// Whether the world has the resource in the path; when it has not, a 404 to whoever may
    /// call is the right answer (only the refusals are tested).
    pub exists: bool,
    /// Headers the operation's protocol always carries (tus's version).
    pub headers: &'static [(&'static str, &'static str)],
}

const fn rule(method: &'static str, path: &'static str, may: &'static [Persona]) -> Rule {
    Rule { method, path, may, body: |_| json!({}), exists: true, headers: &[] }
}

/// A tus 1.0 request, as tus clients send it: the version, and no bytes from offset 0.
const fn tus(method: &'static str, path: &'static str, may: &'static [Persona]) -> Rule {
    const TUS: &[(&str, &str)] =
        &[("Tus-Resumable", "1.0.0"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "0")];
    Rule { method, path, may, body: |_| Value::Null, exists: true, headers: TUS }
}

/// An operation on something the world cannot make (e.g. a dead letter).
const fn absent(method: &'static str, path: &'static str, may: &'static [Persona]) -> Rule {
    Rule { method, path, may, body: |_| json!({}), exists: false, headers: &[] }
}

const fn with_body(
    method: &'static str,
    path: &'static str,
    may: &'static [Persona],
    body: fn(&World) -> Value,
) -> Rule {
    Rule { method, path, may, body, exists: true, headers: &[] }
}

pub const RULES: &[Rule] = &[
    // gateway: search across the services (each source applies its own rules)
    rule("GET", "/api/v2/search", ANYONE),
    // auth: open doors (their own credentials are what they check)
    rule("GET", "/.well-known/jwks.json", ANYONE),
    rule("GET", "/api/v2/auth/openapi.json", ANYONE),
    rule("POST", "/api/v2/auth/register", ANYONE),
    rule("POST", "/api/v2/auth/login", ANYONE),
    rule("POST", "/api/v2/auth/refresh", ANYONE),
    rule("POST", "/api/v2/auth/logout", ANYONE),
    rule("POST", "/api/v2/auth/send-code", ANYONE),
    rule("POST", "/api/v2/auth/verify-email", ANYONE),
    rule("POST", "/api/v2/auth/verify-sms", ANYONE),
    // auth: profiles, blocks, subscriptions, search
    rule("GET", "/api/v2/users/me", SIGNED_IN),
    with_body("PUT", "/api/v2/users/me", SIGNED_IN, |_| json!({ "first_name": "Айгуль" })),
    rule("POST", "/api/v2/users/me/avatar", SIGNED_IN),
    rule("GET", "/api/v2/users/me/blocks", SIGNED_IN),
    rule("GET", "/api/v2/users/{id}", ANYONE),
    rule("POST", "/api/v2/users/{id}/block", SIGNED_IN),
    rule("DELETE", "/api/v2/users/{id}/block", SIGNED_IN),
    rule("GET", "/api/v2/subscriptions/my", SIGNED_IN),
    rule("POST", "/api/v2/subscriptions/{user_id}", SIGNED_IN),
    rule("DELETE", "/api/v2/subscriptions/{user_id}", SIGNED_IN),
    rule("GET", "/api/v2/search/users", ANYONE),
    // auth: administration
    rule("GET", "/api/v2/admin/users", ADMIN),
    rule("GET", "/api/v2/admin/users/{id}/audit", ADMIN),
    with_body("POST", "/api/v2/admin/users/{id}/ban", ADMIN, |_| json!({ "reason": "спам" })),
    rule("POST", "/api/v2/admin/users/{id}/unban", ADMIN),
    with_body(
        "POST",
        "/api/v2/admin/users/{id}/suspend",
        ADMIN,
        |_| json!({ "until": "2030-01-01T00:00:00Z", "reason": "проверка" }),
    ),
    with_body("PUT", "/api/v2/admin/users/{id}/role", ADMIN, |_| json!({ "role": "master" })),
    // marketplace: reference data and directory
    rule("GET", "/api/v2/marketplace/openapi.json", ANYONE),
    rule("GET", "/api/v2/regions", ANYONE),
    rule("GET", "/api/v2/categories", ANYONE),
    rule("GET", "/api/v2/search/masters", ANYONE),
    rule("GET", "/api/v2/masters/{id}", ANYONE),
    with_body("PUT", "/api/v2/masters/me", MASTERS, |_| json!({ "regions": ["Алматы"], "categories": ["шкафы-купе"] })),
    // marketplace: requests and proposals
    rule("GET", "/api/v2/requests", SIGNED_IN),
    with_body("POST", "/api/v2/requests", BUYERS, |_| e2e::world::wardrobe_request()),
    rule("GET", "/api/v2/requests/{id}", &[Owner, Master, OtherMaster, Admin]),
    with_body("PATCH", "/api/v2/requests/{id}", &[Owner], |_| json!({ "title": "Шкаф-купе 2,4 м" })),
    rule("POST", "/api/v2/requests/{id}/close", &[Owner]),
    rule("POST", "/api/v2/requests/{id}/reopen", &[Owner]),
    rule("GET", "/api/v2/requests/{id}/proposals", &[Owner, Master, OtherMaster, Admin]),
    with_body(
        "POST",
        "/api/v2/requests/{id}/proposals",
        MASTERS,
        |_| json!({ "price": 130_000, "deadline_days": 10, "message": "Сделаю быстрее" }),
    ),
    rule("POST", "/api/v2/requests/{id}/proposals/{proposal_id}/accept", &[Owner]),
    // marketplace: orders and reviews ({action} is the master's `accept`)
    rule("GET", "/api/v2/orders", SIGNED_IN),
    rule("GET", "/api/v2/orders/{id}", &[Owner, Master, Admin]),
    rule("POST", "/api/v2/orders/{id}/{action}", &[Master]),
    with_body("POST", "/api/v2/orders/{id}/request_revision", &[Owner], |_| json!({ "note": "Поменяйте фасады" })),
    with_body("POST", "/api/v2/orders/{id}/review", &[Owner], |_| json!({ "rating": 5, "text": "Отлично" })),
    rule("GET", "/api/v2/reviews", ANYONE),
    // chat ({id}: the chat the accepted proposal opened between the owner and the master;
    // {message_id}: the owner's message in it)
    rule("GET", "/api/v2/chat/openapi.json", ANYONE),
    rule("GET", "/api/v2/ws", SIGNED_IN),
    rule("GET", "/api/v2/chats", SIGNED_IN),
    with_body(
        "POST",
        "/api/v2/chats",
        SIGNED_IN,
        |w| json!({ "recipient_id": w.victim.id, "initial_message": "Здравствуйте" }),
    ),
    rule("GET", "/api/v2/chats/{id}", &[Owner, Master]),
    rule("GET", "/api/v2/chats/{id}/messages", &[Owner, Master]),
    with_body("POST", "/api/v2/chats/{id}/messages", &[Owner, Master], |_| json!({ "text": "Когда замер?" })),
    with_body("PATCH", "/api/v2/chats/{id}/messages/{message_id}", &[Owner], |_| json!({ "text": "Когда приедете?" })),
    rule("DELETE", "/api/v2/chats/{id}/messages/{message_id}", &[Owner]),
    absent("GET", "/api/v2/chats/{id}/media/{name}", &[Owner, Master]),
    with_body("POST", "/api/v2/chats/{id}/read", &[Owner, Master], |_| json!({ "seq": 1 })),
    // chat: calls ({id}: the owner's call to the master, ringing). Calls are between chat
    // partners: the master calling the master is told 400, the owner finds both busy (409).
    rule("GET", "/api/v2/calls", SIGNED_IN),
    rule("GET", "/api/v2/calls/history", SIGNED_IN),
    rule("GET", "/api/v2/calls/active", SIGNED_IN),
    with_body(
        "POST",
        "/api/v2/calls/initiate",
        &[Owner, Master],
        |w| json!({ "recipient_id": w.master.id, "kind": "audio" }),
    ),
    with_body(
        "POST",
        "/api/v2/calls/initiate-secure",
        &[Owner, Master],
        |w| json!({ "recipient_id": w.master.id, "kind": "video" }),
    ),
    rule("GET", "/api/v2/calls/{id}", &[Owner, Master]),
    rule("GET", "/api/v2/calls/{id}/webrtc-token", &[Owner, Master]),
    with_body(
        "POST",
        "/api/v2/calls/{id}/webrtc-signal",
        &[Owner, Master],
        |_| json!({ "type": "offer", "sdp": "v=0\r\n" }),
    ),
    rule("POST", "/api/v2/calls/{id}/answer", &[Master]),
    rule("POST", "/api/v2/calls/{id}/decline", &[Master]),
    rule("POST", "/api/v2/calls/{id}/cancel", &[Owner]),
    rule("POST", "/api/v2/calls/{id}/end", &[Owner, Master]),
    // chat: support ({id}: the owner's ticket; it has no attachment)
    rule("GET", "/api/v2/support/tickets", SIGNED_IN),
    with_body(
        "POST",
        "/api/v2/support/tickets",
        SIGNED_IN,
        |_| json!({ "subject": "Вопрос по оплате", "text": "Где чек?", "category": "payment" }),
    ),
    rule("GET", "/api/v2/support/tickets/{id}", &[Owner, Admin]),
    absent("GET", "/api/v2/support/tickets/{id}/attachments/{attachment_id}", &[Owner, Admin]),
    with_body("POST", "/api/v2/support/tickets/{id}/replies", &[Owner], |_| json!({ "text": "Есть новости?" })),
    rule("POST", "/api/v2/support/tickets/{id}/reopen", &[Owner]),
    rule("GET", "/api/v2/admin/support/tickets", ADMIN),
    rule("GET", "/api/v2/admin/support/tickets/{id}", ADMIN),
    with_body("PATCH", "/api/v2/admin/support/tickets/{id}", ADMIN, |_| json!({ "status": "in_progress" })),
    with_body("POST", "/api/v2/admin/support/tickets/{id}/replies", ADMIN, |_| json!({ "text": "Разбираемся" })),
    // marketplace: gamification
    rule("GET", "/api/v2/gamification/level", SIGNED_IN),
    rule("GET", "/api/v2/gamification/levels", ANYONE),
    rule("GET", "/api/v2/gamification/achievements", SIGNED_IN),
    rule("GET", "/api/v2/gamification/achievements/user/{id}", ANYONE),
    rule("GET", "/api/v2/gamification/leaderboard", ANYONE),
    rule("GET", "/api/v2/gamification/leaderboard/advanced", ANYONE),
    with_body(
        "POST",
        "/api/v2/gamification/award-points",
        ADMIN,
        |w| json!({ "user_id": w.master.id, "points": 10, "reason": "конкурс" }),
    ),
    rule("POST", "/api/v2/gamification/leaderboard/rebuild", ADMIN),
    // media ({id}: the master's processed video, story, chunked or tus upload; {path}: a file of
    // the video). Uploads are multipart or tus: a JSON body is refused for its form, not its caller.
    rule("GET", "/api/v2/media/openapi.json", ANYONE),
    rule("GET", "/api/v2/media/files/{path}", ANYONE),
    rule("POST", "/api/v2/videos/upload", SIGNED_IN),
    rule("GET", "/api/v2/videos/feed", ANYONE),
    rule("GET", "/api/v2/search/videos", ANYONE),
    rule("GET", "/api/v2/videos/{id}", ANYONE),
    with_body("PATCH", "/api/v2/videos/{id}", &[Master], |_| json!({ "title": "Шкаф-купе из дуба" })),
    with_body("POST", "/api/v2/videos/{id}/analyze", &[Master], |_| json!({ "analysis_type": "furniture" })),
    rule("GET", "/api/v2/videos/{id}/analysis", &[Master]),
    rule("GET", "/api/v2/videos/{id}/comments", ANYONE),
    // Its author or the video's owner (media's own tests); the world has no comment to delete.
    absent("DELETE", "/api/v2/videos/{id}/comments/{comment_id}", SIGNED_IN),
    with_body("POST", "/api/v2/videos/{id}/comments", SIGNED_IN, |_| json!({ "text": "Красивый шкаф" })),
    rule("POST", "/api/v2/videos/{id}/like", SIGNED_IN),
    rule("POST", "/api/v2/videos/{id}/unlike", SIGNED_IN),
    rule("DELETE", "/api/v2/videos/{id}", &[Master]),
    rule("GET", "/api/v2/stories", SIGNED_IN),
    rule("POST", "/api/v2/stories", SIGNED_IN),
    rule("GET", "/api/v2/stories/{id}", ANYONE),
    rule("GET", "/api/v2/stories/user/{user_id}", ANYONE),
    rule("POST", "/api/v2/stories/{id}/view", SIGNED_IN),
    rule("GET", "/api/v2/stories/{id}/viewers", &[Master]),
    rule("POST", "/api/v2/stories/{id}/like", SIGNED_IN),
    rule("POST", "/api/v2/stories/{id}/unlike", SIGNED_IN),
    with_body(
        "POST",
        "/api/v2/uploads",
        SIGNED_IN,
        |_| json!({ "file_name": "шкаф.mp4", "file_size": 1_048_576, "title": "Шкаф-купе" }),
    ),
    rule("GET", "/api/v2/uploads/{id}", &[Master]),
    rule("POST", "/api/v2/uploads/{id}/chunks", &[Master]),
    rule("DELETE", "/api/v2/uploads/{id}", &[Master]),
    tus("POST", "/api/v2/media/tus", SIGNED_IN),
    tus("PATCH", "/api/v2/media/tus/{id}", &[Master]),
    tus("DELETE", "/api/v2/media/tus/{id}", &[Master]),
    // notification ({id}: the owner's notification of the master's proposal)
    rule("GET", "/api/v2/notifications/openapi.json", ANYONE),
    rule("GET", "/api/v2/notifications", SIGNED_IN),
    rule("GET", "/api/v2/notifications/unread-count", SIGNED_IN),
    rule("GET", "/api/v2/notifications/settings", SIGNED_IN),
    with_body("POST", "/api/v2/notifications/settings", SIGNED_IN, |_| json!({ "digest": true })),
    with_body(
        "POST",
        "/api/v2/notifications/push-token",
        SIGNED_IN,
        |_| json!({ "token": "onesignal-player-1", "platform": "android" }),
    ),
    rule("POST", "/api/v2/notifications/{id}/read", &[Owner]),
    rule("POST", "/api/v2/notifications/read-all", SIGNED_IN),
    rule("POST", "/api/v2/notifications/unsubscribe", ANYONE),
    rule("GET", "/api/v2/notifications/admin/dead-letters", ADMIN),
    absent("POST", "/api/v2/notifications/admin/dead-letters/{id}/requeue", ADMIN),
    rule("GET", "/api/v2/notifications/admin/deliveries", ADMIN),
    rule("GET", "/api/v2/notifications/admin/recorded", ADMIN),
];

pub fn rule_for(method: &str, path: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

/// The documented path with the world's resources in it: ids of what the owner (or the master)
/// has, so that everyone else is trying somebody else's.
pub fn concrete_path(path: &str, world: &World) -> String {
    // Blocks go to a bystander: an allowed block of the master or the victim (undone right
    // after, but projected by chat a moment later) would turn away chat calls made next.
    let user_target = match path {
        "/api/v2/users/{id}/block" => world.bystander.id,
        _ if path.starts_with("/api/v2/admin/") => world.victim.id,
        _ => world.master.id,
    };
    let media = world.media.as_ref();
    let media_id = |pick: fn(&MediaWorld) -> String| media.map(pick).unwrap_or_default();
    let id = match path {
        _ if path.starts_with("/api/v2/requests/") => world.open_request.to_string(),
        _ if path.starts_with("/api/v2/orders/") => world.order.to_string(),
        _ if path.starts_with("/api/v2/chats/") => world.chat.unwrap_or(0).to_string(),
        _ if path.starts_with("/api/v2/calls/") => world.call.unwrap_or(0).to_string(),
        _ if path.contains("/support/tickets/") => world.ticket.unwrap_or(0).to_string(),
        _ if path.starts_with("/api/v2/videos/") => media_id(|m| m.video.to_string()),
        _ if path.starts_with("/api/v2/stories/") => media_id(|m| m.story.to_string()),
        _ if path.starts_with("/api/v2/uploads/") => media_id(|m| m.upload.clone()),
        _ if path.starts_with("/api/v2/media/tus/") => media_id(|m| m.tus_upload.clone()),
        _ if path.starts_with("/api/v2/notifications/admin/") => "0".to_owned(),
        _ if path.starts_with("/api/v2/notifications/") => world.notification.unwrap_or(0).to_string(),
        _ => user_target.to_string(),
    };
    path.replace("{id}", &id)
        .replace("{user_id}", &user_target.to_string())
        .replace("{proposal_id}", &world.proposal.to_string())
        .replace("{action}", "accept")
        .replace("{message_id}", &world.message.unwrap_or(0).to_string())
        .replace("{comment_id}", "0")
        .replace("{attachment_id}", "0")
        .replace("{name}", "0190c8a2-0000-7000-8000-000000000000.png")
        .replace("{path}", &media_id(|m| m.file.clone()))
}
