use auth::config::{self, Config};
use platform::{app, db, telemetry};

const USAGE: &str = "usage: auth [migrate | create-admin <email-or-phone> <username>]
create-admin reads the password from MEBELPLACE_ADMIN_PASSWORD, or from the first line of stdin";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = platform::config::load(config::DEFAULTS, config::ENV_ALIASES)?;
    let _telemetry = telemetry::init(config::SERVICE, &config.platform.app, &config.platform.telemetry)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => auth::build(config).await?.run_until_stopped().await,
        _ if app::migrate_requested() => Ok(db::migrate(&config.platform.database, &[auth::MIGRATIONS]).await?),
        ["create-admin", email_or_phone, username] => {
            let password = match std::env::var("MEBELPLACE_ADMIN_PASSWORD") {
                Ok(password) => password,
                Err(_) => std::io::stdin().lines().next().transpose()?.unwrap_or_default(),
            };
            let admin = auth::create_admin(&config, email_or_phone, username, password).await?;
            println!("admin {} created with id {}", admin.username, admin.id);
            Ok(())
        }
        _ => anyhow::bail!("{USAGE}"),
    }
}
