//! The template of a service: everything a service has, with no wiring of its own. A new
//! service copies this shape (see docs/new-service.md): a catalogue entry, a configuration
//! type, a [`Declaration`], and a `build` that opens a [`Kit`], adds its consumers and jobs,
//! and serves its routes. Tests run it as a process (graceful shutdown, the kit end to end)
//! and the platform bench measures its idle memory.

use actix_web::{HttpResponse, web};
use contracts::events::NotificationRequested;
use contracts::services::{PublicRoute, ServiceSpec};
use contracts::{Envelope, topics};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::consumer::EventHandler;
use platform::db::PgPool;
use platform::outbox::{self, Destination};
use platform::{ApiError, AuthUser, Declaration, Kit, Settings};
use std::time::Duration;

/// Its catalogue entry (a real service's lives in `contracts::services::CATALOGUE`).
const MINIMAL: ServiceSpec = ServiceSpec {
    name: "minimal",
    port: 8090,
    schema: Some("minimal"),
    routes: &["/v1"],
    public: &[PublicRoute { method: Some("GET"), prefix: "/v1/slow" }],
    uploads: &[],
    search: &[],
    openapi: None,
    publishes: &[topics::NOTIFICATIONS_REQUESTS],
};

const SERVICE: Declaration<Settings> = Declaration {
    spec: &MINIMAL,
    migrations: &[],
    env_aliases: &[],
    build: |settings| Box::pin(build(settings)),
    commands: &[],
};

/// The consumer's name: its group is `minimal.notes`.
const NOTES: &str = "notes";

async fn build(settings: Settings) -> anyhow::Result<platform::Application> {
    let mut kit = Kit::open(&MINIMAL, &settings).await?;
    kit.consume(NOTES, &[topics::NOTIFICATIONS_REQUESTS], NoteHandler);
    let db = web::Data::new(kit.db());
    kit.serve(move |cfg| {
        cfg.app_data(db.clone())
            .route("/v1/slow", web::get().to(slow))
            .route("/v1/notes", web::post().to(post_note))
            .route("/v1/notes/received", web::get().to(received));
    })
}

fn main() -> anyhow::Result<()> {
    platform::service::main(&SERVICE)
}

#[derive(serde::Deserialize)]
struct Pause {
    ms: u64,
}

/// Answers after `ms` milliseconds (at most 30 s): lets a test have a request in flight.
async fn slow(query: web::Query<Pause>) -> HttpResponse {
    tokio::time::sleep(Duration::from_millis(query.ms.min(30_000))).await;
    HttpResponse::Ok().json(serde_json::json!({ "slept_ms": query.ms }))
}

#[derive(serde::Deserialize)]
struct Note {
    text: String,
}

/// Publishes the note as an event, in a transaction as a real change would.
async fn post_note(
    db: web::Data<PgPool>,
    user: AuthUser,
    note: platform::Json<Note>,
) -> Result<HttpResponse, ApiError> {
    let event =
        NotificationRequested { user_id: user.id, kind: "note".into(), body: note.text.clone(), ..Default::default() };
    let mut conn = db.get().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let to = Destination::kafka(topics::NOTIFICATIONS_REQUESTS);
        outbox::enqueue(conn, Envelope::new(MINIMAL.name, user.id, event), &to).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "queued": true })))
}

/// How many notes the consumer has taken in (its inbox).
async fn received(db: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.get().await?;
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM inbox WHERE consumer = $1")
        .bind::<diesel::sql_types::Text, _>(MINIMAL.consumer_group(NOTES))
        .get_result(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "received": count.n })))
}

/// Takes notes in: the inbox row the platform writes is all the effect it needs.
struct NoteHandler;

impl EventHandler for NoteHandler {
    async fn handle(&self, _conn: &mut AsyncPgConnection, event: &Envelope) -> anyhow::Result<()> {
        tracing::info!(event_id = %event.id, "note received");
        Ok(())
    }
}
