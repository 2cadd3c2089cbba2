//! An SMTP sink: speaks enough SMTP for a mail client to deliver, and records each message.
//! It can refuse a share of messages on purpose with a transient `451`, as busy servers do.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent, dot-unstuffed.
    pub data: String,
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

pub struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    failing_per_mille: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp sink");
        let port = listener.local_addr().expect("smtp address").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let failing_per_mille = Arc::new(AtomicU32::new(0));
        let (store, failing) = (mails.clone(), failing_per_mille.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, store.clone(), failing.clone()));
            }
        });
        Self { port, mails, failing_per_mille, task }
    }

    /// Refuses about `fraction` of the messages from now on with `451` (try again later).
    pub fn fail_randomly(&self, fraction: f64) {
        self.failing_per_mille.store((fraction.clamp(0.0, 1.0) * 1000.0).round() as u32, Ordering::Relaxed);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many messages were received (without copying them).
    pub fn count(&self) -> usize {
        self.mails.lock().expect("smtp lock").len()
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().expect("smtp lock").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    failing_per_mille: Arc<AtomicU32>,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    writer.write_all(b"220 sink ESMTP\r\n").await?;
    let mut mail = ReceivedMail::default();
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") || command.starts_with("RSET") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if command.starts_with("MAIL FROM:") {
            mail.from = address(&line);
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            mail.to.push(address(&line));
            b"250 OK\r\n"
        } else if command == "DATA" {
            writer.write_all(b"354 end with .\r\n").await?;
            while let Some(data_line) = lines.next_line().await? {
                if data_line == "." {
                    break;
                }
                mail.data.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
                mail.data.push('\n');
            }
            let received = std::mem::take(&mut mail);
            if fastrand::u32(0..1000) < failing_per_mille.load(Ordering::Relaxed) {
                b"451 4.3.0 try again later\r\n"
            } else {
                mails.lock().expect("smtp lock").push(received);
                b"250 queued\r\n"
            }
        } else if command == "QUIT" {
            writer.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 command not recognised\r\n"
        };
        writer.write_all(reply).await?;
    }
    Ok(())
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
}
