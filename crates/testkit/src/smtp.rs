//! An SMTP sink: speaks enough SMTP for a mail client to deliver, and records each message.
//! It can refuse a share of messages on purpose with a transient `451`, as busy servers do;
//! speak TLS from the first byte (port 465's way) or offer and require STARTTLS (587's), with a
//! certificate of the test's own ([`crate::tls::SelfSigned`]); and require `AUTH PLAIN`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent, dot-unstuffed.
    pub data: String,
    /// Whether it came over TLS.
    pub tls: bool,
    /// The user the client logged in as, if it did.
    pub login: Option<String>,
}

impl ReceivedMail {
    /// The text of the mail: its parts, base64 decoded where they are encoded.
    pub fn text(&self) -> String {
        use base64::Engine;
        let mut text = String::new();
        for part in self.data.split("Content-Transfer-Encoding: ").skip(1) {
            let Some((encoding, rest)) = part.split_once('\n') else { continue };
            let body: String =
                rest.trim_start().lines().take_while(|l| !l.starts_with("--") && !l.is_empty()).collect();
            match encoding.trim() {
                "base64" => text.push_str(&String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD.decode(body.trim()).unwrap_or_default(),
                )),
                _ => text.push_str(&body),
            }
            text.push('\n');
        }
        text
    }
}

/// The first run of six digits in `text` (a verification code).
pub fn code_in(text: &str) -> Option<String> {
    let digits: Vec<char> = text.chars().collect();
    digits.windows(6).find(|w| w.iter().all(char::is_ascii_digit)).map(|w| w.iter().collect())
}

/// How the sink's connections are secured.
#[derive(Clone, Default)]
pub enum Security {
    #[default]
    Plain,
    /// Plain at first; offers STARTTLS and refuses mail until the client has used it.
    StartTls(TlsAcceptor),
    /// TLS from the first byte.
    Tls(TlsAcceptor),
}

#[derive(Clone, Default)]
pub struct SinkOptions {
    pub security: Security,
    /// A user and password: mail is refused until the client logs in with them (`AUTH PLAIN`).
    pub login: Option<(String, String)>,
}

#[derive(Default)]
struct Shared {
    options: SinkOptions,
    mails: Mutex<Vec<ReceivedMail>>,
    failing_per_mille: AtomicU32,
    failed_handshakes: AtomicU32,
}

pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_with(SinkOptions::default()).await
    }

    pub async fn start_with(options: SinkOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp sink");
        let port = listener.local_addr().expect("smtp address").port();
        let shared = Arc::new(Shared { options, ..Shared::default() });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Self { port, shared, task }
    }

    /// Refuses about `fraction` of the messages from now on with `451` (try again later).
    pub fn fail_randomly(&self, fraction: f64) {
        self.shared.failing_per_mille.store((fraction.clamp(0.0, 1.0) * 1000.0).round() as u32, Ordering::Relaxed);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many messages were received (without copying them).
    pub fn count(&self) -> usize {
        self.shared.mails.lock().expect("smtp lock").len()
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.shared.mails.lock().expect("smtp lock").clone()
    }

    /// TLS handshakes that did not complete (a client that does not trust the certificate).
    pub fn failed_handshakes(&self) -> u32 {
        self.shared.failed_handshakes.load(Ordering::Relaxed)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, sink: Arc<Shared>) -> std::io::Result<()> {
    match &sink.options.security {
        Security::Plain => session(&mut BufReader::new(stream), &sink, false).await.map(drop),
        Security::Tls(acceptor) => {
            let Some(stream) = handshake(acceptor, stream, &sink).await else { return Ok(()) };
            session(&mut BufReader::new(stream), &sink, true).await.map(drop)
        }
        Security::StartTls(acceptor) => {
            let mut plain = BufReader::new(stream);
            if session(&mut plain, &sink, false).await? == Ended::StartTls {
                let Some(stream) = handshake(acceptor, plain.into_inner(), &sink).await else { return Ok(()) };
                // No greeting after STARTTLS: the client starts again with EHLO.
                commands(&mut BufReader::new(stream), &sink, true).await?;
            }
            Ok(())
        }
    }
}

async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    sink: &Shared,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match acceptor.accept(stream).await {
        Ok(stream) => Some(stream),
        Err(_) => {
            sink.failed_handshakes.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[derive(Debug, PartialEq)]
enum Ended {
    Quit,
    StartTls,
}

/// Greets, then answers commands.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    sink: &Shared,
    tls: bool,
) -> std::io::Result<Ended> {
    reply(conn, "220 sink ESMTP\r\n").await?;
    commands(conn, sink, tls).await
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    conn.write_all(text.as_bytes()).await?;
    conn.flush().await
}

/// The next line without its CRLF; `None` when the client has gone.
async fn next_line<S: AsyncRead + Unpin>(conn: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    sink: &Shared,
    tls: bool,
) -> std::io::Result<Ended> {
    let offers_starttls = matches!(sink.options.security, Security::StartTls(_)) && !tls;
    let mut login: Option<String> = None;
    let mut mail = ReceivedMail::default();
    while let Some(line) = next_line(conn).await? {
        let command = line.to_ascii_uppercase();
        let answer: String = if command.starts_with("EHLO") {
            let mut features = vec!["sink", "8BITMIME"];
            if offers_starttls {
                features.push("STARTTLS");
            } else if sink.options.login.is_some() {
                features.push("AUTH PLAIN");
            }
            let last = features.len() - 1;
            features
                .iter()
                .enumerate()
                .map(|(i, f)| format!("250{}{f}\r\n", if i == last { ' ' } else { '-' }))
                .collect()
        } else if command.starts_with("HELO") || command.starts_with("RSET") || command.starts_with("NOOP") {
            "250 OK\r\n".into()
        } else if command == "STARTTLS" && offers_starttls {
            reply(conn, "220 2.0.0 ready to start TLS\r\n").await?;
            return Ok(Ended::StartTls);
        } else if command.starts_with("AUTH PLAIN") {
            let initial = line.get("AUTH PLAIN ".len()..).map(str::to_owned);
            let response = match initial {
                Some(response) => response,
                None => {
                    reply(conn, "334 \r\n").await?;
                    next_line(conn).await?.unwrap_or_default()
                }
            };
            login = plain_login(&response, sink.options.login.as_ref());
            if login.is_some() { "235 2.7.0 authenticated\r\n" } else { "535 5.7.8 bad credentials\r\n" }.into()
        } else if command.starts_with("MAIL FROM:") {
            if offers_starttls {
                "530 5.7.0 must issue a STARTTLS command first\r\n".into()
            } else if sink.options.login.is_some() && login.is_none() {
                "530 5.7.0 authentication required\r\n".into()
            } else {
                mail.from = address(&line);
                "250 OK\r\n".into()
            }
        } else if command.starts_with("RCPT TO:") {
            mail.to.push(address(&line));
            "250 OK\r\n".into()
        } else if command == "DATA" {
            reply(conn, "354 end with .\r\n").await?;
            while let Some(data_line) = next_line(conn).await? {
                if data_line == "." {
                    break;
                }
                mail.data.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
                mail.data.push('\n');
            }
            let received = ReceivedMail { tls, login: login.clone(), ..std::mem::take(&mut mail) };
            if fastrand::u32(0..1000) < sink.failing_per_mille.load(Ordering::Relaxed) {
                "451 4.3.0 try again later\r\n".into()
            } else {
                sink.mails.lock().expect("smtp lock").push(received);
                "250 queued\r\n".into()
            }
        } else if command == "QUIT" {
            reply(conn, "221 bye\r\n").await?;
            return Ok(Ended::Quit);
        } else {
            "502 command not recognised\r\n".into()
        };
        reply(conn, &answer).await?;
    }
    Ok(Ended::Quit)
}

/// The user of an `AUTH PLAIN` response (base64 of `authzid NUL user NUL password`) if it
/// carries the expected credentials.
fn plain_login(response: &str, expected: Option<&(String, String)>) -> Option<String> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(response.trim()).ok()?;
    let mut parts = decoded.split(|b| *b == 0).skip(1).map(|p| String::from_utf8_lossy(p).into_owned());
    let (user, password) = (parts.next()?, parts.next()?);
    let (expected_user, expected_password) = expected?;
    (user == *expected_user && password == *expected_password).then_some(user)
}

fn address(line: &str) -> String {
    let start = line.find('<').map_or(line.find(':').map_or(0, |i| i + 1), |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end.max(start)].trim().to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn address_is_taken_from_angle_brackets() {
        assert_eq!(super::address("MAIL FROM:<noreply@mebelplace.com.kz>"), "noreply@mebelplace.com.kz");
        assert_eq!(super::address("RCPT TO: user@example.kz"), "user@example.kz");
    }

    #[test]
    fn auth_plain_carries_the_user_and_password() {
        let expected = ("relay".to_owned(), "s3cret".to_owned());
        // base64 of "\0relay\0s3cret" and of "\0relay\0wrong".
        assert_eq!(super::plain_login("AHJlbGF5AHMzY3JldA==", Some(&expected)), Some("relay".to_owned()));
        assert_eq!(super::plain_login("AHJlbGF5AHdyb25n", Some(&expected)), None);
        assert_eq!(super::plain_login("not base64", Some(&expected)), None);
    }
}
