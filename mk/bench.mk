# make bench: see issue 6 and bench/run.py. Results go to bench/results/.
#   make bench        release builds, the stand-in, every row (~5-8 minutes)
#   make bench-check  instructions per C API revoke vs bench/baseline.json (>10% worse fails)
#   make bench-baseline  rewrite bench/baseline.json from this machine's build

BENCH_LIBDIR  := target/release
BENCH_LIB     := $(BENCH_LIBDIR)/libvoucherify.so
BENCH_BIN     := build/bench
BENCH_UREQ    := target/bench-ureq/release/ureq-bare
BENCH_CFLAGS  := -std=gnu11 -O2 -Wall -Wextra -Ibench

.PHONY: bench bench-check bench-baseline bench-release bench-tools bench-ureq

bench: bench-tools bench-release bench-ureq $(BENCH_BIN)/c_driver $(BENCH_BIN)/curl_driver \
       $(BENCH_BIN)/floor $(BENCH_BIN)/load_lib $(VENV)/.bench-ready
	$(VENV)/bin/python bench/run.py $(CURDIR)/$(BENCH_LIBDIR)/vf-standin

# Instruction counts are deterministic enough to gate on: no timing involved.
# Uses the release library (cargo rebuilds it only if the sources changed)
# and the debug stand-in from `make build`.
bench-check: tools build bench-release-lib $(BENCH_BIN)/c_driver
	python3 bench/check.py $(CURDIR)/target/debug/vf-standin

bench-baseline: tools build bench-release-lib $(BENCH_BIN)/c_driver
	BENCH_BLESS=1 python3 bench/check.py $(CURDIR)/target/debug/vf-standin

.PHONY: bench-release-lib
bench-release-lib:
	$(CARGO) build --release --lib -p voucherify
	ln -sf libvoucherify.so $(BENCH_LIBDIR)/libvoucherify.so.0

bench-release: bench-release-lib
	$(CARGO) build --release -p vf-standin

bench-ureq:
	$(CARGO) build --release --manifest-path bench/ureq_bare/Cargo.toml --target-dir target/bench-ureq

bench-tools: tools
	@command -v strace >/dev/null && command -v curl-config >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace libcurl4-openssl-dev; }

$(BENCH_BIN)/c_driver: bench/c_driver.c bench/common.h include/voucherify.h bench-release-lib
	mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -Iinclude $< -o $@ -L$(BENCH_LIBDIR) -lvoucherify -lpthread \
	  -Wl,-rpath,$(CURDIR)/$(BENCH_LIBDIR)

$(BENCH_BIN)/curl_driver: bench/curl_driver.c bench/common.h
	mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $$(curl-config --libs)

$(BENCH_BIN)/%: bench/%.c bench/common.h
	mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -ldl

$(VENV)/.bench-ready: $(VENV)/.ready
	$(VENV)/bin/pip install -q requests urllib3 matplotlib
	touch $@
