fn main() -> anyhow::Result<()> {
    platform::service::main(&marketplace::SERVICE)
}
