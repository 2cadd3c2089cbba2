//! The services `mebelplace` runs: the catalogue's entries whose crate is in this workspace.

use contracts::services::CATALOGUE;
pub use contracts::services::ServiceSpec as Service;

/// Whether the service's crate is part of this checkout (`services/<name>`).
fn built_here(service: &Service) -> bool {
    crate::up::workspace_root().join("services").join(service.name).join("Cargo.toml").exists()
}

/// Every service of this checkout, in start-up order (the gateway last).
pub fn all() -> Vec<&'static Service> {
    CATALOGUE.iter().filter(|s| built_here(s)).collect()
}

pub fn select(names: &[String]) -> anyhow::Result<Vec<&'static Service>> {
    let known = all();
    if names.is_empty() {
        return Ok(known);
    }
    names
        .iter()
        .map(|name| {
            known.iter().copied().find(|s| s.name == name).ok_or_else(|| {
                let names: Vec<&str> = known.iter().map(|s| s.name).collect();
                anyhow::anyhow!("unknown service {name:?}; known: {}", names.join(", "))
            })
        })
        .collect()
}
