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

/// The variables .env.example sets, in order (comments are not read).
pub fn env_example() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join(".env.example")).expect(".env.example");
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        .collect()
}

/// The string items of a YAML sequence.
pub fn strings(value: &Value) -> Vec<String> {
    value.as_sequence().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// deploy/docker/Dockerfile, read as instructions: continuation lines joined, comments dropped.
pub struct Dockerfile {
    pub text: String,
    /// (stage name, instruction, arguments) in order; the stage is its `AS` name.
    instructions: Vec<(String, String, String)>,
}

impl Dockerfile {
    pub fn read() -> Self {
        let text = std::fs::read_to_string(root().join("deploy/docker/Dockerfile")).expect("deploy/docker/Dockerfile");
        let mut instructions = Vec::new();
        let (mut stage, mut current) = (String::new(), String::new());
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            current.push_str(line.trim_end_matches('\\'));
            current.push(' ');
            if line.ends_with('\\') {
                continue;
            }
            let joined = std::mem::take(&mut current);
            let Some((instruction, arguments)) = joined.trim().split_once(' ') else { continue };
            if instruction == "FROM" {
                stage = arguments.rsplit(' ').next().unwrap_or_default().to_owned();
            }
            instructions.push((stage.clone(), instruction.to_owned(), arguments.trim().to_owned()));
        }
        Self { text, instructions }
    }

    /// The value of an `ARG` with a default.
    pub fn arg(&self, name: &str) -> Option<String> {
        self.instructions
            .iter()
            .filter(|(_, i, _)| i == "ARG")
            .find_map(|(_, _, arguments)| arguments.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
    }

    /// The environment the runtime stage (the last one) sets with `ENV`.
    pub fn runtime_env(&self) -> Vec<(String, String)> {
        let last = self.runtime_stage();
        self.instructions
            .iter()
            .filter(|(stage, instruction, _)| *stage == last && instruction == "ENV")
            .flat_map(|(_, _, arguments)| arguments.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter_map(|pair| pair.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect()
    }

    /// The Debian packages each stage installs with `apt-get install`: (stage, packages).
    pub fn apt_packages(&self) -> Vec<(String, Vec<String>)> {
        self.instructions
            .iter()
            .filter(|(_, instruction, _)| instruction == "RUN")
            .filter_map(|(stage, _, command)| {
                let install = command.split("apt-get install").nth(1)?.split("&&").next()?;
                let packages = install.split_whitespace().filter(|w| !w.starts_with('-')).map(str::to_owned).collect();
                Some((stage.clone(), packages))
            })
            .collect()
    }

    /// The name of the last stage (the image).
    pub fn runtime_stage(&self) -> String {
        self.instructions.last().map(|(stage, _, _)| stage.clone()).unwrap_or_default()
    }
}
