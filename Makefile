# contact-ledger: a thin front end over cargo. `make run` and `make test` are all a new machine needs.

CARGO ?= cargo
DATA ?= data
DEMO_CUSTOMERS ?= 2000
BIN := target/release/contact-ledger

.PHONY: build run test test-tools lint fmt schema fixture bench bench-quick bench-micro soak fuzz clean

build:
	$(CARGO) build --release --locked --bin contact-ledger

run: build
	@if [ ! -d "$(DATA)" ] || [ -z "$$(ls -A "$(DATA)" 2>/dev/null)" ]; then \
		echo "First run: writing a demo ledger of $(DEMO_CUSTOMERS) customers into $(DATA)/"; \
		$(BIN) seed --data "$(DATA)" --customers $(DEMO_CUSTOMERS); \
	fi
	$(BIN) serve --data "$(DATA)" --show-tokens

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
