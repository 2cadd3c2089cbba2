//! PostgreSQL and Redis over TLS against the TLS servers `scripts/infra-up` starts beside the
//! plain ones: PostgreSQL with `ssl=on` on 5433 and Redis with only a TLS port, 6380. Their
//! certificate names `localhost` (not `127.0.0.1`) and is signed by a test CA that no system
//! trusts, `ca.pem` in the folder infra-up made it in.

use platform::config::{DatabaseSettings, RedisSettings};
use platform::db::DbError;
use secrecy::SecretString;
use std::path::PathBuf;

fn tls_dir() -> PathBuf {
    std::env::var_os("MEBELPLACE_TLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/mebelplace/tls"))
}

fn ca_file() -> PathBuf {
    tls_dir().join("ca.pem")
}

fn port(variable: &str, default: u16) -> u16 {
    std::env::var(variable).ok().and_then(|p| p.parse().ok()).unwrap_or(default)
}

/// The TLS PostgreSQL at `host`, with `sslmode` and the other query parameters in `query`.
fn database(host: &str, query: &str, ca_file: Option<PathBuf>) -> DatabaseSettings {
    let port = port("MEBELPLACE_PG_TLS_PORT", 5433);
    let url = format!("postgres://postgres@{host}:{port}/postgres?{query}");
    DatabaseSettings { url: SecretString::from(url), ca_file, connect_timeout_secs: 5, ..Default::default() }
}

/// Whether the pool's connection is encrypted, as the server sees it.
async fn encrypted(settings: &DatabaseSettings) -> Result<bool, DbError> {
    let pool = platform::db::pool(settings)?;
    let query = "SELECT count(*) AS value FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl";
    Ok(platform::db::count(&pool, query).await? == 1)
}

#[tokio::test]
async fn pool_queries_over_tls_checking_certificate_and_name_with_the_ca_file() {
    let settings = database("localhost", "sslmode=verify-full", Some(ca_file()));
    assert!(encrypted(&settings).await.unwrap());
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_signed_by_an_authority_not_trusted() {
    // No CA file: the system's authorities, none of which signed the test CA.
    let settings = database("localhost", "sslmode=verify-full", None);
    let error = encrypted(&settings).await.unwrap_err().to_string();
    assert!(error.contains("invalid peer certificate: UnknownIssuer"), "{error}");
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_for_another_name_which_verify_ca_accepts() {
    let full = database("127.0.0.1", "sslmode=verify-full", Some(ca_file()));
    let error = encrypted(&full).await.unwrap_err().to_string();
    assert!(error.contains("invalid peer certificate: certificate not valid for name \"127.0.0.1\""), "{error}");

    let ca = database("127.0.0.1", "sslmode=verify-ca", Some(ca_file()));
    assert!(encrypted(&ca).await.unwrap(), "verify-ca checks the chain only");
}

#[tokio::test]
async fn require_encrypts_without_checking_and_a_ca_file_makes_it_check_the_chain() {
    assert!(encrypted(&database("127.0.0.1", "sslmode=require", None)).await.unwrap());

    let other_ca = tls_dir().join("server.pem"); // a certificate, but not the one that signed it
    let error = encrypted(&database("127.0.0.1", "sslmode=require", Some(other_ca))).await.unwrap_err();
    assert!(error.to_string().contains("invalid peer certificate"), "{error}");
}

#[tokio::test]
async fn sslmode_disable_against_the_tls_server_connects_in_plain_text() {
    // ssl=on lets clients choose: the server's pg_hba.conf has `host` (TLS or not) lines.
    assert!(!encrypted(&database("127.0.0.1", "sslmode=disable", Some(ca_file()))).await.unwrap());
    // Without sslmode the client prefers TLS, as libpq does.
    assert!(encrypted(&database("127.0.0.1", "connect_timeout=5", None)).await.unwrap());
}

#[tokio::test]
async fn one_off_connections_and_migrations_use_tls_too() {
    let ca = ca_file().display().to_string();
    let port = port("MEBELPLACE_PG_TLS_PORT", 5433);
    let url = format!("postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}");
    let mut conn = platform::db::connect(&url, "public").await.unwrap();
    let row = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
    ));
    assert!(diesel_async::RunQueryDsl::get_result::<bool>(row, &mut conn).await.unwrap());

    let schema = format!("tls_{}", uuid_suffix());
    let settings =
        DatabaseSettings { schema: schema.clone(), ..database("localhost", "sslmode=verify-full", Some(ca_file())) };
    platform::db::migrate(&settings, &[]).await.unwrap();
    let pool = platform::db::pool(&settings).unwrap();
    let outbox = platform::db::count(&pool, "SELECT count(*) AS value FROM outbox").await.unwrap();
    assert_eq!(outbox, 0, "the platform's tables exist in the new schema");
    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();

    let refused = platform::db::connect(&url.replace("localhost", "127.0.0.1"), "public").await.err().unwrap();
    assert!(refused.to_string().contains("certificate not valid for name"), "{refused}");
}

#[tokio::test]
async fn an_unreadable_ca_file_fails_naming_the_file_before_any_connection() {
    let missing = tls_dir().join("no-such-ca.pem");
    let error = platform::db::pool(&database("localhost", "sslmode=verify-full", Some(missing))).err().unwrap();
    assert!(error.to_string().contains("no-such-ca.pem"), "{error}");
}

fn uuid_suffix() -> String {
    testkit::unique_prefix().trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned()
}

fn redis(scheme: &str, ca_file: Option<PathBuf>) -> RedisSettings {
    let port = port("MEBELPLACE_REDIS_TLS_PORT", 6380);
    let url = SecretString::from(format!("{scheme}://localhost:{port}"));
    RedisSettings { url, ca_file, key_prefix: testkit::unique_prefix(), ..Default::default() }
}

#[tokio::test]
async fn rediss_round_trips_a_value_with_the_ca_file() {
    let pool = platform::redis::pool(&redis("rediss", Some(ca_file()))).unwrap();
    let mut conn = pool.get().await.unwrap();
    let key = pool.key("tls");
    let _: () = deadpool_redis::redis::cmd("SET")
        .arg(&key)
        .arg("over tls")
        .arg("EX")
        .arg(60)
        .query_async(&mut conn)
        .await
        .unwrap();
    let value: String = deadpool_redis::redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap();
    assert_eq!(value, "over tls");
}

#[tokio::test]
async fn rediss_refuses_a_certificate_signed_by_an_authority_not_trusted() {
    let pool = platform::redis::pool(&redis("rediss", None)).unwrap();
    let error = platform::redis::ping(&pool).await.unwrap_err();
    assert!(format!("{error:#}").contains("UnknownIssuer"), "{error:#}");
}

#[test]
fn a_redis_ca_file_needs_a_rediss_url() {
    let error = platform::redis::pool(&redis("redis", Some(ca_file()))).err().unwrap();
    assert!(error.to_string().contains("rediss://"), "{error}");
}
