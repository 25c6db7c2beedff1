# contact-ledger: a thin front end over cargo. `make run` and `make test` are all a new machine needs.

CARGO ?= cargo
DATA ?= data
DEMO_CUSTOMERS ?= 2000
# The demo's master key (wraps the customers' data keys): made on first run, kept beside the
# data directory, never inside it. A real deployment passes its own with --master-key-file or
# LEDGER_MASTER_KEY from its secret store.
MASTER_KEY_FILE ?= .ledger-master-key
# Where cargo puts its builds (CARGO_TARGET_DIR when set).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
DEBUG_BIN := $(TARGET_DIR)/debug/contact-ledger
RELEASE_BIN := $(TARGET_DIR)/release/contact-ledger
BIN := $(RELEASE_BIN)
# Generated test cases per GraphQL operation: a short pass in `make test`, a long one in
# `make fuzz` (which also stops after FUZZ_SECONDS).
FUZZ_API_EXAMPLES ?= 10
FUZZ_SECONDS ?= 60
FUZZ_API_EXAMPLES_LONG ?= 1000

.PHONY: build run test test-tools lint fmt schema fixture bench bench-quick bench-micro soak fuzz clean

build:
	$(CARGO) build --release --locked --bin contact-ledger

run: build
	@if [ ! -s "$(MASTER_KEY_FILE)" ]; then \
		echo "First run: writing a new master key into $(MASTER_KEY_FILE)"; \
		(umask 077 && $(BIN) master-key new > "$(MASTER_KEY_FILE)"); \
	fi
	@if [ ! -d "$(DATA)" ] || [ -z "$$(ls -A "$(DATA)" 2>/dev/null)" ]; then \
		echo "First run: writing a demo ledger of $(DEMO_CUSTOMERS) customers into $(DATA)/"; \
		$(BIN) seed --data "$(DATA)" --master-key-file "$(MASTER_KEY_FILE)" --customers $(DEMO_CUSTOMERS); \
	fi
	$(BIN) serve --data "$(DATA)" --master-key-file "$(MASTER_KEY_FILE)" --show-tokens

# The whole suite: formatting, lints, then every test (unit, property, crash, reliability,
# fuzz corpus, end to end), then a short schemathesis pass over the GraphQL API.
test: lint test-tools
	$(CARGO) build --locked --bin contact-ledger
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi
	tools/fuzz_api.sh "$(DEBUG_BIN)" $(FUZZ_API_EXAMPLES)

# Python tools: `cryptography` for the proof verifier, schemathesis for the API fuzz run.
test-tools:
	@python3 -c 'import cryptography' 2>/dev/null && command -v schemathesis >/dev/null 2>&1 \
		|| python3 -m pip install -q -r tools/requirements.txt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

fmt:
	$(CARGO) fmt --all

# Regenerate the committed artefacts (event JSON Schemas, GraphQL SDL, the sample fixture);
# the tests fail when these drift from the code.
schema:
	UPDATE_SCHEMAS=1 $(CARGO) test --workspace --locked -- schema
	UPDATE_FIXTURES=1 $(CARGO) test --workspace --locked -- fixture

# The long reliability runs, in release mode: the store's crash test with 1,000 kill -9 cycles
# instead of 50, 3,000 corruption iterations instead of 150, 100 power-cut rounds instead of 3,
# and the server's kill -9 loop with 1,000 cycles instead of 20 (64 clients; it prints
# "N cycles, A acknowledged, 0 lost").
SOAK_CYCLES ?= 1000
CORRUPTION_ITERATIONS ?= 3000
POWER_CUT_ROUNDS ?= 100
SERVER_KILL_CYCLES ?= 1000
soak: build
	SOAK_CYCLES=$(SOAK_CYCLES) $(CARGO) test --release --locked -p ledger-store --test crash -- --nocapture
	CORRUPTION_ITERATIONS=$(CORRUPTION_ITERATIONS) $(CARGO) test --release --locked -p ledger-store --test corruption -- --nocapture
	POWER_CUT_ROUNDS=$(POWER_CUT_ROUNDS) $(CARGO) test --release --locked -p ledger-store --test power_cut -- --nocapture
	SERVER_KILL_CYCLES=$(SERVER_KILL_CYCLES) $(CARGO) test --release --locked -p ledger-tests --test end_to_end -- --nocapture kill_loop

# The fuzzers for longer: each cargo fuzz target for FUZZ_SECONDS (release), then schemathesis
# over the API for up to FUZZ_SECONDS more. `make fuzz FUZZ_SECONDS=600` for a long run.
fuzz: build
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(CARGO) test --release --locked -p ledger-fuzz --test fuzz -- --nocapture
	tools/fuzz_api.sh "$(RELEASE_BIN)" $(FUZZ_API_EXAMPLES_LONG) $(FUZZ_SECONDS)

# Issue 8's figures beside PostgreSQL (crates/ledger-bench, tools/bench/run.sh), release build:
# starts a throw-away PostgreSQL when none answers, prints the table, writes BENCHMARKS.md.
# The 1 M-event ledger it reads is built once under the target dir and reused.
bench:
	$(CARGO) build --release --locked --bin contact-ledger --bin ledger-bench
	tools/bench/run.sh full

# The same suite on a small ledger, in under two minutes; the report goes under the target dir.
bench-quick:
	$(CARGO) build --release --locked --bin contact-ledger --bin ledger-bench
	tools/bench/run.sh quick

# Criterion micro-benchmarks of the codec, record hashing and identifier validation.
bench-micro:
	$(CARGO) bench --locked -p ledger-bench --bench hot_paths

clean:
	$(CARGO) clean
