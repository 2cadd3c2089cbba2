fn main() -> anyhow::Result<()> {
    platform::service::main(&media::SERVICE)
}
