# Reference documentation (issue 14), included by the Makefile after
# mk/install.mk (it uses VF_VERSION).
#
#   make docs   build/docs/index.html, linking
#               build/docs/c/       the C header, include/voucherify.h, by
#                                   Doxygen (docs/Doxyfile): any warning,
#                                   such as an undocumented function,
#                                   parameter, return value or status,
#                                   fails the build
#               build/docs/python/  the Python package by pdoc
#   make test-docs  make docs, and proves the gate: the same configuration
#               must fail on a copy of the header with one undocumented
#               parameter added
#
# doxygen comes from apt when missing, pdoc from PyPI into build/docs-venv.

VF_DOCS      := $(CURDIR)/build/docs
VF_DOCS_VENV := $(CURDIR)/build/docs-venv

.PHONY: docs docs-c docs-python test-docs docs-tools

docs-tools:
	@command -v doxygen >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends doxygen; }

$(VF_DOCS_VENV)/.ready:
	rm -rf $(VF_DOCS_VENV)
	$(PYTHON) -m venv $(VF_DOCS_VENV)
	$(VF_DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check pdoc
	touch $@

# doxygen HEADER OUTPUT_DIR: docs/Doxyfile with the input and output set.
vf_doxygen = { cat docs/Doxyfile; echo "PROJECT_NUMBER = $(VF_VERSION)"; \
  echo "INPUT = $(1)"; echo "OUTPUT_DIRECTORY = $(2)"; } | doxygen -

docs-c: docs-tools
	rm -rf $(VF_DOCS)/c
	mkdir -p $(VF_DOCS)/c
	$(call vf_doxygen,include/voucherify.h,$(VF_DOCS)/c)

# pdoc imports the package, which loads the library: the one built here.
docs-python: build $(VF_DOCS_VENV)/.ready
	rm -rf $(VF_DOCS)/python
	PYTHONPATH=$(CURDIR)/bindings/python $(VF_DOCS_VENV)/bin/pdoc --docformat restructuredtext \
	  --output-directory $(VF_DOCS)/python libvoucherify

docs: docs-c docs-python
	@printf '%s\n' '<!doctype html><meta charset="utf-8"><title>libvoucherify $(VF_VERSION)</title>' \
	  '<h1>libvoucherify $(VF_VERSION)</h1>' \
	  '<ul><li><a href="c/voucherify_8h.html">C API</a> (include/voucherify.h)</li>' \
	  '<li><a href="python/libvoucherify.html">Python package</a> (libvoucherify)</li></ul>' > $(VF_DOCS)/index.html
	@for page in c/voucherify_8h.html python/libvoucherify.html; do \
	  [ -s $(VF_DOCS)/$$page ] || { echo "docs: $(VF_DOCS)/$$page was not written" >&2; exit 1; }; done
	@echo "docs: open $(VF_DOCS)/index.html"

# The gate must bite: one undocumented parameter in a copy of the header.
test-docs: docs
	rm -rf build/docs-gate
	mkdir -p build/docs-gate
	sed 's|^const char \*vf_version(void);|&\n/** Documented, but not its parameter. */\nint vf_docs_gate(int undocumented);|' \
	  include/voucherify.h > build/docs-gate/voucherify.h
	grep -q vf_docs_gate build/docs-gate/voucherify.h
	@if $(call vf_doxygen,build/docs-gate/voucherify.h,build/docs-gate/out) >build/docs-gate/log 2>&1; then \
	  echo "test-docs: doxygen accepted an undocumented parameter" >&2; exit 1; fi
	@grep -q "vf_docs_gate" build/docs-gate/log || { cat build/docs-gate/log >&2; echo "test-docs: doxygen failed for another reason" >&2; exit 1; }
	@echo "test-docs: the reference is complete, and an undocumented parameter fails it"
