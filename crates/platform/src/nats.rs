//! NATS client: connects in the background and keeps reconnecting, so a service starts (and
//! reports not ready) while NATS is down instead of failing to boot.

use crate::config::NatsSettings;

pub async fn connect(settings: &NatsSettings, service: &str) -> anyhow::Result<async_nats::Client> {
    Ok(async_nats::ConnectOptions::new()
        .name(service)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(&settings.url)
        .await?)
}

pub fn is_connected(client: &async_nats::Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}

/// Serves NATS request/reply on `subject` (prefixed) in queue group `queue`, so replicas share
/// the load; `handler` turns a request body into a reply body. Stops at `shutdown`.
pub async fn serve_requests<F, Fut>(
    client: async_nats::Client,
    settings: NatsSettings,
    subject: &str,
    queue: &str,
    handler: F,
    shutdown: tokio_util::sync::CancellationToken,
) where
    F: Fn(bytes::Bytes) -> Fut,
    Fut: Future<Output = bytes::Bytes>,
{
    use futures_util::StreamExt;
    let subject = settings.subject(subject);
    let mut backoff =
        crate::outbox::Backoff::new(std::time::Duration::from_millis(200), std::time::Duration::from_secs(10));
    let mut requests = loop {
        match client.queue_subscribe(subject.clone(), queue.to_owned()).await {
            Ok(subscription) => break subscription,
            Err(error) => {
                tracing::warn!(%error, %subject, "cannot subscribe yet");
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_pause()) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    };
    loop {
        let request = tokio::select! {
            request = requests.next() => request,
            _ = shutdown.cancelled() => break,
        };
        let Some(request) = request else { break };
        let Some(reply_to) = request.reply else { continue };
        let reply = handler(request.payload).await;
        if let Err(error) = client.publish(reply_to, reply).await {
            tracing::warn!(%error, %subject, "cannot send a reply");
        }
    }
    let _ = requests.unsubscribe().await;
}
