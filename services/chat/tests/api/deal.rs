//! With the real auth and marketplace services: a buyer accepts a proposal and the chat
//! between buyer and master exists for both, with its system message, once.

use crate::helpers::World;
use serde_json::json;
use testkit::keys::{KEY_1, keys_dir};
use testkit::{ApiClient, TestApp, TestSchema};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_proposal_opens_a_chat_for_both_with_a_system_message() {
    let mut world = World::empty(chat::config::ChatSettings::default()).await;
    let prefix = world.config.platform.kafka.topic_prefix.clone();
    let auth_schema = TestSchema::create(&[auth::MIGRATIONS]).await;
    let auth_config = auth::config::Config {
        platform: testkit::settings(&auth_schema, &prefix),
        auth: auth::config::AuthSettings {
            keys_dir: keys_dir(&[KEY_1]).to_string_lossy().into_owned(),
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            secure_cookies: false,
            ..Default::default()
        },
    };
    let auth_app = TestApp::start(auth::build(auth_config).await.expect("auth builds"));
    let market_schema = TestSchema::create(&[marketplace::MIGRATIONS]).await;
    let mut market = marketplace::config::Config {
        platform: testkit::settings(&market_schema, &prefix),
        marketplace: Default::default(),
    };
    market.platform.jwt.jwks_url = auth_app.url("/.well-known/jwks.json");
    let market_app = TestApp::start(marketplace::build(market).await.expect("marketplace builds"));
    world.config.platform.jwt.jwks_url = auth_app.url("/.well-known/jwks.json");
    world.add_in_process().await;
    world.add_in_process().await;
    let (auth_api, market_api) = (ApiClient::new(auth_app.address.clone()), ApiClient::new(market_app.address.clone()));

    let register = |role: &'static str| {
        let auth_api = auth_api.clone();
        async move {
            let username = format!("{role}{}", uuid::Uuid::new_v4().simple());
            let body = json!({
                "email_or_phone": format!("{}@mebelplace.kz", &username[..20]),
                "password": "Shkaf-2024",
                "username": &username[..20],
                "role": role,
            });
            let (status, body) = auth_api.post("/api/v2/auth/register", body).await;
            assert_eq!(status, 201, "{body}");
            crate::helpers::User {
                id: body["user"]["id"].as_i64().unwrap(),
                token: body["access_token"].as_str().unwrap().to_owned(),
            }
        }
    };
    let buyer = register("buyer").await;
    let master = register("master").await;
    let mut master_ws = world.connect(1, &master, "").await;

    let request = json!({
        "title": "Нужен шкаф-купе",
        "description": "Шкаф-купе в прихожую, 2,4 м, зеркальные двери",
        "region": "Алматы",
        "categories": ["шкафы-купе"],
        "budget": 15_000_000,
    });
    let (status, request) = market_api.post_as("/api/v2/requests", &buyer.token, request).await;
    assert_eq!(status, 201, "{request}");
    let request_id = request["id"].as_i64().unwrap();
    let proposal = json!({ "price": 14_000_000, "deadline_days": 14, "message": "Сделаю за две недели" });
    let path = format!("/api/v2/requests/{request_id}/proposals");
    let (status, proposal) = market_api.post_as(&path, &master.token, proposal).await;
    assert_eq!(status, 201, "{proposal}");
    let accept = format!("{path}/{}/accept", proposal["id"]);
    let (status, order) = market_api.post_as(&accept, &buyer.token, json!({})).await;
    assert_eq!(status, 201, "{order}");

    let announced = master_ws.expect("chat").await;
    assert_eq!(
        (announced["partner_id"].as_i64(), announced["request_id"].as_i64()),
        (Some(buyer.id), Some(request_id))
    );
    let first = master_ws.expect("message").await;
    assert_eq!((first["seq"].as_i64(), &first["message"]["kind"]), (Some(1), &json!("system")));
    for (user, partner) in [(&buyer, &master), (&master, &buyer)] {
        let (status, chats) = world.api(0).get("/api/v2/chats", &user.token).await;
        assert_eq!(status, 200, "{chats}");
        let items = chats["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "exactly one chat: {chats}");
        assert_eq!(items[0]["partner"]["id"], partner.id);
        assert_eq!(items[0]["request_id"], request_id);
        assert_eq!(items[0]["last_message"]["text"], chat::chats::DEAL_OPENED);
        assert_eq!(items[0]["unread_count"], 1);
    }
    let chat_id = announced["chat_id"].as_i64().unwrap();
    world.send(0, &buyer, chat_id, "Когда начнёте?").await;
    assert_eq!(master_ws.expect("message").await["seq"], 2);
}
