//! The people and things a black-box suite needs, made through the gateway as clients make them:
//! a buyer who owns a request and an order, a master who proposed on the request and works the
//! order, a buyer and a master with nothing to do with either, an admin, and a user for admins
//! to act on.

use crate::System;
use crate::media::MediaWorld;
use serde_json::{Value, json};

pub const PASSWORD: &str = "Shkaf-2024";

/// Who is calling. `Owner` owns the request and the order; `Master` is the order's master and
/// proposed on the open request; the `Other*` personas share a role but own nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Persona {
    Anonymous,
    Owner,
    OtherBuyer,
    Master,
    OtherMaster,
    Admin,
}

impl Persona {
    pub const ALL: [Persona; 6] = [
        Persona::Anonymous,
        Persona::Owner,
        Persona::OtherBuyer,
        Persona::Master,
        Persona::OtherMaster,
        Persona::Admin,
    ];
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub token: String,
    pub login: String,
}

pub struct World {
    pub owner: User,
    pub other_buyer: User,
    pub master: User,
    pub other_master: User,
    pub admin: User,
    /// A buyer the admin operations act on (never a persona, so banning it harms no caller).
    pub victim: User,
    /// A user whom the block operations block (blocking anyone who chats in the world would
    /// turn away chat calls once chat has projected the block).
    pub bystander: User,
    /// Open, with `proposal` by `master` on it.
    pub open_request: i64,
    pub proposal: i64,
    /// Between `owner` and `master`, pending.
    pub order: i64,
    /// The text of `master`'s proposal: only the owner, the master and admins may ever see it.
    pub proposal_message: String,
    /// The chat the order opened between `owner` and `master`, and `owner`'s first message in
    /// it (when the system has a chat service).
    pub chat: Option<i64>,
    pub message: Option<i64>,
    /// A call from `owner` to `master`, ringing when the world is made.
    pub call: Option<i64>,
    /// The owner's support ticket.
    pub ticket: Option<i64>,
    /// The master's video, story and uploads (when the system has a media service).
    pub media: Option<MediaWorld>,
    /// The owner's first notification, about the master's proposal (when the system has a
    /// notification service).
    pub notification: Option<i64>,
}

impl World {
    pub async fn create(system: &System) -> Self {
        let tag = system.prefix.trim_end_matches('.').replace(['-', '.'], "");
        let tag = &tag[tag.len().saturating_sub(8)..];
        let owner = register(system, &format!("owner{tag}"), "buyer").await;
        let other_buyer = register(system, &format!("buyer{tag}"), "buyer").await;
        let master = register(system, &format!("master{tag}"), "master").await;
        let other_master = register(system, &format!("other{tag}"), "master").await;
        let victim = register(system, &format!("victim{tag}"), "buyer").await;
        let bystander = register(system, &format!("bystander{tag}"), "buyer").await;
        let admin = admin(system, &format!("admin{tag}")).await;
        let proposal_message = format!("Секретное предложение {tag}");
        let open_request = request(system, &owner).await;
        let proposal = propose(system, &master, open_request, &proposal_message).await;
        let deal = request(system, &owner).await;
        let deal_proposal = propose(system, &master, deal, "Сделаю за неделю").await;
        let (status, body) = system
            .api
            .post_as(&format!("/api/v2/requests/{deal}/proposals/{deal_proposal}/accept"), &owner.token, json!({}))
            .await;
        assert_eq!(status, 201, "the owner accepts a proposal: {body}");
        let order = body["id"].as_i64().expect("an order id");
        let has = |name: &str| system.processes.iter().any(|p| p.spec.name == name);
        let (chat, message, call, ticket) = match has("chat") {
            true => {
                let chat = opened_chat(system, &owner).await;
                let message = send(system, &owner, chat, "Добрый день! Когда замер?").await;
                let call = ring(system, &owner, &master).await;
                (Some(chat), Some(message), Some(call), Some(ticket(system, &owner).await))
            }
            false => (None, None, None, None),
        };
        let media = match has("media") {
            true => Some(MediaWorld::create(system, &master).await),
            false => None,
        };
        let notification = match has("notification") {
            true => Some(first_notification(system, &owner).await),
            false => None,
        };
        Self {
            owner,
            other_buyer,
            master,
            other_master,
            admin,
            victim,
            bystander,
            open_request,
            proposal,
            order,
            proposal_message,
            chat,
            message,
            call,
            ticket,
            media,
            notification,
        }
    }

    pub fn user(&self, persona: Persona) -> Option<&User> {
        match persona {
            Persona::Anonymous => None,
            Persona::Owner => Some(&self.owner),
            Persona::OtherBuyer => Some(&self.other_buyer),
            Persona::Master => Some(&self.master),
            Persona::OtherMaster => Some(&self.other_master),
            Persona::Admin => Some(&self.admin),
        }
    }

