# The installable Python package (issue 5), included by the Makefile.
#
#   make test-python-package  pip install bindings/python into a fresh venv
#                  (build/python/venv), make install into a staging DESTDIR
#                  (build/pystage, PREFIX=/usr), then run the package's sample
#                  and `python -m libvoucherify` from outside the checkout
#                  against the stand-in; also install-python/uninstall-python
#                  into the same staging root
#   make install-python   [PREFIX=/usr/local] [DESTDIR=]  pip install of the
#                  binding under $(DESTDIR)$(PREFIX)/lib/pythonX.Y/site-packages
#   make uninstall-python (same variables: removes exactly what it installed)
#
# pip builds the package with setuptools in an isolated environment: the
# first build fetches setuptools from PyPI (or PIP_FIND_LINKS).
# PREFIX and DESTDIR default as in mk/install.mk (included before this file).

VFPY_SRC_DIR := bindings/python
VFPY_WORK    := $(CURDIR)/build/python
VFPY_VENV    := $(VFPY_WORK)/venv
VFPY_STAGE   := $(CURDIR)/build/pystage
# A copy of the package's sources: setuptools writes build/ and *.egg-info
# next to pyproject.toml, which must not litter the checkout.
VFPY_BUILD_SRC := $(VFPY_WORK)/src
VFPY_PIP_FLAGS ?= --quiet --no-deps --disable-pip-version-check

.PHONY: test-python-package install-python uninstall-python vfpy-src

vfpy-src:
	rm -rf $(VFPY_BUILD_SRC)
	mkdir -p $(VFPY_BUILD_SRC)
	cp -R $(VFPY_SRC_DIR)/pyproject.toml $(VFPY_SRC_DIR)/README.md $(VFPY_SRC_DIR)/libvoucherify $(VFPY_BUILD_SRC)/
	find $(VFPY_BUILD_SRC) -name __pycache__ -prune -exec rm -rf {} +

# --ignore-installed: a libvoucherify in the running Python's own
# environment is neither looked at nor uninstalled. PIP_ROOT_USER_ACTION
# (an environment variable, which older pips ignore): `make install` runs as root.
install-python: vfpy-src
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install $(VFPY_PIP_FLAGS) --ignore-installed --no-warn-script-location \
	  --prefix=$(PREFIX) $(if $(DESTDIR),--root=$(DESTDIR)) $(VFPY_BUILD_SRC)

uninstall-python:
	$(PYTHON) $(VFPY_SRC_DIR)/tools/uninstall_record.py $(DESTDIR)$(PREFIX) libvoucherify

test-python-package:
	$(CARGO) build -p vf-standin
	rm -rf $(VFPY_WORK) $(VFPY_STAGE)
	$(PYTHON) -m venv $(VFPY_VENV)
	$(MAKE) --no-print-directory vfpy-src
	$(VFPY_VENV)/bin/python -m pip install $(VFPY_PIP_FLAGS) $(VFPY_BUILD_SRC)
	$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(VFPY_STAGE)
	$(MAKE) --no-print-directory install-python PREFIX=/usr DESTDIR=$(VFPY_STAGE)
	VFPY_VENV=$(VFPY_VENV) VFPY_STAGE=$(VFPY_STAGE) VFPY_PREFIX=/usr VFPY_LIBDIR=/usr/lib \
	  VF_VERSION=$(VF_VERSION) VF_SONAME=$(VF_SONAME) PYTHON=$(PYTHON) \
	  VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin bindings/python/tests/installed.sh
	$(MAKE) --no-print-directory uninstall-python PREFIX=/usr DESTDIR=$(VFPY_STAGE)
	@left=$$(find $(VFPY_STAGE)/usr -path '*/python3*' -not -type d); \
	  if [ -n "$$left" ]; then echo "make uninstall-python left files behind:" >&2; echo "$$left" >&2; exit 1; fi
	@echo "test-python-package: the pip-installed and the make-installed package work"
