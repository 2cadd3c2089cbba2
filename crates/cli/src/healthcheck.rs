//! `mebelplace healthcheck`: the container's health probe. It asks the service in the same
//! container (`PORT`, default 8080) for `/ready` and fails unless the answer is 200 within
//! a few seconds.

use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

pub fn default_url() -> String {
    let port = std::env::var("PORT").ok().filter(|p| p.parse::<u16>().is_ok()).unwrap_or_else(|| "8080".to_owned());
    format!("http://127.0.0.1:{port}/ready")
}

pub async fn run(url: Option<String>) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(default_url);
    let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
    let response = client.get(&url).send().await.map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
    Ok(())
}
