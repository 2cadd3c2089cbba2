//! `make bench` for notifications, measured side by side in one run against one SMTP sink:
//! 1. the service: `notification.requested` events on Kafka → preferences → template → SMTP,
//!    messages per second from the first event published to the last mail received;
//! 2. a plain SMTP client (lettre, same pool size and concurrency) sending the same messages,
//!    rendered beforehand.
//!
//! The ratio is what the pipeline costs over sending alone (goal: at least 0.5).

use contracts::Envelope;
use contracts::events::{self, NotificationRequested};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use notification::config::{Config, Mode, NotificationSettings};
use notification::domain::Kind;
use notification::domain::templates::{self, Lang};
use prost::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::smtp::SmtpSink;
use testkit::{TestApp, TestSchema, unique_prefix};

const MESSAGES: i64 = 3_000;
const CONCURRENCY: usize = 32;

fn event(user_id: i64) -> Envelope {
    let mut data = std::collections::HashMap::new();
    data.insert("request_id".to_owned(), user_id.to_string());
    Envelope::new(
        "marketplace",
        user_id,
        NotificationRequested {
            user_id,
            kind: "new_proposal".into(),
            title: "Новое предложение".into(),
            body: format!("Мастер предложил выполнить заявку №{user_id}"),
            data,
            channels: vec![events::Channel::Email as i32],
        },
    )
}

async fn publish(producer: &FutureProducer, topic: &str, users: std::ops::RangeInclusive<i64>) {
    let sends = users.map(|user| async move {
        let envelope = event(user);
        let bytes = envelope.encode_to_vec();
        let record = FutureRecord::to(topic).key(envelope.aggregate_id.as_str()).payload(&bytes);
        producer.send(record, Duration::from_secs(30)).await.map_err(|(e, _)| e).expect("published");
    });
    futures_util::future::join_all(sends).await;
}

async fn wait_for(sink: &SmtpSink, count: usize) {
    while sink.count() < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Messages per second of the service, from the first event to the last mail.
async fn through_service(sink: &SmtpSink) -> f64 {
    let schema = TestSchema::create(&[notification::MIGRATIONS]).await;
    let mut platform = testkit::settings(&schema, &unique_prefix());
    platform.app.log_level = "warn".into();
    platform.database.max_connections = 16;
    let mut settings = NotificationSettings { mode: Mode::Send, batch_size: CONCURRENCY as i64, ..Default::default() };
    settings.smtp.port = sink.port();
    settings.smtp.pool_size = CONCURRENCY as u32;
    settings.poll_interval_ms = 50;
    let config = Config { platform, notification: settings };
    let _app = TestApp::start(notification::build(config.clone()).await.expect("notification builds"));
    let mut conn = schema.connect().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!(
            "INSERT INTO contacts (user_id, email) SELECT g, 'user' || g || '@mebelplace.kz' FROM generate_series(0, {MESSAGES}) g"
        ),
    )
    .await
    .expect("contacts");
    let kafka = &config.platform.kafka;
    platform::kafka::ensure_topics(kafka, &[contracts::topics::NOTIFICATIONS_REQUESTS]).await.expect("topic");
    let producer = platform::kafka::producer(kafka).expect("producer").client();
    let topic = kafka.topic(contracts::topics::NOTIFICATIONS_REQUESTS);
    // Warm-up: the consumer has joined its group and the SMTP pool is open.
    let before = sink.count();
    publish(&producer, &topic, 0..=0).await;
    wait_for(sink, before + 1).await;
    let started = Instant::now();
    publish(&producer, &topic, 1..=MESSAGES).await;
    wait_for(sink, before + 1 + MESSAGES as usize).await;
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

/// Messages per second of lettre alone sending the same messages, rendered beforehand.
async fn plain_client(sink: &SmtpSink) -> f64 {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .pool_config(PoolConfig::new().max_size(CONCURRENCY as u32))
        .build();
    let from: Mailbox = "MebelPlace <noreply@mebelplace.com.kz>".parse().unwrap();
    let messages: Vec<Message> = (1..=MESSAGES)
        .map(|user| {
            let data = serde_json::json!({ "title": "Новое предложение", "body": format!("Мастер предложил выполнить заявку №{user}") });
            let words = templates::render(Kind::NewProposal, &data, Lang::Ru);
            Message::builder()
                .from(from.clone())
                .to(format!("user{user}@mebelplace.kz").parse().unwrap())
                .subject(words.title)
                .multipart(MultiPart::alternative_plain_html(words.text, words.html))
                .unwrap()
        })
        .collect();
    let queue = Arc::new(tokio::sync::Mutex::new(messages));
    let before = sink.count();
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (queue, transport) = (queue.clone(), transport.clone());
            tokio::spawn(async move {
                loop {
                    let Some(message) = queue.lock().await.pop() else { break };
                    transport.send(message).await.expect("sent");
                }
            })
        })
        .collect();
    futures_util::future::join_all(workers).await;
    wait_for(sink, before + MESSAGES as usize).await;
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let sink = SmtpSink::start().await;
    println!("{MESSAGES} e-mails to one SMTP sink, {CONCURRENCY} concurrent sends");
    let plain_before = plain_client(&sink).await;
    let service = through_service(&sink).await;
    let plain_after = plain_client(&sink).await;
    let plain = (plain_before + plain_after) / 2.0;
    println!("event → preferences → template → SMTP");
    println!("  notification service: {service:>8.0} messages/s");
    println!(
        "  plain SMTP client:    {plain:>8.0} messages/s (runs before and after: {plain_before:.0}, {plain_after:.0})"
    );
    println!("  service / plain client: {:.2} (goal ≥ 0.5)", service / plain);
}
