# The ABI baseline and the Debian packages (issue 5), included by the Makefile
# after mk/install.mk (it uses VF_VERSION, VF_SONAME, VF_REALNAME).
#
#   make abi-check     compare the C ABI of the library built here with the
#                      committed baseline packaging/abi/$(VF_SONAME).abi;
#                      fails on an incompatible change (packaging/abi/README.md)
#   make abi-baseline  regenerate that baseline, on purpose
#   make deb           the source package (build/deb/source: .dsc and
#                      .tar.gz, the crates vendored in it), then, from that
#                      source package alone and without network,
#                      libvoucherify0 and libvoucherify-dev in build/deb/;
#                      lintian on all three fails on errors and warnings
#   make test-deb      unpack both .debs into build/debroot and build and run
#                      the C sample against them (pkg-config), on the stand-in

VF_ABI_BASELINE := packaging/abi/$(VF_SONAME).abi
VF_ABI_OUT      := build/abi
# The Rust names of the header's enums (cbuild.toml renames them to
# vf_status and vf_tls_roots).
VF_ABI_ENUMS    := Status TlsRoots
VF_DEB_DIR      := build/deb
VF_DEB_SRCDIR   := $(VF_DEB_DIR)/source
VF_DEB_TREE     := $(VF_DEB_SRCDIR)/libvoucherify-$(VF_VERSION)
VF_DEB_OFFLINE  := $(VF_DEB_DIR)/offline
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

# The source package is this tree's tracked files as they are in the work
# tree (`git ls-files`: add a new file before `make deb`), debian/ from
# packaging/debian, and vendor/ from `cargo vendor` (the one step that
# needs crates.io), trimmed by packaging/vendor-prune.py (the Windows-only
# crates to their manifests, no Cargo.toml.orig: see there).
#
# The binary packages are then built from the unpacked .dsc, as a buildd
# would, in a network namespace with no network (unshare -n) and with an
# empty CARGO_HOME (debian/rules). -d: cargo and rustc are rustup's here;
# Debian 12's own (1.63) are older than the rust-version 1.85 that the
# Build-Depends name.
#
# lintian fails on errors and warnings. Info tags stay, shown (-I); those
# expected: hardening-no-fortify-functions (Rust code has no _FORTIFY_SOURCE
# calls to harden) and spelling-error-in-binary (a dependency's string).
VF_NO_NETWORK = $(shell unshare -n true 2>/dev/null && echo "unshare -n --")
deb: deb-tools
	@changelog=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	  [ "$$changelog" = "$(VF_VERSION)" ] || { echo "deb: packaging/debian/changelog is at $$changelog," \
	    "Cargo.toml at $(VF_VERSION): add a changelog entry (dch -v $(VF_VERSION))" >&2; exit 1; }
	rm -rf $(VF_DEB_DIR)
	mkdir -p $(VF_DEB_TREE)
	git ls-files -z | xargs -0 cp -P --parents -t $(VF_DEB_TREE)
	cp -r packaging/debian $(VF_DEB_TREE)/debian
	cd $(VF_DEB_TREE) && $(CARGO) vendor --locked --versioned-dirs --quiet vendor >/dev/null
	python3 packaging/vendor-prune.py $(VF_DEB_TREE)/vendor
	@# gzip -1: xz takes minutes over the vendored crates on this 2-core machine.
	@# --tar-ignore=.git: instead of dpkg-source's default list, which drops
	@# files (*.o, *.a, .gitignore) that the crates' checksums cover.
	cd $(VF_DEB_SRCDIR) && dpkg-source --build --compression=gzip --compression-level=1 --tar-ignore=.git \
	  libvoucherify-$(VF_VERSION)
	mkdir -p $(VF_DEB_OFFLINE)
	dpkg-source --extract $(VF_DEB_SRCDIR)/libvoucherify_$(VF_VERSION).dsc $(VF_DEB_OFFLINE)/libvoucherify-$(VF_VERSION)
	@[ -n "$(VF_NO_NETWORK)" ] || echo "deb: unshare -n is not available: building offline by cargo --frozen alone" >&2
	cd $(VF_DEB_OFFLINE)/libvoucherify-$(VF_VERSION) && \
	  $(VF_NO_NETWORK) env -u CARGO_HOME -u CARGO_TARGET_DIR dpkg-buildpackage -b -d -us -uc
	mv $(VF_DEB_OFFLINE)/*.deb $(VF_DEB_OFFLINE)/*.changes $(VF_DEB_OFFLINE)/*.buildinfo $(VF_DEB_DIR)/
	@echo "== lintian (errors and warnings fail the build; info tags are listed)"
	lintian --fail-on error,warning --display-info $(VF_DEB_SRCDIR)/libvoucherify_$(VF_VERSION).dsc $(VF_DEB_DIR)/*.changes
	@ls -l $(VF_DEB_DIR)/*.deb $(VF_DEB_SRCDIR)/*.dsc $(VF_DEB_SRCDIR)/*.tar.*

test-deb: deb install-tools
	$(CARGO) build -p vf-standin
	VF_DEB_DIR=$(VF_DEB_DIR) VF_DEBROOT=$(VF_DEBROOT) VF_VERSION=$(VF_VERSION) VF_SONAME=$(VF_SONAME) \
	  VF_REALNAME=$(VF_REALNAME) VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin tests/install/deb.sh