    pub fn token(&self, persona: Persona) -> Option<&str> {
        self.user(persona).map(|u| u.token.as_str())
    }
}

/// A call from `caller` to `callee` (chat partners), ringing.
pub async fn ring(system: &System, caller: &User, callee: &User) -> i64 {
    let body = json!({ "recipient_id": callee.id, "kind": "audio" });
    let (status, call) = system.api.post_as("/api/v2/calls/initiate", &caller.token, body).await;
    assert_eq!(status, 201, "the call rings: {call}");
    call["id"].as_i64().expect("a call id")
}

/// A support ticket opened by `user`.
pub async fn ticket(system: &System, user: &User) -> i64 {
    let body = json!({ "subject": "Мастер не отвечает", "text": "Заказ оплачен, мастер молчит.", "category": "order" });
    let (status, ticket) = system.api.post_as("/api/v2/support/tickets", &user.token, body).await;
    assert_eq!(status, 201, "the ticket is opened: {ticket}");
    ticket["id"].as_i64().expect("a ticket id")
}

/// The chat an accepted proposal opened for `user` (it arrives through the event).
pub async fn opened_chat(system: &System, user: &User) -> i64 {
    let mut found = None;
    for _ in 0..200 {
        let (status, body) = system.api.get("/api/v2/chats", &user.token).await;
        found = (status == 200).then(|| body["items"][0]["id"].as_i64()).flatten();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    found.expect("the accepted proposal opens a chat within 20 s")
}

/// The first notification `user` has (it arrives through an event).
pub async fn first_notification(system: &System, user: &User) -> i64 {
    for _ in 0..200 {
        let (status, body) = system.api.get("/api/v2/notifications", &user.token).await;
        if let Some(id) = (status == 200).then(|| body["items"][0]["id"].as_i64()).flatten() {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} has no notification within 20 s", user.login);
}

pub async fn send(system: &System, user: &User, chat: i64, text: &str) -> i64 {
    let (status, body) =
        system.api.post_as(&format!("/api/v2/chats/{chat}/messages"), &user.token, json!({ "text": text })).await;
    assert!(status == 201 || status == 200, "a message is sent: {status} {body}");
    body["id"].as_i64().expect("a message id")
}

pub async fn register(system: &System, username: &str, role: &str) -> User {
    let login = format!("{username}@mebelplace.kz");
    let body = json!({ "email_or_phone": login, "password": PASSWORD, "username": username, "role": role });
    let (status, body) = system.api.post("/api/v2/auth/register", body).await;
    assert_eq!(status, 201, "{username} registers: {body}");
    User { id: body["user"]["id"].as_i64().expect("a user id"), token: token_of(&body), login }
}

/// An admin made the operator's way (`auth create-admin`), signed in through the gateway.
pub async fn admin(system: &System, username: &str) -> User {
    let login = format!("{username}@mebelplace.kz");
    system.process("auth").run(&["create-admin", &login, username], &[("MEBELPLACE_ADMIN_PASSWORD", PASSWORD)]);
    let (status, body) =
        system.api.post("/api/v2/auth/login", json!({ "email_or_phone": login, "password": PASSWORD })).await;
    assert_eq!(status, 200, "the admin signs in: {body}");
    User { id: body["user"]["id"].as_i64().expect("a user id"), token: token_of(&body), login }
}

fn token_of(body: &Value) -> String {
    body["access_token"].as_str().expect("an access token").to_owned()
}

/// The seed's wardrobe request (Almaty, sliding wardrobes).
pub fn wardrobe_request() -> Value {
    json!({
        "title": "Нужен шкаф-купе",
        "description": "Шкаф-купе в прихожую, 2,4 м, зеркальные двери",
        "region": "Алматы",
        "categories": ["шкафы-купе"],
        "budget": 150_000,
    })
}

pub async fn request(system: &System, buyer: &User) -> i64 {
    let (status, body) = system.api.post_as("/api/v2/requests", &buyer.token, wardrobe_request()).await;
    assert_eq!(status, 201, "a buyer posts a request: {body}");
    body["id"].as_i64().expect("a request id")
}

pub async fn propose(system: &System, master: &User, request: i64, message: &str) -> i64 {
    let body = json!({ "price": 140_000, "deadline_days": 14, "message": message });
    let (status, body) =
        system.api.post_as(&format!("/api/v2/requests/{request}/proposals"), &master.token, body).await;
    assert_eq!(status, 201, "a master proposes: {body}");
    body["id"].as_i64().expect("a proposal id")
}
