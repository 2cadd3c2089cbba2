//! The marketplace service's configuration: the platform sections plus `marketplace`.

use serde::Deserialize;

pub const ENV_ALIASES: &[(&str, &str)] = &[("REQUEST_TTL_DAYS", "marketplace.request_ttl_days")];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: platform::Settings,
    pub marketplace: MarketplaceSettings,
}

impl platform::service::ServiceConfig for Config {
    fn platform(&self) -> &platform::Settings {
        &self.platform
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MarketplaceSettings {
    /// An open request expires this long after it was created (or reopened).
    pub request_ttl_days: i64,
    /// How often the expiry job looks for requests past their deadline.
    pub expiry_interval_secs: u64,
    /// A viewer counts as one view per this window.
    pub view_window_secs: u64,
}

impl Default for MarketplaceSettings {
    fn default() -> Self {
        Self { request_ttl_days: 30, expiry_interval_secs: 60, view_window_secs: 3600 }
    }
}
