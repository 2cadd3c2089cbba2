//! Reading the deployment files and finding the deployment tools.

use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A YAML file of the repository with its merge keys (`<<: *anchor`) applied.
pub fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    value.apply_merge().unwrap_or_else(|e| panic!("{path}: {e}"));
    value
}

/// The folder of the tools `scripts/deploy-tools` installs (installing them when missing).
pub fn tools_bin() -> PathBuf {
    let output = Command::new(root().join("scripts/deploy-tools")).output().expect("scripts/deploy-tools runs");
    assert!(output.status.success(), "deploy-tools: {}", String::from_utf8_lossy(&output.stderr));
    let line = String::from_utf8_lossy(&output.stdout).into_owned();
    let first = line.split('"').nth(1).and_then(|path| path.split(':').next()).expect("an export PATH line");
    PathBuf::from(first)
}

/// The string items of a YAML sequence.
pub fn strings(value: &Value) -> Vec<String> {
    value.as_sequence().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}
