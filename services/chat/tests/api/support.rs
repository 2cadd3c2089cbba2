//! Support tickets: a user and support talk a ticket through; who sees what; bad input;
//! attachments; the events and the audit trail.

use crate::helpers::{User, World, error_code};
use contracts::events::envelope::Payload;
use contracts::topics;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const TICKETS: &str = "/api/v2/support/tickets";
const QUEUE: &str = "/api/v2/admin/support/tickets";

fn png() -> Vec<u8> {
    [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 64]].concat()
}

/// Opens a ticket as `user` (JSON) and answers it.
async fn open(world: &World, user: &User, subject: &str, category: &str) -> Value {
    let body = json!({ "subject": subject, "text": "Подробности проблемы", "category": category });
    let (status, ticket) = world.api(0).post_as(TICKETS, &user.token, body).await;
    assert_eq!(status, 201, "{ticket}");
    ticket
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

fn form(subject: &str, files: Vec<(&'static str, Vec<u8>)>) -> Form {
    let form =
        Form::new().text("subject", subject.to_owned()).text("text", "Смотрите вложение").text("category", "order");
    files.into_iter().fold(form, |form, (name, bytes)| form.part("attachments", Part::bytes(bytes).file_name(name)))
}

async fn post_form(world: &World, user: &User, form: Form) -> (u16, Value) {
    let api = world.api(0);
    api.send(api.client.post(api.url(TICKETS)).bearer_auth(&user.token).multipart(form)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_and_support_talk_a_ticket_through_to_resolved_reopened_and_closed() {
    let world = World::start(1).await;
    let (user, other, admin) = (world.user(), world.user(), world.admin());
    let api = world.api(0);
    let body = json!({ "subject": "  Не прошла оплата  ", "text": "Деньги списались, заказ не оплачен", "category": "payment", "order_id": 42 });
    let (status, ticket) = api.post_as(TICKETS, &user.token, body).await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(
        (&ticket["subject"], &ticket["status"], &ticket["category"]),
        (&json!("Не прошла оплата"), &json!("open"), &json!("payment"))
    );
    assert_eq!(
        (&ticket["user_id"], &ticket["order_id"], &ticket["replies"]),
        (&json!(user.id), &json!(42), &json!([]))
    );
    let id = ticket["id"].as_i64().unwrap();
    let path = format!("{TICKETS}/{id}");
    let admin_path = format!("{QUEUE}/{id}");
    let other_ticket = open(&world, &other, "Не приходит код", "technical").await["id"].as_i64().unwrap();

    let (status, queue) = api.get(&format!("{QUEUE}?status=open&category=payment"), &admin.token).await;
    assert_eq!((status, ids(&queue)), (200, vec![id]), "{queue}");
    let (_, queue) = api.get(&format!("{QUEUE}?older_than_hours=0"), &admin.token).await;
    assert_eq!(ids(&queue), vec![other_ticket, id], "most recently active first");
    let (_, queue) = api.get(&format!("{QUEUE}?older_than_hours=1"), &admin.token).await;
    assert_eq!(ids(&queue), Vec::<i64>::new(), "nothing is an hour old yet");

    let (status, assigned) = api.patch(&admin_path, &admin.token, json!({ "assignee_id": admin.id })).await;
    assert_eq!(
        (status, &assigned["assignee_id"], &assigned["status"]),
        (200, &json!(admin.id), &json!("open")),
        "{assigned}"
    );
    let (_, queue) = api.get(&format!("{QUEUE}?assignee_id={}", admin.id), &admin.token).await;
    assert_eq!(ids(&queue), vec![id]);

    let reply = json!({ "text": "Проверяем платёж, ответим в течение дня" });
    let (status, answer) = api.post_as(&format!("{admin_path}/replies"), &admin.token, reply).await;
    assert_eq!(
        (status, &answer["from_support"], &answer["author_id"]),
        (201, &json!(true), &json!(admin.id)),
        "{answer}"
    );
    let (_, seen) = api.get(&path, &user.token).await;
    assert_eq!(seen["status"], "in_progress", "support's answer takes an open ticket up");
    let (status, mine) = api.post_as(&format!("{path}/replies"), &user.token, json!({ "text": "Спасибо, жду" })).await;
    assert_eq!((status, &mine["from_support"]), (201, &json!(false)), "{mine}");
    let (_, seen) = api.get(&path, &user.token).await;
    let thread: Vec<&str> = seen["replies"].as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert_eq!(thread, ["Проверяем платёж, ответим в течение дня", "Спасибо, жду"], "oldest first");
    assert_eq!(seen["status"], "in_progress");

    let (status, resolved) = api.patch(&admin_path, &admin.token, json!({ "status": "resolved" })).await;
    assert_eq!((status, &resolved["status"]), (200, &json!("resolved")), "{resolved}");
    let (_, my_list) = api.get(TICKETS, &user.token).await;
    assert_eq!(ids(&my_list), vec![id], "only my own tickets");
    let (status, reopened) = api.post_as(&format!("{path}/reopen"), &user.token, json!({})).await;
    assert_eq!((status, &reopened["status"]), (200, &json!("open")), "{reopened}");
    let (status, closed) = api.patch(&admin_path, &admin.token, json!({ "status": "closed" })).await;
    assert_eq!((status, &closed["status"]), (200, &json!("closed")), "{closed}");

    let (status, body) = api.post_as(&format!("{path}/replies"), &user.token, json!({ "text": "Ещё вопрос" })).await;
    assert_eq!((status, error_code(&body)), (409, "ticket_closed"), "{body}");
    let (status, body) = api.post_as(&format!("{admin_path}/replies"), &admin.token, json!({ "text": "Ещё" })).await;
    assert_eq!((status, error_code(&body)), (409, "ticket_closed"), "{body}");
    let (status, body) = api.patch(&admin_path, &admin.token, json!({ "status": "in_progress" })).await;
    assert_eq!((status, error_code(&body)), (409, "invalid_transition"), "closed is final for support: {body}");
    let (status, again) = api.post_as(&format!("{path}/reopen"), &user.token, json!({})).await;
    assert_eq!((status, &again["status"]), (200, &json!("open")), "the author reopens a closed ticket");
    let (status, unassigned) = api.patch(&admin_path, &admin.token, json!({ "assignee_id": null })).await;
    assert_eq!((status, &unassigned["assignee_id"]), (200, &Value::Null), "{unassigned}");

    let (_, view) = api.get(&admin_path, &admin.token).await;
    assert_eq!(view["replies"].as_array().unwrap().len(), 2);
    let audit: Vec<(String, Value)> = view["audit"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|entry| assert_eq!(entry["actor_id"], admin.id, "{entry}"))
        .map(|entry| (entry["action"].as_str().unwrap().to_owned(), entry["details"].clone()))
        .collect();
    let reply_id = answer["id"].clone();
    let expected = [
        ("assigned", json!({ "from": null, "to": admin.id })),
        ("replied", json!({ "reply_id": reply_id })),
        ("status_changed", json!({ "from": "open", "to": "in_progress" })),
        ("status_changed", json!({ "from": "in_progress", "to": "resolved" })),
        ("status_changed", json!({ "from": "open", "to": "closed" })),
        ("assigned", json!({ "from": admin.id, "to": null })),
    ]
    .map(|(action, details)| (action.to_owned(), details));
    assert_eq!(audit, expected, "every admin action, and only those, in order");
    let (_, user_view) = api.get(&path, &user.token).await;
    assert!(user_view.get("audit").is_none(), "the audit trail is for admins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_published_and_support_replies_are_told_from_the_authors() {
    let world = World::start(1).await;
    let (user, admin) = (world.user(), world.admin());
    let api = world.api(0);
    let id = open(&world, &user, "Жалоба на мастера", "complaint").await["id"].as_i64().unwrap();
    let admin_path = format!("{QUEUE}/{id}");
    api.post_as(&format!("{admin_path}/replies"), &admin.token, json!({ "text": "Разбираемся" })).await;
    api.post_as(&format!("{TICKETS}/{id}/replies"), &user.token, json!({ "text": "Жду" })).await;
    api.patch(&admin_path, &admin.token, json!({ "status": "resolved" })).await;

    let created = world
        .event(topics::CHAT_SUPPORT, |e| match &e.payload {
            Some(Payload::TicketCreated(created)) if created.ticket_id == id => Some(created.clone()),
            _ => None,
        })
        .await;
    assert_eq!((created.user_id, created.subject.as_str()), (user.id, "Жалоба на мастера"));
    let mut replies = Vec::new();
    world
        .event(topics::CHAT_SUPPORT, |e| match &e.payload {
            Some(Payload::TicketReplied(replied)) if replied.ticket_id == id => {
                replies.push((replied.user_id, replied.author_id));
                (replies.len() == 2).then_some(())
            }
            _ => None,
        })
        .await;
    assert_eq!(replies, [(user.id, admin.id), (user.id, user.id)], "author_id != user_id: support answered");
    let mut statuses = Vec::new();
    world
        .event(topics::CHAT_SUPPORT, |e| match &e.payload {
            Some(Payload::TicketStatusChanged(changed)) if changed.ticket_id == id => {
                assert_eq!(changed.user_id, user.id);
                statuses.push(changed.status.clone());
                (statuses.len() == 2).then_some(())
            }
            _ => None,
        })
        .await;
    assert_eq!(statuses, ["in_progress", "resolved"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_author_and_admins_see_a_ticket_and_only_admins_work_the_queue() {
    let world = World::start(1).await;
    let (user, stranger, admin) = (world.user(), world.user(), world.admin());
    let api = world.api(0);
    let screenshot = form("Скриншот ошибки", vec![("error.png", png())]);
    let (status, ticket) = post_form(&world, &user, screenshot).await;
    assert_eq!(status, 201, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();
    let file = ticket["attachments"][0]["url"].as_str().unwrap().to_owned();
    let path = format!("{TICKETS}/{id}");
    let t = &stranger.token;
    let answers = [
        api.get(&path, t).await,
        api.post_as(&format!("{path}/replies"), t, json!({ "text": "чужое" })).await,
        api.post_as(&format!("{path}/reopen"), t, json!({})).await,
        api.get(&file, t).await,
        api.get(&format!("{TICKETS}/999999"), &user.token).await,
        api.get(&format!("{path}/attachments/999999"), &user.token).await,
    ];
    for (status, body) in answers {
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    }
    let (_, theirs) = api.get(TICKETS, t).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, seen) = api.get(&path, &admin.token).await;
    assert_eq!((status, &seen["id"]), (200, &json!(id)), "admins read every ticket");
    let (status, _) = api.get(&file, &admin.token).await;
    assert_eq!(status, 200);

    let admin_path = format!("{QUEUE}/{id}");
    for who in [&user, &stranger] {
        let answers = [
            api.get(QUEUE, &who.token).await,
            api.get(&admin_path, &who.token).await,
            api.patch(&admin_path, &who.token, json!({ "status": "closed" })).await,
            api.post_as(&format!("{admin_path}/replies"), &who.token, json!({ "text": "я админ" })).await,
            api.get(&format!("{QUEUE}/999999"), &who.token).await,
        ];
        for (status, body) in answers {
            assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
        }
    }
    let (_, view) = api.get(&admin_path, &admin.token).await;
    assert_eq!((&view["status"], &view["replies"], &view["audit"]), (&json!("open"), &json!([]), &json!([])), "{view}");
    let (status, body) = api.get(&format!("{QUEUE}/999999"), &admin.token).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_field_details_and_changes_nothing() {
    let world = World::start(1).await;
    let (user, admin) = (world.user(), world.admin());
    let api = world.api(0);
    let fields = |body: &Value| body["error"]["details"]["fields"].clone();
    let long = "ы".repeat(5001);
    let bad_tickets = [
        (json!({ "subject": " ", "text": "текст", "category": "order" }), "subject"),
        (json!({ "subject": "Тема", "text": "текст", "category": "refund" }), "category"),
        (json!({ "subject": "Тема", "text": long, "category": "order" }), "text"),
        (json!({ "subject": "Тема", "category": "order" }), "text"),
        (json!({ "subject": "Тема", "text": "текст", "category": "order", "order_id": 0 }), "order_id"),
    ];
    for (body, field) in bad_tickets {
        let (status, answer) = api.post_as(TICKETS, &user.token, body).await;
        assert_eq!((status, error_code(&answer)), (400, "validation_failed"), "{answer}");
        assert!(fields(&answer)[field].is_string(), "{field}: {answer}");
    }
    let (status, answer) = api.post_as(TICKETS, &user.token, json!({ "subject": "", "category": "x" })).await;
    assert_eq!(fields(&answer).as_object().map(|f| f.len()), Some(3), "every problem at once: {answer}");
    assert_eq!(status, 400);
    let (status, answer) = api
        .post_as(TICKETS, &user.token, json!({ "subject": "a", "text": "b", "category": "order", "priority": 1 }))
        .await;
    assert_eq!((status, error_code(&answer)), (400, "invalid_json"), "{answer}");
    // U+0000 cannot be stored (it was a 500 from PostgreSQL, found by schema fuzzing).
    let (status, answer) =
        api.post_as(TICKETS, &user.token, json!({ "subject": "a", "text": "\u{0}", "category": "order" })).await;
    assert_eq!((status, error_code(&answer)), (400, "invalid_json"), "{answer}");
    let (_, mine) = api.get(TICKETS, &user.token).await;
    assert_eq!(mine["items"], json!([]), "no ticket was created");

    let ticket = open(&world, &user, "Тема", "account").await;
    let id = ticket["id"].as_i64().unwrap();
    let admin_path = format!("{QUEUE}/{id}");
    let bad_changes =
        [(json!({ "status": "done" }), "status"), (json!({}), "status"), (json!({ "assignee_id": 0 }), "assignee_id")];
    for (body, field) in bad_changes {
        let (status, answer) = api.patch(&admin_path, &admin.token, body).await;
        assert_eq!((status, error_code(&answer)), (400, "validation_failed"), "{answer}");
        assert!(fields(&answer)[field].is_string(), "{field}: {answer}");
    }
    for query in ["status=done", "category=refund", "older_than_hours=-1", "assignee_id=0", "limit=0"] {
        let (status, answer) = api.get(&format!("{QUEUE}?{query}"), &admin.token).await;
        assert_eq!((status, error_code(&answer)), (400, "validation_failed"), "{query}: {answer}");
    }
    let (status, answer) = api.post_as(&format!("{TICKETS}/{id}/replies"), &user.token, json!({ "text": "  " })).await;
    assert_eq!((status, error_code(&answer)), (400, "validation_failed"), "{answer}");
    let (status, answer) = api.post_as(&format!("{TICKETS}/{id}/reopen"), &user.token, json!({})).await;
    assert_eq!((status, error_code(&answer)), (409, "invalid_transition"), "an open ticket is not reopened: {answer}");
    api.patch(&admin_path, &admin.token, json!({ "status": "resolved" })).await;
    let (status, answer) =
        api.patch(&admin_path, &admin.token, json!({ "status": "open", "assignee_id": admin.id })).await;
    assert_eq!((status, error_code(&answer)), (409, "invalid_transition"), "only the author reopens: {answer}");

    let (_, view) = api.get(&admin_path, &admin.token).await;
    assert_eq!(
        (&view["status"], &view["assignee_id"], &view["replies"]),
        (&json!("resolved"), &Value::Null, &json!([]))
    );
    let actions: Vec<&Value> = view["audit"].as_array().unwrap().iter().map(|a| &a["action"]).collect();
    assert_eq!(actions, [&json!("status_changed")], "the refused change (assignee too) left nothing: {view}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_checked_by_content_stored_and_served_to_the_tickets_readers() {
    let world = World::start(1).await;
    let user = world.user();
    let api = world.api(0);
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF".to_vec();
    let both = form("Чек и фото", vec![("screen.png", png()), ("receipt.pdf", pdf.clone())]).text("order_id", "17");
    let (status, ticket) = post_form(&world, &user, both).await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!((&ticket["order_id"], &ticket["category"]), (&json!(17), &json!("order")));
    let files = ticket["attachments"].as_array().unwrap();
    let listed: Vec<(&str, &str, i64)> = files
        .iter()
        .map(|f| (f["file_name"].as_str().unwrap(), f["content_type"].as_str().unwrap(), f["size"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, [("screen.png", "image/png", 72), ("receipt.pdf", "application/pdf", pdf.len() as i64)]);
    for (file, bytes) in files.iter().zip([png(), pdf]) {
        let response =
            api.client.get(api.url(file["url"].as_str().unwrap())).bearer_auth(&user.token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], file["content_type"].as_str().unwrap());
        assert_eq!(response.bytes().await.unwrap().to_vec(), bytes, "the stored bytes come back");
    }
    let (_, view) = api.get(&format!("{TICKETS}/{}", ticket["id"]), &user.token).await;
    assert_eq!(view["attachments"].as_array().unwrap().len(), 2, "listed with the ticket");

    let disguised = form("Вирус", vec![("photo.png", b"MZ\x90\0<script>alert(1)</script>".to_vec())]);
    let (status, body) = post_form(&world, &user, disguised).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"), "a .png name does not make an image");
    let gif = form("GIF", vec![("a.gif", b"GIF89a\x01\0\x01\0".to_vec())]);
    assert_eq!(post_form(&world, &user, gif).await.0, 415, "only jpeg, png, webp and pdf");
    let huge = [png(), vec![0u8; 10 * 1024 * 1024]].concat();
    let (status, body) = post_form(&world, &user, form("Большой", vec![("big.png", huge)])).await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"), "{body}");
    let four = (0..4).map(|_| ("a.png", png())).collect();
    let (status, body) = post_form(&world, &user, form("Много", four)).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
    assert!(body["error"]["details"]["fields"]["attachments"].is_string(), "{body}");
    let (status, body) = post_form(&world, &user, form("", vec![("a.png", png())])).await;
    assert!(status == 400 && body["error"]["details"]["fields"]["subject"].is_string(), "{body}");
    let no_ids = form("Без заказа", vec![]).text("order_id", "null").text("request_id", "");
    let (status, ticket) = post_form(&world, &user, no_ids).await;
    assert_eq!((status, &ticket["order_id"], &ticket["request_id"]), (201, &Value::Null, &Value::Null), "{ticket}");
    let (status, body) = post_form(&world, &user, form("Заказ", vec![]).text("order_id", "семнадцать")).await;
    assert!(status == 400 && body["error"]["details"]["fields"]["order_id"].is_string(), "{body}");
    let (_, mine) = api.get(TICKETS, &user.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "refused forms created nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_support_route_is_in_the_document() {
    let world = World::start(1).await;
    let (_, document) = world.api(0).get_public("/api/v2/chat/openapi.json").await;
    let operations = [
        ("post", TICKETS.to_owned()),
        ("get", TICKETS.to_owned()),
        ("get", format!("{TICKETS}/{{id}}")),
        ("post", format!("{TICKETS}/{{id}}/replies")),
        ("post", format!("{TICKETS}/{{id}}/reopen")),
        ("get", format!("{TICKETS}/{{id}}/attachments/{{attachment_id}}")),
        ("get", QUEUE.to_owned()),
        ("get", format!("{QUEUE}/{{id}}")),
        ("patch", format!("{QUEUE}/{{id}}")),
        ("post", format!("{QUEUE}/{{id}}/replies")),
    ];
    for (method, path) in operations {
        assert!(document["paths"][&path][method].is_object(), "{method} {path} documented");
    }
    let opening = &document["paths"][TICKETS]["post"]["requestBody"]["content"];
    assert!(opening["application/json"].is_object() && opening["multipart/form-data"].is_object(), "{opening}");
    assert_eq!(platform::http::openapi::unresolved_references(&document), Vec::<String>::new());
}
