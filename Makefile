# The two commands: `make run` (the whole system locally) and `make test` (everything, as CI).
CARGO ?= cargo
NEXTEST_PROFILE ?= default

.PHONY: run test bench lint infra migrate deploy-check supply-check

## Infrastructure on loopback: PostgreSQL, Redis, NATS (JetStream), Kafka-protocol broker.
infra:
	scripts/infra-up

## Build, migrate and start every service; Ctrl-C stops everything.
run: infra
	$(CARGO) run --quiet -p cli --bin mebelplace -- up

## Every unit and integration test against the real servers, after the deployment and
## supply-chain checks.
test: infra deploy-check supply-check
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	$(CARGO) nextest run --workspace --profile $(NEXTEST_PROFILE)

## Helm chart, Kubernetes manifests, compose file and Prometheus files checked with the real tools.
deploy-check:
	scripts/deploy-check

## Benchmarks; they print ratios measured side by side in one run.
bench: infra
	$(CARGO) run --quiet -p cli --bin mebelplace -- bench

## Formatting and clippy with warnings as errors.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Licences, bans and sources of every dependency (deny.toml) with cargo-deny.
supply-check:
	scripts/supply-check

## Run every service's migrations.
migrate: infra
	$(CARGO) run --quiet -p cli --bin mebelplace -- migrate
