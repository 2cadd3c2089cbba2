//! The sender: claims due deliveries, holds those in quiet hours, sends the rest through their
//! channel's provider, and logs every attempt. Failures that may pass are retried with back-off
//! and jitter (never sooner than `Retry-After`); after `max_attempts`, or on a refusal, the
//! delivery is a dead letter until an admin requeues it.
//!
//! Sending twice is avoided by construction: one delivery row per (notification, channel)
//! with its own idempotency key (OneSignal's `idempotency_key`, the e-mail's Message-ID); a
//! delivery is sent only by the sender holding its lease, and retried only after a failure.
//! Each attempt is logged as `sending` before the provider is called, so one cut off by a crash
//! is found unfinished when its lease runs out: in doubt. Push, in-app and e-mail are sent again
//! with the same keys; an SMS is not (Mobizon takes no key) and waits as a dead letter for an
//! admin, as does one whose call got no answer (docs/decisions/0010-delivery-in-doubt.md).

pub mod providers;

use crate::domain::quiet::{DEFAULT_TIME_ZONE, QuietHours, time_zone};
use crate::domain::retry::RetryPolicy;
use crate::domain::templates::{self, Lang};
use crate::domain::{Channel, Kind};
use crate::metrics::DeliveryMetrics;
use crate::store::deliveries::{self, Claimed, Finish};
use crate::store::{notifications, push_tokens};
use crate::unsubscribe::Unsubscribe;
use chrono::{DateTime, Utc};
use platform::db::PgPool;
use providers::{Outcome, Providers, message_id};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

pub struct Sender {
    pub db: PgPool,
    pub providers: Providers,
    pub policy: RetryPolicy,
    pub lease: Duration,
    /// Deliveries in flight at most.
    pub concurrency: usize,
    pub poll: Duration,
    pub wake: Arc<Notify>,
    pub metrics: DeliveryMetrics,
    pub unsubscribe: Unsubscribe,
}

/// When the quiet hours that hold `now` end for this delivery's user, if they do.
fn quiet_until(delivery: &Claimed, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let quiet = QuietHours { start: delivery.quiet_start? as u16, end: delivery.quiet_end? as u16 };
    let zone = time_zone(delivery.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE))
        .or_else(|_| time_zone(DEFAULT_TIME_ZONE))
        .ok()?;
    quiet.release_at(zone, now)
}

fn email_of(delivery: &Claimed) -> Option<&str> {
    delivery.destination.as_deref().or(delivery.email.as_deref())
}

fn phone_of(delivery: &Claimed) -> Option<&str> {
    delivery.destination.as_deref().or(delivery.phone.as_deref())
}

/// What an attempt asks of which provider, logged before the call: what an admin looks up at
/// the provider when the attempt is in doubt.
pub fn request(delivery: &Claimed, channel: Channel) -> String {
    let key = delivery.idempotency_key;
    match channel {
        Channel::Push => format!("OneSignal create notification, idempotency_key {key}"),
        Channel::Sms => format!("Mobizon sendsmsmessage to {}", phone_of(delivery).unwrap_or("(no phone)")),
        Channel::Email => {
            format!("SMTP to {}, Message-ID {}", email_of(delivery).unwrap_or("(no address)"), message_id(key))
        }
        Channel::InApp => format!("NATS rt.user.{}", delivery.user_id),
    }
}

/// Why an SMS that may have gone is not sent again.
fn sms_in_doubt(what: &str) -> String {
    format!(
        "in doubt: {what}; Mobizon may have sent it and takes no idempotency key, so it is not sent \
         again by itself: requeue it only if Mobizon's message log does not show it"
    )
}

/// No address on this channel: skipped if auth told us of the user (who has none), else
/// retried, as the address may be on its way (`user.registered` can come before the code).
fn no_address(delivery: &Claimed, what: &str) -> Outcome {
    if delivery.known_contact {
        Outcome::Skipped(format!("the user has no {what}"))
    } else {
        Outcome::Retry { error: format!("no {what} known yet"), retry_after: None }
    }
}

