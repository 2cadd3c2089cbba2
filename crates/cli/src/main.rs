//! `mebelplace`: the developer's and operator's command.
//!
//! - `mebelplace up`: infrastructure up, every service built, migrated, started and ready;
//!   Ctrl-C stops them all gracefully.
//! - `mebelplace migrate`: runs every service's migrations (what a Helm pre-upgrade Job does).
//! - `mebelplace create-admin EMAIL_OR_PHONE USERNAME`: the first admin account.
//! - `mebelplace bench`: the platform's benchmark, then every service's (`make bench`).
//! - `mebelplace programs`: the catalogue's programs this checkout builds (the image's list).
//! - `mebelplace healthcheck [URL]`: exits 0 when the local service is ready (the image's
//!   `HEALTHCHECK` and compose's healthchecks; the runtime image has no curl).

mod healthcheck;
mod services;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "mebelplace", version, about = "Run and operate the MebelPlace backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start infrastructure and every service locally; Ctrl-C stops everything.
    Up {
        /// Build and run optimised binaries.
        #[arg(long)]
        release: bool,
    },
    /// Run the migrations of every service's schema (or of the named ones).
    Migrate {
        /// Service names; all when none are given.
        services: Vec<String>,
    },
    /// Run the benchmarks of the platform and of every service (or of the named ones).
    Bench {
        /// Service names; all when none are given.
        services: Vec<String>,
    },
    /// Create an admin account; the password comes from MEBELPLACE_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        /// E-mail address or phone number.
        email_or_phone: String,
        username: String,
    },
    /// Print the programs of this checkout, one a line (what the image ships).
    Programs,
    /// Exit 0 when the service answers 200 at URL (default http://127.0.0.1:$PORT/ready).
    Healthcheck { url: Option<String> },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up { release } => up::run(release).await,
        Command::Migrate { services } => {
            let profile = up::Profile::from_env();
            up::build(profile)?;
            for service in services::select(&services)? {
                up::migrate(service, profile)?;
            }
            Ok(())
        }
        Command::Healthcheck { url } => healthcheck::run(url).await,
        Command::Programs => {
            services::all().iter().for_each(|service| println!("{}", service.name));
            Ok(())
        }
        Command::Bench { services } => up::bench(&services::select(&services)?, services.is_empty()),
        Command::CreateAdmin { email_or_phone, username } => {
            let profile = up::Profile::from_env();
            up::build(profile)?;
            let auth = services::select(&["auth".to_owned()])?[0];
            up::migrate(auth, profile)?;
            up::run_command(auth, profile, &["create-admin", &email_or_phone, &username])
        }
    }
}
