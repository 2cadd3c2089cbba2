//! PostgreSQL's `sslmode` and `sslrootcert` read as libpq reads them, and the rustls connector
//! tokio-postgres uses for them. tokio-postgres itself knows only `disable`, `prefer` and
//! `require` (and never checks a certificate), so both parameters are taken out of the URL here.
//!
//! | sslmode | encrypted | certificate checked |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers it | against the CA file if there is one, else not |
//! | `require` | always | against the CA file if there is one, else not |
//! | `verify-ca` | always | signed by the CA file (or the system's authorities) |
//! | `verify-full` | always | as `verify-ca`, and naming the host |

use crate::tls::{self, Check};
use diesel::{ConnectionError, ConnectionResult};
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::{InvalidDnsNameError, ServerName};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "disable" => Ok(Self::Disable),
            "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            // `allow` (plain first, TLS if refused) has no counterpart in tokio-postgres.
            other => Err(format!("sslmode {other:?} is not one of disable, prefer, require, verify-ca, verify-full")),
        }
    }

    /// What is checked, given whether a CA file was named (libpq checks the chain in
    /// `prefer`/`require` too when it has a root certificate).
    fn check(self, has_ca_file: bool) -> Check {
        match self {
            Self::VerifyFull => Check::ChainAndName,
            Self::VerifyCa => Check::Chain,
            _ if has_ca_file => Check::Chain,
            _ => Check::Nothing,
        }
    }
}

/// A database to connect to: the connection settings as tokio-postgres reads them and the TLS
/// configuration `sslmode` asked for, built once (the CA file is read here, not per connection).
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl PgTarget {
    /// `url` is a `postgres://` URL (a `key=value` string is passed to tokio-postgres as it
    /// is); `ca_file` applies unless the URL names its own `sslrootcert`. Errors never quote
    /// the URL, which holds the password.
    pub fn new(url: &str, ca_file: Option<&Path>) -> Result<Self, String> {
        let options = TlsOptions::split_from(url)?;
        let mut config: tokio_postgres::Config =
            options.rest.parse().map_err(|e| format!("DATABASE_URL is not a valid connection URL: {}", chain(&e)))?;
        let mode = options.sslmode.unwrap_or(SslMode::Prefer);
        config.ssl_mode(match mode {
            SslMode::Disable => WireMode::Disable,
            SslMode::Prefer => WireMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireMode::Require,
        });
        let ca_file = options.sslrootcert.as_deref().or(ca_file).filter(|_| mode != SslMode::Disable);
        let (check, roots) = match ca_file {
            // libpq's `sslrootcert=system`: the system's authorities, and the name checked.
            Some(path) if path == Path::new("system") => (Check::ChainAndName, None),
            Some(path) => (mode.check(true), Some(tls::root_store(Some(&tls::read_ca_file(path)?))?)),
            None => (mode.check(false), None),
        };
        let client = tls::client_config(check, roots, b"postgresql")?;
        Ok(Self { config, tls: MakeRustlsConnect(Arc::new(client)) })
    }

    /// One connection, not yet set up for a schema.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let (client, connection) =
            self.config.connect(self.tls.clone()).await.map_err(|e| ConnectionError::BadConnection(chain(&e)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
}

/// tokio-postgres says "error performing TLS handshake" and keeps the why in the source.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}

/// A URL split into libpq's TLS parameters and the rest.
#[derive(Debug, PartialEq)]
struct TlsOptions {
    rest: String,
    sslmode: Option<SslMode>,
    sslrootcert: Option<PathBuf>,
}

impl TlsOptions {
    fn split_from(url: &str) -> Result<Self, String> {
        let unchanged = Self { rest: url.to_owned(), sslmode: None, sslrootcert: None };
        let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let Some((base, query)) = url.split_once('?').filter(|_| is_url) else { return Ok(unchanged) };
        let mut options = Self { rest: base.to_owned(), ..unchanged };
        let mut kept = Vec::new();
        // The other parameters stay as they were written, encoding and all.
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => options.sslmode = Some(SslMode::parse(&decode(raw))?),
                "sslrootcert" => options.sslrootcert = Some(PathBuf::from(decode(raw))),
                _ => kept.push(pair),
            }
        }
        if !kept.is_empty() {
            options.rest = format!("{}?{}", options.rest, kept.join("&"));
        }
        Ok(options)
    }
}

/// Percent-decoding as in a URL's path: `+` stays a plus (form encoding would make it a space).
fn decode(raw: &str) -> String {
    form_urlencoded::parse(format!("v={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// tokio-postgres' TLS hook on tokio-rustls.
#[derive(Clone)]
struct MakeRustlsConnect(Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<RustlsConnect, InvalidDnsNameError> {
        Ok(RustlsConnect { config: self.0.clone(), host: ServerName::try_from(host)?.to_owned() })
    }
}

struct RustlsConnect {
    config: Arc<ClientConfig>,
    host: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<RustlsStream<S>>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = TlsConnector::from(self.config);
        async move { connector.connect(self.host, stream).await.map(RustlsStream) }.boxed()
    }
}

/// tokio-postgres wants its own stream trait, which a foreign type cannot implement directly.
struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    /// No `tls-server-end-point` binding: SCRAM authenticates without `-PLUS` over TLS, and
    /// `channel_binding=require` is refused.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_the_url_and_the_rest_stays_as_written() {
        let options = TlsOptions::split_from(
            "postgres://u:p%40ss@db:5432/app?sslmode=verify-full&application_name=a%20b&sslrootcert=/etc/ca+x.pem",
        )
        .unwrap();
        assert_eq!(options.rest, "postgres://u:p%40ss@db:5432/app?application_name=a%20b");
        assert_eq!(options.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(options.sslrootcert, Some(PathBuf::from("/etc/ca+x.pem")));
    }

    #[test]
    fn a_url_without_tls_parameters_is_unchanged() {
        let options = TlsOptions::split_from("postgres://db/app").unwrap();
        assert_eq!(options, TlsOptions { rest: "postgres://db/app".into(), sslmode: None, sslrootcert: None });
        let only_tls = TlsOptions::split_from("postgres://db/app?sslmode=disable").unwrap();
        assert_eq!(only_tls.rest, "postgres://db/app");
    }

    #[test]
    fn an_unknown_sslmode_is_refused_without_quoting_the_url() {
        let error = TlsOptions::split_from("postgres://u:hunter2@db/app?sslmode=allow").unwrap_err();
        assert!(error.contains("allow") && !error.contains("hunter2"), "{error}");
    }

    #[test]
    fn a_ca_file_makes_prefer_and_require_check_the_chain_as_libpq_does() {
        assert_eq!(SslMode::Require.check(false), Check::Nothing);
        assert_eq!(SslMode::Require.check(true), Check::Chain);
        assert_eq!(SslMode::Prefer.check(true), Check::Chain);
        assert_eq!(SslMode::VerifyCa.check(false), Check::Chain);
        assert_eq!(SslMode::VerifyFull.check(false), Check::ChainAndName);
    }
}
