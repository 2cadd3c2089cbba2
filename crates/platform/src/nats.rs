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
