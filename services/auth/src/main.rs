fn main() -> anyhow::Result<()> {
    platform::service::main(&auth::SERVICE)
}
