//! E-mail over TLS to a real TLS-speaking SMTP server on loopback: STARTTLS (587's way) and TLS
//! from the first byte (465's), trusting the relay's own certificate given as the CA file and
//! logging in; a certificate the system does not trust stops the mail, which is retried and
//! logged as a failure, never reported as sent. Plain SMTP is as it was.

use crate::helpers::*;
use contracts::events::{self, NotificationRequested};
use notification::config::SmtpTls;
use secrecy::SecretString;
use std::time::Duration;
use testkit::eventually;
use testkit::smtp::{ReceivedMail, Security, SinkOptions};
use testkit::tls::SelfSigned;

/// An e-mail (only) for `user` at `address`.
async fn ask_for_an_email(world: &World, user: i64, address: &str) {
    world.contact(user, Some(address), None).await;
    let asked = NotificationRequested {
        user_id: user,
        kind: "reminder".into(),
        title: "Напоминание".into(),
        body: "Замер кухни в пятницу".into(),
        channels: vec![events::Channel::Email as i32],
        ..Default::default()
    };
    world.publish(asked).await;
}

/// The one mail `address` got, once its delivery is reported sent.
async fn the_mail_sent_to(world: &World, address: &str) -> ReceivedMail {
    world.settled(1).await;
    assert_eq!(world.statuses().await, [("sent".to_owned(), 1)]);
    let mut mails = world.mails_to(address);
    assert_eq!(mails.len(), 1);
    mails.remove(0)
}

fn trusting(certificate: &SelfSigned) -> Option<String> {
    Some(certificate.pem_file().to_string_lossy().into_owned())
}

#[tokio::test]
async fn mail_goes_over_starttls_to_a_relay_whose_ca_file_is_given_and_logs_in() {
    let certificate = SelfSigned::generate();
    let sink = SinkOptions {
        security: Security::StartTls(certificate.acceptor()),
        login: Some(("relay".into(), "s3cret".into())),
    };
    let world = World::with_smtp(sink, |s| {
        s.smtp.host = "localhost".into();
        s.smtp.tls = SmtpTls::Starttls;
        s.smtp.ca_file = trusting(&certificate);
        s.smtp.username = "relay".into();
        s.smtp.password = SecretString::from("s3cret");
    })
    .await;
    ask_for_an_email(&world, 7, "dana@mebelplace.kz").await;
    let mail = the_mail_sent_to(&world, "dana@mebelplace.kz").await;
    assert!(mail.tls, "upgraded before the mail");
    assert_eq!(mail.login.as_deref(), Some("relay"));
    assert!(mail.text().contains("Замер кухни"));
}

#[tokio::test]
async fn mail_goes_over_tls_from_the_first_byte_when_the_ca_file_is_given() {
    let certificate = SelfSigned::generate();
    let sink = SinkOptions { security: Security::Tls(certificate.acceptor()), login: None };
    let world = World::with_smtp(sink, |s| {
        s.smtp.tls = SmtpTls::Tls;
        s.smtp.ca_file = trusting(&certificate);
    })
    .await;
    ask_for_an_email(&world, 7, "dana@mebelplace.kz").await;
    let mail = the_mail_sent_to(&world, "dana@mebelplace.kz").await;
    assert_eq!((mail.tls, mail.login.as_deref()), (true, None));
}

#[tokio::test]
async fn a_certificate_the_system_does_not_trust_stops_the_mail_which_is_retried_and_never_reported_sent() {
    let certificate = SelfSigned::generate();
    let sink = SinkOptions { security: Security::StartTls(certificate.acceptor()), login: None };
    // No CA file: the system's roots, which do not vouch for the relay's certificate.
    let world = World::with_smtp(sink, |s| {
        s.smtp.tls = SmtpTls::Starttls;
        s.max_attempts = 3;
    })
    .await;
    ask_for_an_email(&world, 8, "timur@mebelplace.kz").await;
    world.settled(1).await;
    assert_eq!(world.statuses().await, [("dead".to_owned(), 1)]);
    assert_eq!(world.smtp.count(), 0, "nothing reached the relay, in the clear or otherwise");
    assert_eq!(world.smtp.failed_handshakes(), 3, "each attempt refused the certificate");

    let (status, log) = world.admin_get("/api/v2/notifications/admin/deliveries?user_id=8").await;
    assert_eq!(status, 200, "{log}");
    let history = log["items"][0]["history"].as_array().unwrap();
    let outcomes: Vec<&str> = history.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["retry", "retry", "retry"]);
    let error = history[0]["error"].as_str().unwrap();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(log["items"][0]["sent_at"], serde_json::Value::Null);
}

#[tokio::test]
async fn plain_smtp_is_as_it_was_and_a_ca_file_without_tls_is_refused_at_start() {
    let world = World::start().await;
    ask_for_an_email(&world, 9, "aruzhan@mebelplace.kz").await;
    eventually("the plain mail", Duration::from_secs(30), || async {
        world.mails_to("aruzhan@mebelplace.kz").len() == 1
    })
    .await;
    let mail = &world.mails_to("aruzhan@mebelplace.kz")[0];
    assert_eq!((mail.tls, mail.login.as_deref()), (false, None));

    let mut config = world.config.clone();
    config.notification.smtp.ca_file = Some("/etc/ssl/relay-ca.pem".into());
    let error = notification::build(config).await.err().expect("a CA file without TLS is a mistake");
    assert!(format!("{error:#}").contains("SMTP_CA_FILE"), "{error:#}");
}
