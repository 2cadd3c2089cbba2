use marketplace::config::{self, Config};
use platform::{app, db, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = platform::config::load(config::DEFAULTS, config::ENV_ALIASES)?;
    let _telemetry = telemetry::init(config::SERVICE, &config.platform.app, &config.platform.telemetry)?;
    if app::migrate_requested() {
        return Ok(db::migrate(&config.platform.database, &[marketplace::MIGRATIONS]).await?);
    }
    anyhow::ensure!(std::env::args().len() == 1, "usage: marketplace [migrate]");
    marketplace::build(config).await?.run_until_stopped().await
}
