# spoor: `make run` starts the pipeline, `make test` runs every test (CI runs it too).
GO ?= go
# Fuzz budgets are execution counts (~10 s each here), not durations: a
# duration -fuzztime races Go 1.26's fuzz coordinator and fails spuriously
# with "context deadline exceeded" (golang/go#75804, fixed in Go 1.27).
FUZZ_EXECS ?= 150000x

.PHONY: run test vet fmt-check unit fuzz sdk compose analytics faults build bench cassandra cassandra-stop kafka kafka-stop s3 bots-corpus jsonschema-suite alerts

run:
	$(GO) run ./cmd/spoor run

# The binary as shipped (the Dockerfile builds it the same way): static, no
# symbol tables; about 4 MB less resident than a default build.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/spoor ./cmd/spoor

test: fmt-check vet compose alerts cassandra kafka s3 bots-corpus jsonschema-suite unit fuzz sdk analytics faults

# A real single-node Cassandra from Maven Central (safe to call twice; left
# running for the next `make test`; `make cassandra-stop` stops it).
cassandra:
	bash scripts/cassandra.sh start

cassandra-stop:
	bash scripts/cassandra.sh stop

# A real Apache Kafka broker (KRaft) from Maven Central, for the Kafka
# destination's tests; left running like Cassandra (`make kafka-stop`).
kafka:
	bash scripts/kafka.sh start

kafka-stop:
	bash scripts/kafka.sh stop

# A real S3-compatible server (versitygw, Apache-2.0) built from its Go
# module, for the Parquet destination's upload test (built once into .cache/bin).
VERSITYGW := $(CURDIR)/.cache/bin/versitygw
s3: $(VERSITYGW)
$(VERSITYGW):
	GOBIN=$(CURDIR)/.cache/bin $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

# The user agents the bot flag is judged by, from lists it was not built
# from (scripts/bots-corpus.sh; fetched once into .cache/bots-corpus).
bots-corpus:
	bash scripts/bots-corpus.sh

# The Prometheus alert rules, checked and unit-tested by the real promtool (deploy/prometheus).
alerts:
	bash scripts/alerts-test.sh

# The official JSON Schema Test Suite, for the plans' validator (plan/suite_test.go).
jsonschema-suite:
	bash scripts/jsonschema-suite.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run '^TestStreams' ./proxy

# Every parser's fuzz target, for a short fixed time each.
fuzz:
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzParseTuplets$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzParseJSONBody$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./links -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./segment -run '^$$' -fuzz '^FuzzSegmentMessage$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzPeekIDs$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzClientIndexOf$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./plan -run '^$$' -fuzz '^FuzzInstance$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./plan -run '^$$' -fuzz '^FuzzFast$$' -fuzztime $(FUZZ_EXECS) -timeout 5m
	$(GO) test ./plan -run '^$$' -fuzz '^FuzzPick$$' -fuzztime $(FUZZ_EXECS) -timeout 5m

# The browser SDK (sdk/js): build check, unit tests, and headless Chromium
# against the real binary (installs Debian's chromium when run as root).
sdk:
	bash scripts/sdk-test.sh

# docker-compose.yml checked by the real Docker Compose (`config`); its keys
# against the code by a Go test in internal/config.
compose:
	bash scripts/compose-check.sh

# spoor demo through the real collector into Cassandra and the file store;
# the PySpark job, the DuckDB answers and the notebook checked against the
# demo's truth (docs/analytics.md).
analytics: cassandra
	bash scripts/analytics-test.sh

# The fastest faults against a real cluster (3 NATS, 3 Cassandra, 2
# collectors, 2 sinks), each member in a network namespace of its own so that
# the two fastest network faults run too: every answered event stored exactly
# once. The whole matrices: bash scripts/faults/matrix.sh and
# scripts/faults/network.sh (results in docs/reliability.md).
faults:
	CLUSTER_NETNS=1 bash scripts/faults/run.sh sink-kill,collector-term,leader-stepdown,nats-partition,collector-nats-slow \
		-rate 250 -partition 30s -silence 15s

bench:
	bash scripts/bench/run.sh