impl Sender {
    /// Runs until `stop`; deliveries in flight are finished first (up to 10 s).
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let refill = (self.concurrency / 2).max(1) as u32;
        while !stop.is_cancelled() {
            let free = slots.available_permits();
            if free < refill as usize {
                // Busy: wait until half the slots are free, so that claims come in batches.
                tokio::select! {
                    permits = slots.acquire_many(refill) => drop(permits),
                    _ = stop.cancelled() => break,
                }
                continue;
            }
            let claimed = match self.claim(free).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "cannot claim deliveries");
                    Vec::new()
                }
            };
            let busy = claimed.len() == free;
            for delivery in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let sender = self.clone();
                tokio::spawn(async move {
                    sender.deliver(delivery).await;
                    drop(slot);
                });
            }
            if !busy {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = stop.cancelled() => break,
                }
            }
        }
        let all = self.concurrency as u32;
        let _ = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
    }

    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<Claimed>> {
        let mut conn = self.db.get().await?;
        Ok(deliveries::claim(&mut conn, limit as i64, self.lease.as_secs_f64()).await?)
    }

    /// Sends one claimed delivery (or holds it, or parks it in doubt) and records how it went.
    pub async fn deliver(&self, delivery: Claimed) {
        let Some(channel) = Channel::parse(&delivery.channel) else { return };
        let kind = Kind::parse(&delivery.kind).unwrap_or(Kind::Other);
        let now = Utc::now();
        if let Some(since) = delivery.unfinished_since
            && !channel.resent_when_in_doubt()
        {
            let what = format!("the sender stopped after asking Mobizon at {since} and before recording its answer");
            return self.park_in_doubt(&delivery, &sms_in_doubt(&what)).await;
        }
        if channel.is_external()
            && !delivery.security
            && let Some(until) = quiet_until(&delivery, now)
        {
            return self.hold(&delivery, until).await;
        }
        match self.begin_attempt(&delivery, channel).await {
            Ok(true) => {}
            Ok(false) => return tracing::warn!(delivery = delivery.id, "lease lost before sending"),
            // Not sent; the lease runs out and the delivery is claimed again.
            Err(error) => {
                return tracing::error!(delivery = delivery.id, error = %format!("{error:#}"), "cannot log an attempt");
            }
        }
        let started = Instant::now();
        let outcome = match self.send(&delivery, channel, kind).await {
            Outcome::InDoubt(error) if channel.resent_when_in_doubt() => Outcome::Retry { error, retry_after: None },
            outcome => outcome,
        };
        let latency = started.elapsed();
        self.metrics.latency.with_label_values(&[channel.as_str()]).observe(latency.as_secs_f64());
        let (finish, counted) = match outcome {
            Outcome::Sent(provider_id) => (Finish::Sent { provider_id }, "sent"),
            Outcome::Retry { error, retry_after } if delivery.attempts < self.policy.max_attempts => {
                let pause = self.policy.pause(delivery.attempts, retry_after, fastrand::f64());
                let at = now + chrono::Duration::from_std(pause).unwrap_or_default();
                (Finish::Retry { error, at }, "retried")
            }
            Outcome::Retry { error, .. } => (Finish::Dead { error, outcome: "retry" }, "failed"),
            Outcome::Failed(error) => (Finish::Dead { error, outcome: "failed" }, "failed"),
            Outcome::Skipped(error) => (Finish::Skipped { error }, "skipped"),
            Outcome::InDoubt(error) => (Finish::InDoubt { error: sms_in_doubt(&error) }, "in_doubt"),
        };
        if let Finish::Retry { error, .. } | Finish::Dead { error, .. } | Finish::InDoubt { error } = &finish {
            tracing::info!(
                delivery = delivery.id,
                channel = channel.as_str(),
                attempt = delivery.attempts,
                error,
                "delivery failed"
            );
        }
        let latency_ms = latency.as_millis().min(i32::MAX as u128) as i32;
        match self.record(&delivery, &finish, latency_ms).await {
            Ok(true) => self.metrics.count(channel.as_str(), counted),
            Ok(false) => tracing::warn!(delivery = delivery.id, "lease lost: another sender took the delivery over"),
            // The lease runs out and the attempt is found unfinished, in doubt; the provider id
            // logged here is what an admin needs then.
            Err(error) => tracing::error!(
                delivery = delivery.id,
                ?finish,
                error = %format!("{error:#}"),
                "cannot record a delivery"
            ),
        }
    }

    async fn begin_attempt(&self, delivery: &Claimed, channel: Channel) -> anyhow::Result<bool> {
        let mut conn = self.db.get().await?;
        Ok(deliveries::begin_attempt(&mut conn, delivery, &request(delivery, channel)).await?)
    }

    async fn park_in_doubt(&self, delivery: &Claimed, error: &str) {
        let parked = async {
            let mut conn = self.db.get().await?;
            anyhow::Ok(deliveries::park_in_doubt(&mut conn, delivery, error).await?)
        };
        match parked.await {
            Ok(true) => {
                tracing::warn!(delivery = delivery.id, channel = delivery.channel, error, "delivery in doubt");
                self.metrics.count(&delivery.channel, "in_doubt");
            }
            Ok(false) => tracing::warn!(delivery = delivery.id, "lease lost: another sender took the delivery over"),
            Err(error) => {
                tracing::warn!(delivery = delivery.id, error = %format!("{error:#}"), "cannot park a delivery")
            }
        }
    }

    async fn hold(&self, delivery: &Claimed, until: DateTime<Utc>) {
        let held = async {
            let mut conn = self.db.get().await?;
            deliveries::hold(&mut conn, delivery, until).await?;
            anyhow::Ok(())
        };
        match held.await {
            Ok(()) => self.metrics.count(&delivery.channel, "held"),
            Err(error) => {
                tracing::warn!(delivery = delivery.id, error = %format!("{error:#}"), "cannot hold a delivery")
            }
        }
    }

    async fn record(&self, delivery: &Claimed, finish: &Finish, latency_ms: i32) -> anyhow::Result<bool> {
        let mut conn = self.db.get().await?;
        let recorded = deliveries::finish(&mut conn, delivery, finish, latency_ms).await?;
        if recorded && delivery.security && matches!(finish, Finish::Sent { .. }) {
            notifications::forget_code(&mut conn, delivery.notification_id).await?;
        }
        Ok(recorded)
    }

    async fn send(&self, delivery: &Claimed, channel: Channel, kind: Kind) -> Outcome {
        let lang = Lang::of(delivery.locale.as_deref().unwrap_or("ru"));
        let message = templates::render(kind, &delivery.data, lang);
        match channel {
            Channel::InApp => {
                let payload = json!({
                    "type": "notification",
                    "notification": {
                        "id": delivery.notification_id,
                        "kind": delivery.kind,
                        "title": message.title,
                        "body": message.text,
                        "data": delivery.data,
                        "created_at": delivery.created_at,
                    },
                });
                self.providers.in_app(delivery.user_id, &payload).await
            }
            Channel::Email => {
                let Some(to) = email_of(delivery) else {
                    return no_address(delivery, "e-mail address");
                };
                let link = (!kind.is_transactional()).then(|| self.unsubscribe.link(delivery.user_id, kind));
                self.providers.email(delivery.idempotency_key, to, &message, link.as_deref()).await
            }
            Channel::Sms => {
                let Some(phone) = phone_of(delivery) else {
                    return no_address(delivery, "phone number");
                };
                self.providers.sms(phone, &message.text).await
            }
            Channel::Push => {
                let devices = match self.db.get().await {
                    Ok(mut conn) => push_tokens::of_user(&mut conn, delivery.user_id).await,
                    Err(error) => return Outcome::Retry { error: error.to_string(), retry_after: None },
                };
                let Ok(devices) = devices else {
                    return Outcome::Retry { error: "cannot read devices".into(), retry_after: None };
                };
                let data = json!({ "kind": delivery.kind, "notification_id": delivery.notification_id, "data": delivery.data });
                self.providers.push(delivery.idempotency_key, delivery.user_id, &devices, &message, &data).await
            }
        }
    }
}
