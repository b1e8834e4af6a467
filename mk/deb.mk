# The ABI baseline and the Debian packages (issue 5), included by the Makefile
# after mk/install.mk (it uses VF_VERSION, VF_SONAME, VF_REALNAME).
#
#   make abi-check     compare the C ABI of the library built here with the
#                      committed baseline packaging/abi/$(VF_SONAME).abi;
#                      fails on an incompatible change (packaging/abi/README.md)
#   make abi-baseline  regenerate that baseline, on purpose
#   make deb           libvoucherify0 and libvoucherify-dev in build/deb/,
#                      with dpkg-buildpackage and debhelper, then lintian
#   make test-deb      unpack both .debs into build/debroot and build and run
#                      the C sample against them (pkg-config), on the stand-in

VF_ABI_BASELINE := packaging/abi/$(VF_SONAME).abi
VF_ABI_OUT      := build/abi
# The Rust names of the header's enums (cbuild.toml renames them to
# vf_status and vf_tls_roots).
VF_ABI_ENUMS    := Status TlsRoots
VF_DEB_DIR      := build/deb
VF_DEB_TREE     := $(VF_DEB_DIR)/libvoucherify-$(VF_VERSION)
VF_DEBROOT      := $(CURDIR)/build/debroot

.PHONY: abi-tools abi-dump abi-check abi-baseline deb-tools deb test-deb

abi-tools:
	@command -v abidw >/dev/null && command -v abidiff >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq abigail-tools; }

# The debug build has the DWARF that abidw needs (the release profile has
# none) and is the one `make build` makes anyway. abi-reduce.py keeps the
# C ABI only: see its comment and packaging/abi/README.md.
abi-dump: abi-tools
	$(CARGO) build --lib -p voucherify
	mkdir -p $(VF_ABI_OUT)
	abidw --no-show-locs --no-comp-dir-path --no-corpus-path --type-id-style hash \
	  --out-file $(VF_ABI_OUT)/full.abi $(LIB)
	python3 packaging/abi/abi-reduce.py $(VF_ABI_OUT)/full.abi include/voucherify.h $(VF_ABI_ENUMS) \
	  > $(VF_ABI_OUT)/$(VF_SONAME).abi.tmp
	mv $(VF_ABI_OUT)/$(VF_SONAME).abi.tmp $(VF_ABI_OUT)/$(VF_SONAME).abi

abi-baseline: abi-dump
	cp $(VF_ABI_OUT)/$(VF_SONAME).abi $(VF_ABI_BASELINE)
	@echo "abi-baseline: wrote $(VF_ABI_BASELINE); commit it"

# abidiff's exit status is a bit mask: 1 error, 2 usage error, 4 the ABI
# changed, 8 the change is incompatible (abidiff sets 8 only for removed
# functions; a changed parameter type is "4"). So with additions left out
# (--no-added-syms; appended enumerators are "harmless" and not reported
# by default), any change left fails. Additions are then shown, not failed.
abi-check: abi-dump
	@[ -f $(VF_ABI_BASELINE) ] || { echo "abi-check: no baseline $(VF_ABI_BASELINE) for SONAME $(VF_SONAME)." \
	  "A new SONAME needs a new baseline: make abi-baseline (packaging/abi/README.md)" >&2; exit 1; }
	@abidiff --non-reachable-types --no-added-syms $(VF_ABI_BASELINE) $(VF_ABI_OUT)/$(VF_SONAME).abi \
	  > $(VF_ABI_OUT)/abidiff.txt 2>&1; rc=$$?; \
	  if [ $$((rc & 3)) != 0 ]; then cat $(VF_ABI_OUT)/abidiff.txt >&2; echo "abi-check: abidiff failed (exit $$rc)" >&2; exit 1; \
	  elif [ $$rc != 0 ]; then cat $(VF_ABI_OUT)/abidiff.txt >&2; \
	    echo "abi-check: INCOMPATIBLE ABI change against $(VF_ABI_BASELINE) (abidiff exit $$rc)." \
	      "Undo it, or bump ABI_VERSION in build.rs and run make abi-baseline (packaging/abi/README.md)" >&2; exit 1; fi
	@abidiff --non-reachable-types $(VF_ABI_BASELINE) $(VF_ABI_OUT)/$(VF_SONAME).abi \
	  > $(VF_ABI_OUT)/abidiff-added.txt 2>&1 \
	  && echo "abi-check: the C ABI of $(LIB) equals $(VF_ABI_BASELINE)" \
	  || { cat $(VF_ABI_OUT)/abidiff-added.txt; echo "abi-check: compatible additions only; make abi-baseline records them"; }

deb-tools:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && command -v lintian >/dev/null \
	  && command -v fakeroot >/dev/null && command -v pkg-config >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      debhelper dpkg-dev lintian fakeroot pkg-config; }

# The build tree holds only debian/; its rules file runs `make release` and
# `make install` in this tree (VF_SOURCE_DIR). -b: binary packages only;
# -d: no build-dependency check, as cargo is rustup's, not a Debian package.
deb: deb-tools
	@changelog=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	  [ "$$changelog" = "$(VF_VERSION)" ] || { echo "deb: packaging/debian/changelog is at $$changelog," \
	    "Cargo.toml at $(VF_VERSION): add a changelog entry (dch -v $(VF_VERSION))" >&2; exit 1; }
	rm -rf $(VF_DEB_DIR)
	mkdir -p $(VF_DEB_TREE)
	cp -r packaging/debian $(VF_DEB_TREE)/debian
	cd $(VF_DEB_TREE) && VF_SOURCE_DIR=$(CURDIR) dpkg-buildpackage -b -d -us -uc
	@echo "== lintian (errors fail the build; warnings are listed)"
	lintian --fail-on error --display-info $(VF_DEB_DIR)/*.changes
	@ls -l $(VF_DEB_DIR)/*.deb

test-deb: deb install-tools
	$(CARGO) build -p vf-standin
	VF_DEB_DIR=$(VF_DEB_DIR) VF_DEBROOT=$(VF_DEBROOT) VF_VERSION=$(VF_VERSION) VF_SONAME=$(VF_SONAME) \
	  VF_REALNAME=$(VF_REALNAME) VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin tests/install/deb.sh
