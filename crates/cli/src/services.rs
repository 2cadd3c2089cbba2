//! The services `mebelplace` knows how to run: binary, port, schema.

/// One deployable service.
#[derive(Debug)]
pub struct Service {
    pub name: &'static str,
    /// Cargo package and binary name.
    pub binary: &'static str,
    pub port: u16,
    /// Its PostgreSQL schema (`None` for the gateway, which has no database).
    pub schema: Option<&'static str>,
}

/// In start-up order: the gateway last, once its upstreams answer.
pub const SERVICES: &[Service] = &[
    Service { name: "auth", binary: "auth", port: 8081, schema: Some("auth") },
    Service { name: "marketplace", binary: "marketplace", port: 8083, schema: Some("marketplace") },
    Service { name: "gateway", binary: "gateway", port: 8080, schema: None },
];

pub fn select(names: &[String]) -> anyhow::Result<Vec<&'static Service>> {
    if names.is_empty() {
        return Ok(SERVICES.iter().collect());
    }
    names
        .iter()
        .map(|name| {
            SERVICES.iter().find(|s| s.name == name).ok_or_else(|| {
                let known: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
                anyhow::anyhow!("unknown service {name:?}; known: {}", known.join(", "))
            })
        })
        .collect()
}
