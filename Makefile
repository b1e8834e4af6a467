# libvoucherify: build, demo, test.
#   make demo   the story against the local stand-in (or the real API when
#               VOUCHERIFY_APP_ID and VOUCHERIFY_SECRET_KEY are set)
#   make test   every test: Rust, C under valgrind, Python, header checks
#   make header regenerate include/voucherify.h from the sources
#   make docs   the C and Python reference in build/docs (mk/docs.mk)
#   make wheel  the Python wheel with the library inside (mk/python.mk)

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
BUILD_DIR := target/debug
LIB     := $(BUILD_DIR)/libvoucherify.so

export LIBVOUCHERIFY_PATH := $(CURDIR)/$(LIB)
export VF_STANDIN_BIN     := $(CURDIR)/$(BUILD_DIR)/vf-standin

.PHONY: all build demo test test-rust test-c test-cli test-python test-fuzz fuzz mutants header tools cli-tools clean

all: build

build:
	$(CARGO) build --lib -p voucherify
	$(CARGO) build -p vf-standin
	$(CARGO) build -p voucherify-token
	@# The SONAME is libvoucherify.so.0: programs linked here look for that name.
	ln -sf libvoucherify.so $(BUILD_DIR)/libvoucherify.so.0

demo: build $(VENV)/.ready build/c/revoke_token build/c/lifecycle
	scripts/demo

# The C samples, linked against the library built here.
build/c/%: bindings/c/%.c include/voucherify.h build
	mkdir -p build/c
	$(CC) -std=c99 -Wall -Wextra -Werror=unused-result -O2 -Iinclude $< -o $@ -L$(BUILD_DIR) -lvoucherify -Wl,-rpath,$(CURDIR)/$(BUILD_DIR)

test: test-rust test-c test-python test-install test-cpp test-python-package bench-check abi-check test-fuzz test-deb test-docs
	@echo "make test: all suites passed"

# Unit and integration tests of the library and the stand-in, including the
# header freshness check (tests/header.rs) and the panic-boundary scan.
test-rust: cli-tools
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	$(CARGO) test --workspace
	@# A forced panic through the real exports (a feature of test builds only).
	$(CARGO) test --features test-panic --test ffi_panic

# voucherify-token end to end against the stand-in (also part of test-rust).
test-cli: cli-tools
	$(CARGO) test -p voucherify-token

test-c: build tools
	VF_SKIP_CARGO=1 tests/c/run.sh

test-python: build $(VENV)/.ready
	$(VENV)/bin/pytest -q -p no:cacheprovider bindings/python/tests

# Every fuzz target for FUZZ_SECONDS each (stable Rust, -s none); a long
# run on demand: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 10
test-fuzz fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

# Mutation testing (cargo-mutants) against the Rust tests; not part of
# `make test`: src/core has some 650 mutants, about two and a half hours on
# 2 cores at 4 jobs (the tests mostly wait on sockets, the builds share the
# cores). MUTANTS_FILES narrows it (make mutants MUTANTS_FILES=src/core/rate_limit.rs).
# A mutant whose tests run past MUTANTS_TIMEOUT seconds (the suite takes
# ~35 s) counts as caught by a timeout. Results: mutants.out/.
MUTANTS_FILES ?= src/core/*.rs
MUTANTS_JOBS ?= 4
MUTANTS_TIMEOUT ?= 120
MUTANTS_VERSION := 27.1.0
mutants:
	@$(CARGO) mutants --version 2>/dev/null | grep -qF $(MUTANTS_VERSION) || \
		$(CARGO) install --locked cargo-mutants --version $(MUTANTS_VERSION)
	$(CARGO) mutants $(foreach f,$(MUTANTS_FILES),--file '$(f)') --jobs $(MUTANTS_JOBS) \
		--timeout $(MUTANTS_TIMEOUT) --build-timeout 600 $(MUTANTS_ARGS)

header:
	@# Only the test that writes it: the others read the file meanwhile.
	VF_BLESS_HEADER=1 $(CARGO) test --test header committed_header_is_current

# What the C tests need on a fresh machine.
tools:
	@command -v valgrind >/dev/null && command -v gcc >/dev/null && command -v g++ >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind gcc g++; }

# The CLI's terminal test watches its progress bar in a tmux pane.
cli-tools:
	@command -v tmux >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux; }

# Installing, packaging and the consumers' tests (make install, test-install).
include mk/install.mk
# Benchmarks against libcurl, requests, urllib3, bare ureq and a raw socket.
include mk/bench.mk
# Debian packages and the ABI baseline; the Python wheel and sdist; the
# reference documentation.
include mk/deb.mk
include mk/python.mk
include mk/docs.mk

# Redone when the list changes, also in an existing venv.
$(VENV)/.ready: bindings/python/tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r bindings/python/tests/requirements.txt
	touch $@

clean:
	$(CARGO) clean
	rm -rf $(VENV) build
