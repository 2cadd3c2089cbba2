fn main() -> anyhow::Result<()> {
    platform::service::main(&chat::SERVICE)
}
