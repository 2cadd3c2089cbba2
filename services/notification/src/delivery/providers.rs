//! The channels' providers: OneSignal (push), Mobizon (SMS), SMTP (e-mail), NATS (in-app),
//! and the recorder that stands in for the first three in development mode. Each call ends in
//! an [`Outcome`] that says whether trying again could help, or that nobody knows whether the
//! provider took the message.

use crate::config::{Mode, NotificationSettings, SmtpSettings, SmtpTls};
use crate::domain::retry::parse_retry_after;
use crate::domain::templates::Rendered;
use crate::store::recorded;
use anyhow::Context;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use platform::config::NatsSettings;
use platform::db::PgPool;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::Duration;

/// How one provider call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent(Option<String>),
    /// Rate-limited, a server error, a timeout: trying again may succeed.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good (a bad request, an unsubscribed device, a failed status in a 200).
    Failed(String),
    /// There is nowhere to send it.
    Skipped(String),
    /// The request went out and no answer said what became of it (a timeout, a connection cut
    /// while waiting, a gateway that stopped waiting, an unreadable success): the provider may
    /// have taken the message.
    InDoubt(String),
}

impl Outcome {
    fn retry(error: impl Into<String>) -> Self {
        Self::Retry { error: error.into(), retry_after: None }
    }
}

/// An HTTP status that already decides the outcome (anything but 2xx). A status is the
/// provider's answer, except 504: a gateway in front of it stopped waiting for one.
pub fn by_status(status: u16, retry_after: Option<&str>, body: &str) -> Option<Outcome> {
    if status == 504 {
        return Some(Outcome::InDoubt("HTTP 504: a gateway stopped waiting for the provider".into()));
    }
    if status == 429 || status == 408 || status >= 500 {
        let retry_after = retry_after.and_then(|value| parse_retry_after(value, chrono::Utc::now()));
        return Some(Outcome::Retry { error: format!("HTTP {status}"), retry_after });
    }
    (!(200..300).contains(&status)).then(|| Outcome::Failed(format!("HTTP {status}: {}", clip(body))))
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The e-mail's Message-ID: the delivery's idempotency key, the same in every copy.
pub fn message_id(key: uuid::Uuid) -> String {
    format!("<{key}@mebelplace.com.kz>")
}

/// OneSignal answers 200 with `errors` when it could not send (no subscribed device …).
pub fn onesignal_outcome(body: &Value) -> Outcome {
    let errors = &body["errors"];
    let has_errors = match errors {
        Value::Null => false,
        Value::Array(list) => !list.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    };
    match body["id"].as_str().filter(|id| !id.is_empty()) {
        Some(id) if !has_errors => Outcome::Sent(Some(id.to_owned())),
        _ => Outcome::Failed(format!("OneSignal: {}", clip(&errors.to_string()))),
    }
}

/// Mobizon answers `{"code": 0, "data": {"messageId": …}}` on success.
pub fn mobizon_outcome(body: &Value) -> Outcome {
    match body["code"].as_i64() {
        Some(0) => Outcome::Sent(
            body["data"]["messageId"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| body["data"]["messageId"].as_i64().map(|id| id.to_string())),
        ),
        Some(code) => {
            Outcome::Failed(format!("Mobizon code {code}: {}", clip(body["message"].as_str().unwrap_or_default())))
        }
        None => Outcome::InDoubt(format!("Mobizon: a success without a code: {}", clip(&body.to_string()))),
    }
}

/// The SMTP client: plain, STARTTLS or TLS from the first byte; the server's certificate
/// checked against the system's roots, or only against `ca_file`'s; AUTH when a user is set.
fn smtp_transport(settings: &SmtpSettings, timeout: Duration) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut smtp = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .timeout(Some(timeout))
        .pool_config(PoolConfig::new().max_size(settings.pool_size.max(1)));
    match settings.tls {
        SmtpTls::None => {
            anyhow::ensure!(
                settings.ca_file.is_none(),
                "notification.smtp.ca_file (SMTP_CA_FILE) is set but notification.smtp.tls (SMTP_TLS) is none"
            );
            if !settings.username.is_empty() {
                tracing::warn!("SMTP credentials go over a plain connection: set SMTP_TLS unless the relay is local");
            }
        }
        SmtpTls::Starttls => smtp = smtp.tls(Tls::Required(tls_parameters(settings)?)),
        SmtpTls::Tls => smtp = smtp.tls(Tls::Wrapper(tls_parameters(settings)?)),
    }
    if !settings.username.is_empty() {
        smtp =
            smtp.credentials(Credentials::new(settings.username.clone(), settings.password.expose_secret().to_owned()));
    }
    Ok(smtp.build())
}

