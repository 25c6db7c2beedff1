# contact-ledger: a thin front end over cargo. `make run` and `make test` are all a new machine needs.

CARGO ?= cargo
DATA ?= data
DEMO_CUSTOMERS ?= 2000
BIN := target/release/contact-ledger
# The demo's master key (wraps the customers' data keys): made on first run, kept beside the
# data directory, never inside it. A real deployment passes its own with --master-key-file or
# LEDGER_MASTER_KEY from its secret store.
MASTER_KEY_FILE ?= .ledger-master-key

.PHONY: build run test test-tools lint fmt schema fixture bench soak fuzz clean

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

# The whole suite: formatting, lints, then every test (unit, property, crash, end to end).
test: lint test-tools
	$(CARGO) build --locked --bin contact-ledger
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi

# The independent proof verifier (tools/proof_verifier.py) needs Python's `cryptography`.
test-tools:
	@python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q -r tools/requirements.txt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# Regenerate the committed artefacts (event JSON Schemas, GraphQL SDL, the sample fixture);
# the tests fail when these drift from the code.
schema:
	UPDATE_SCHEMAS=1 $(CARGO) test --workspace --locked -- schema
	UPDATE_FIXTURES=1 $(CARGO) test --workspace --locked -- fixture

# The long crash test: 1,000 kill -9 cycles instead of the 50 `make test` runs.
soak:
	SOAK_CYCLES=1000 $(CARGO) test --release --locked -p ledger-store --test crash -- --nocapture

# Until the full harness (PostgreSQL side by side, BENCHMARKS.md) lands: the store's own
# throughput check and a seed + rebuild of a 20,000-customer book, all in release mode.
BENCH_DATA ?= target/bench-data
bench: build
	$(CARGO) run --release --locked -p ledger-store --example throughput
	rm -rf "$(BENCH_DATA)"
	LEDGER_MASTER_KEY=$$($(BIN) master-key new) && export LEDGER_MASTER_KEY && \
	$(BIN) seed --data "$(BENCH_DATA)" --customers 20000 && \
	$(BIN) replay --data "$(BENCH_DATA)"

clean:
	$(CARGO) clean
