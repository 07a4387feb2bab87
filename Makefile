# Stowage: `make run` serves, `make test` runs the whole suite.
# Both install the Debian packages they need when missing (root or sudo).

PORT ?= 8080
STOWAGE_DATA ?= $(CURDIR)/var
EXTRA_CONF ?=
export PORT STOWAGE_DATA EXTRA_CONF

CARGO ?= cargo
LIB := target/release/libstowage.so
SHIM := build/mod_stowage.so

.PHONY: all deps lib shim hooks run test test-lint test-unit test-abi test-e2e test-diff test-fuzz diff bench soak cluster cluster-test clean

all: lib shim

deps:
	@scripts/deps.sh

lib:
	$(CARGO) build --release

shim: lib
	@scripts/build-shim.sh

# The library's test-hooks variant and its shim (tests only, never served).
hooks: lib
	@scripts/build-test-hooks.sh

run: deps all
	@scripts/run.sh

# The whole suite: deps, all, the stages below, stages that do not need
# each other side by side (scripts/test-suite.sh; logs in build/test-logs/).
test:
	@scripts/test-suite.sh

# The tree's shape: formatting, clippy's lints, imports only downward
# through src/'s layers with no circle (docs/architecture.md).
test-lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	python3 scripts/check-layers.py

test-unit:
	$(CARGO) test --release

test-abi: lib hooks
	@tests/abi/run.sh

# E2E_WORKERS parallel workers (default 2 per CPU), then the `serial` tests.
test-e2e: all hooks
	@tests/e2e/run.sh

# The differential harness, bounded set: the same generated requests against a
# real one-node Swift 2.38.3 (installed into build/swift-venv when missing)
# and against Stowage, then the same `swift` CLI commands (tests/diff/cli.py);
# a difference not in tests/diff/KNOWN_DIFFERENCES fails.
test-diff: all
	@tests/diff/run.sh

# Swift's on-disk format (src/store/swift_disk) against Swift's own DiskFile,
# swift-object-info and auditor (Swift installed into build/swift-venv when missing).
.PHONY: test-interop
test-interop:
	@tests/interop/run.sh

# cargo-fuzz targets, FUZZ_SECONDS (30) CPU seconds each, FUZZ_JOBS at a
# time (the CPU count); installs cargo-fuzz when missing.
test-fuzz:
	@tests/fuzz/run.sh

bench: deps all
	@bench/run.sh

# The differential harness at length (minutes; DIFF_PER_FAMILY=25 sequences
# per family, then the `swift` CLI step): not part of `make test`.
DIFF_PER_FAMILY ?= 25
diff: deps all
	@nice -n 10 tests/diff/run.sh --per-family $(DIFF_PER_FAMILY) --report build/diff/report-long.tsv

# A load (minutes; REQUESTS=500000 by default): niced, and not part of `make test`.
soak: deps all
	@nice -n 10 bench/soak.sh

# A three-node Swift cluster on loopback in the foreground (docs/cluster.md):
# proxy on 127.0.0.1:$(PORT), data in CLUSTER_DATA (var/cluster),
# OBJECT_SERVER=stowage (default) | swift. Ctrl-C stops it.
cluster: deps all
	@scripts/cluster/run.sh

# The cluster on free ports: client checks, node failure and wiped-device
# heal by one replication pass (about 2 minutes; not part of `make test`).
cluster-test: deps all
	@nice -n 10 tests/cluster/run.sh

clean:
	$(CARGO) clean
	rm -rf build