fn tls_parameters(settings: &SmtpSettings) -> anyhow::Result<TlsParameters> {
    let mut parameters = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let what = "notification.smtp.ca_file (SMTP_CA_FILE)";
        let pem = std::fs::read(path).with_context(|| format!("{what}: cannot read {path}"))?;
        anyhow::ensure!(
            pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----"),
            "{what}: no PEM certificate in {path}"
        );
        let authorities = Certificate::from_pem(&pem).with_context(|| format!("{what}: {path}"))?;
        parameters = parameters.certificate_store(CertificateStore::None).add_root_certificate(authorities);
    }
    Ok(parameters.build_rustls()?)
}

pub struct Providers {
    mode: Mode,
    http: reqwest::Client,
    settings: NotificationSettings,
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    nats: async_nats::Client,
    nats_settings: NatsSettings,
    db: PgPool,
}

impl Providers {
    pub fn new(
        settings: &NotificationSettings,
        nats: async_nats::Client,
        nats_settings: NatsSettings,
        db: PgPool,
    ) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(settings.provider_timeout_ms);
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        let from = settings.smtp.from.parse().map_err(|e| anyhow::anyhow!("notification.smtp.from: {e}"))?;
        Ok(Self {
            mode: settings.mode,
            http,
            settings: settings.clone(),
            smtp: smtp_transport(&settings.smtp, timeout)?,
            from,
            nats,
            nats_settings,
            db,
        })
    }

    async fn record(&self, channel: &str, destination: &str, subject: &str, body: &str) -> Outcome {
        let Ok(mut conn) = self.db.get().await else { return Outcome::retry("database unavailable") };
        match recorded::insert(&mut conn, channel, destination, subject, body).await {
            Ok(id) => Outcome::Sent(Some(format!("recorded:{id}"))),
            Err(error) => Outcome::retry(format!("cannot record: {error}")),
        }
    }

    /// Sends a JSON or form request and reads the provider's JSON answer.
    async fn call(&self, request: reqwest::RequestBuilder, read: fn(&Value) -> Outcome) -> Outcome {
        let response = match request.send().await {
            Ok(response) => response,
            // Not connected: the request never left.
            Err(error) if error.is_connect() => return Outcome::retry(error.without_url().to_string()),
            // Without the URL: Mobizon's carries the API key.
            Err(error) => return Outcome::InDoubt(error.without_url().to_string()),
        };
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match response.text().await {
            Ok(body) => body,
            Err(error) => return Outcome::InDoubt(error.without_url().to_string()),
        };
        if let Some(outcome) = by_status(status, retry_after.as_deref(), &body) {
            return outcome;
        }
        match serde_json::from_str::<Value>(&body) {
            Ok(json) => read(&json),
            Err(_) => Outcome::InDoubt(format!("unreadable answer: {}", clip(&body))),
        }
    }

    /// A push to the user's devices (their subscription ids, or their external id).
    pub async fn push(
        &self,
        key: uuid::Uuid,
        user_id: i64,
        devices: &[String],
        message: &Rendered,
        data: &Value,
    ) -> Outcome {
        if self.mode == Mode::Record {
            return self.record("push", &user_id.to_string(), &message.title, &message.text).await;
        }
        let onesignal = &self.settings.onesignal;
        let mut body = json!({
            "app_id": onesignal.app_id,
            "target_channel": "push",
            "headings": { "en": message.title, "ru": message.title, "kk": message.title },
            "contents": { "en": message.text, "ru": message.text, "kk": message.text },
            "data": data,
            "idempotency_key": key.to_string(),
        });
        if devices.is_empty() {
            body["include_aliases"] = json!({ "external_id": [user_id.to_string()] });
        } else {
            body["include_subscription_ids"] = json!(devices);
        }
        let request = self
            .http
            .post(format!("{}/notifications?c=push", onesignal.url))
            .header(reqwest::header::AUTHORIZATION, format!("Key {}", onesignal.api_key.expose_secret()))
            .json(&body);
        self.call(request, onesignal_outcome).await
    }

    /// An SMS to `phone` (`+7…`).
    pub async fn sms(&self, phone: &str, text: &str) -> Outcome {
        if self.mode == Mode::Record {
            return self.record("sms", phone, "", text).await;
        }
        let mobizon = &self.settings.mobizon;
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("recipient", phone.trim_start_matches('+')).append_pair("text", text);
            if !mobizon.sender.is_empty() {
                form.append_pair("from", &mobizon.sender);
            }
            form.finish()
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("output", "json")
            .append_pair("api", "v1")
            .append_pair("apiKey", mobizon.api_key.expose_secret())
            .finish();
        let url = format!("{}/service/message/sendsmsmessage?{query}", mobizon.url);
        let request =
            self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(form);
        self.call(request, mobizon_outcome).await
    }

    /// An e-mail in HTML and text; `unsubscribe` adds the one-click headers. The Message-ID is
    /// the delivery's idempotency key, so a duplicate can be recognised downstream.
    pub async fn email(&self, key: uuid::Uuid, to: &str, message: &Rendered, unsubscribe: Option<&str>) -> Outcome {
        if self.mode == Mode::Record {
            return self.record("email", to, &message.title, &message.text).await;
        }
        let Ok(to) = to.parse::<Mailbox>() else { return Outcome::Failed(format!("not an e-mail address: {to}")) };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.title.clone())
            .message_id(Some(message_id(key)));
        if let Some(link) = unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{link}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let email =
            match builder.multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone())) {
                Ok(email) => email,
                Err(error) => return Outcome::Failed(format!("cannot build the message: {error}")),
            };
        match self.smtp.send(email).await {
            Ok(response) => Outcome::Sent(response.message().next().map(str::to_owned)),
            Err(error) if error.is_permanent() => Outcome::Failed(format!("SMTP: {error}")),
            Err(error) => Outcome::retry(format!("SMTP: {error}")),
        }
    }

    /// The in-app notification to the user's live connections (`rt.user.<id>`).
    pub async fn in_app(&self, user_id: i64, payload: &Value) -> Outcome {
        let subject = self.nats_settings.subject(&contracts::subjects::realtime_user(user_id));
        let bytes = serde_json::to_vec(payload).unwrap_or_default();
        match self.nats.publish(subject, bytes.into()).await {
            Ok(()) => Outcome::Sent(None),
            Err(error) => Outcome::retry(format!("NATS: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decide_retries() {
        assert!(
            matches!(by_status(429, Some("7"), ""), Some(Outcome::Retry { retry_after: Some(d), .. }) if d.as_secs() == 7)
        );
        assert!(matches!(by_status(503, None, ""), Some(Outcome::Retry { retry_after: None, .. })));
        assert!(matches!(by_status(400, None, "bad"), Some(Outcome::Failed(_))));
        assert!(matches!(by_status(504, None, ""), Some(Outcome::InDoubt(_))), "no answer behind the gateway");
        assert_eq!(by_status(200, None, ""), None);
    }

    #[test]
    fn a_onesignal_200_with_errors_is_a_failure() {
        assert_eq!(onesignal_outcome(&json!({ "id": "abc" })), Outcome::Sent(Some("abc".into())));
        assert_eq!(onesignal_outcome(&json!({ "id": "abc", "errors": [] })), Outcome::Sent(Some("abc".into())));
        assert!(matches!(
            onesignal_outcome(&json!({ "id": "", "errors": ["All included players are not subscribed"] })),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            onesignal_outcome(&json!({ "id": "x", "errors": { "invalid_aliases": {} } })),
            Outcome::Failed(_)
        ));
    }

    #[test]
    fn mobizon_code_zero_is_success() {
        assert_eq!(
            mobizon_outcome(&json!({ "code": 0, "data": { "messageId": "77" } })),
            Outcome::Sent(Some("77".into()))
        );
        assert!(matches!(mobizon_outcome(&json!({ "code": 1, "message": "bad recipient" })), Outcome::Failed(_)));
        assert!(matches!(mobizon_outcome(&json!({ "data": {} })), Outcome::InDoubt(_)), "taken or not?");
    }
}
