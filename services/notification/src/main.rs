fn main() -> anyhow::Result<()> {
    platform::service::main(&notification::SERVICE)
}
