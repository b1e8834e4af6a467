# make install and friends (issue 5), included by the Makefile.
#
#   make install   [PREFIX=/usr/local] [LIBDIR=$(PREFIX)/lib] [INCLUDEDIR=$(PREFIX)/include] [DESTDIR=]
#   make uninstall (same variables: removes exactly what install put)
#   make test-install  install into build/stage, then build and run the C
#                  sample with pkg-config (shared and --static) and a CMake
#                  project, against the stand-in; exported symbols; header
#   make test-cpp  the C++ wrapper's test under valgrind, against target/debug
#
# The layout follows cargo-c's (libNAME.so.FULL_VERSION with the two
# symlinks, libNAME.a, NAME.pc with Libs.private from rustc's
# native-static-libs) without needing cargo-c; it adds a CMake package.

PREFIX     ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
LIBDIR     ?= $(PREFIX)/lib
# The Python package is not installed here: pip as root into the system
# prefix fights the distribution's own Python packaging (Debian 12's pip puts
# --prefix=/usr/local under /usr/local/local/, off sys.path). Python users
# install the wheel (make wheel) with pip or pipx; see README.md.
VF_LIBDIR   = $(LIBDIR)
VF_PKGCONFIGDIR = $(VF_LIBDIR)/pkgconfig
VF_CMAKEDIR     = $(VF_LIBDIR)/cmake/voucherify
# The voucherify-token tool: binary, man page, completions (Debian's paths).
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
VF_CLI_FILES = $(BINDIR)/voucherify-token $(MANDIR)/man1/voucherify-token.1 \
  $(PREFIX)/share/bash-completion/completions/voucherify-token \
  $(PREFIX)/share/zsh/vendor-completions/_voucherify-token \
  $(PREFIX)/share/fish/vendor_completions.d/voucherify-token.fish

# Versions, each from its one place: the crate version from Cargo.toml's
# [package], the ABI number (the SONAME's) from build.rs's ABI_VERSION.
VF_VERSION := $(shell awk '/^\[/ { p = ($$0 == "[package]") } p && /^version *=/ { gsub(/[" ]/, "", $$0); sub(/^version=/, "", $$0); print; exit }' Cargo.toml)
VF_ABI     := $(shell sed -n 's/^const ABI_VERSION: u32 = \([0-9][0-9]*\);.*/\1/p' build.rs)
ifeq ($(VF_VERSION),)
$(error mk/install.mk: no version in Cargo.toml's [package])
endif
ifeq ($(VF_ABI),)
$(error mk/install.mk: no `const ABI_VERSION: u32 = N;` line in build.rs)
endif
VF_SONAME   := libvoucherify.so.$(VF_ABI)
VF_REALNAME := libvoucherify.so.$(VF_VERSION)

VF_TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
VF_RELEASE    := $(VF_TARGET_DIR)/release
VF_NATIVE_LIBS_FILE := $(VF_RELEASE)/voucherify-native-static-libs.txt
VF_STAGE      := $(CURDIR)/build/stage

INSTALL ?= install

.PHONY: release release-cli install install-cli uninstall test-install test-cpp install-tools

# The release build, and the native libraries a static link needs. The
# same `cargo rustc` command every time: it rebuilds nothing when nothing
# changed, and cargo replays the cached `native-static-libs` note then.
release:
	log=$$(mktemp); \
	  $(CARGO) rustc --release --lib -p voucherify -- --print native-static-libs >$$log 2>&1; \
	  status=$$?; cat $$log >&2; \
	  libs=$$(sed -n 's/^note: native-static-libs: //p' $$log | tail -n 1); rm -f $$log; \
	  [ "$$status" = 0 ] || exit "$$status"; \
	  if [ -n "$$libs" ]; then echo "$$libs" > $(VF_NATIVE_LIBS_FILE); \
	  elif [ ! -s $(VF_NATIVE_LIBS_FILE) ]; then \
	    echo "cargo printed no native-static-libs note; run \`cargo clean --release -p voucherify\` and retry" >&2; exit 1; fi
	@readelf -d $(VF_RELEASE)/libvoucherify.so | grep -q 'Library soname: \[$(VF_SONAME)\]' || \
	  { echo "$(VF_RELEASE)/libvoucherify.so lacks SONAME $(VF_SONAME)" >&2; exit 1; }

# The tool links the library's Rust core in: it needs no libvoucherify.so.
release-cli:
	$(CARGO) build --release -p voucherify-token

install: release install-cli
	$(INSTALL) -d $(DESTDIR)$(VF_LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(VF_PKGCONFIGDIR) $(DESTDIR)$(VF_CMAKEDIR)
	$(INSTALL) -m 0755 $(VF_RELEASE)/libvoucherify.so $(DESTDIR)$(VF_LIBDIR)/$(VF_REALNAME)
	ln -sfn $(VF_REALNAME) $(DESTDIR)$(VF_LIBDIR)/$(VF_SONAME)
	ln -sfn $(VF_REALNAME) $(DESTDIR)$(VF_LIBDIR)/libvoucherify.so
	$(INSTALL) -m 0644 $(VF_RELEASE)/libvoucherify.a $(DESTDIR)$(VF_LIBDIR)/libvoucherify.a
	$(INSTALL) -m 0644 include/voucherify.h $(DESTDIR)$(INCLUDEDIR)/voucherify.h
	$(INSTALL) -m 0644 bindings/cpp/voucherify.hpp $(DESTDIR)$(INCLUDEDIR)/voucherify.hpp
	libs="$$(cat $(VF_NATIVE_LIBS_FILE))"; \
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(VF_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VF_VERSION)|g' -e "s|@LIBS_PRIVATE@|$$libs|g" \
	    packaging/voucherify.pc.in > $(DESTDIR)$(VF_PKGCONFIGDIR)/voucherify.pc.tmp
	mv $(DESTDIR)$(VF_PKGCONFIGDIR)/voucherify.pc.tmp $(DESTDIR)$(VF_PKGCONFIGDIR)/voucherify.pc
	chmod 0644 $(DESTDIR)$(VF_PKGCONFIGDIR)/voucherify.pc
	libs="$$(sed -e 's/^ *//' -e 's/ *$$//' -e 's/-l//g' -e 's/  */;/g' $(VF_NATIVE_LIBS_FILE))"; \
	libdir_rel=$$(realpath -m --relative-to=$(VF_CMAKEDIR) $(VF_LIBDIR)); \
	incdir_rel=$$(realpath -m --relative-to=$(VF_CMAKEDIR) $(INCLUDEDIR)); \
	ptr=$$(( $$(od -An -j4 -N1 -tu1 $(VF_RELEASE)/libvoucherify.so) * 4 )); \
	for f in voucherifyConfig.cmake voucherifyConfigVersion.cmake; do \
	  sed -e "s|@LIBDIR_REL@|$$libdir_rel|g" -e "s|@INCLUDEDIR_REL@|$$incdir_rel|g" \
	      -e 's|@VERSION@|$(VF_VERSION)|g' -e 's|@REALNAME@|$(VF_REALNAME)|g' \
	      -e 's|@SONAME@|$(VF_SONAME)|g' -e "s|@LIBS_PRIVATE@|$$libs|g" -e "s|@SIZEOF_VOID_P@|$$ptr|g" \
	      packaging/cmake/$$f.in > $(DESTDIR)$(VF_CMAKEDIR)/$$f && chmod 0644 $(DESTDIR)$(VF_CMAKEDIR)/$$f || exit 1; \
	done

# The man page and completions come from the tool's own definitions.
install-cli: release-cli
	for f in $(VF_CLI_FILES); do $(INSTALL) -d $(DESTDIR)$$(dirname $$f) || exit 1; done
	$(INSTALL) -m 0755 $(VF_RELEASE)/voucherify-token $(DESTDIR)$(BINDIR)/voucherify-token
	$(VF_RELEASE)/voucherify-token man > $(DESTDIR)$(MANDIR)/man1/voucherify-token.1
	$(VF_RELEASE)/voucherify-token completions bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/voucherify-token
	$(VF_RELEASE)/voucherify-token completions zsh > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_voucherify-token
	$(VF_RELEASE)/voucherify-token completions fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/voucherify-token.fish

# Only files this install owns; the shared directories (lib, include,
# pkgconfig, cmake) stay, the package's own cmake/voucherify goes if empty.
uninstall:
	rm -f $(DESTDIR)$(VF_LIBDIR)/$(VF_REALNAME) $(DESTDIR)$(VF_LIBDIR)/$(VF_SONAME) \
	      $(DESTDIR)$(VF_LIBDIR)/libvoucherify.so $(DESTDIR)$(VF_LIBDIR)/libvoucherify.a \
	      $(DESTDIR)$(INCLUDEDIR)/voucherify.h $(DESTDIR)$(INCLUDEDIR)/voucherify.hpp \
	      $(DESTDIR)$(VF_PKGCONFIGDIR)/voucherify.pc \
	      $(DESTDIR)$(VF_CMAKEDIR)/voucherifyConfig.cmake $(DESTDIR)$(VF_CMAKEDIR)/voucherifyConfigVersion.cmake
	-rmdir $(DESTDIR)$(VF_CMAKEDIR) 2>/dev/null
	rm -f $(addprefix $(DESTDIR),$(VF_CLI_FILES))

# pkg-config and cmake, installed when missing (a fresh machine; we are root).
install-tools:
	@command -v pkg-config >/dev/null && command -v cmake >/dev/null && command -v gcc >/dev/null \
	  && command -v g++ >/dev/null && command -v valgrind >/dev/null && command -v curl >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config cmake gcc g++ valgrind curl; }

# Everything a user gets from `make install`, checked the way users use it.
# The staging install uses a multiarch LIBDIR, so LIBDIR is exercised too.
test-install: install-tools
	$(CARGO) build -p vf-standin
	rm -rf $(VF_STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(VF_STAGE) PREFIX=/usr/local \
	  LIBDIR=/usr/local/lib/$$(gcc -print-multiarch)
	VF_STAGE=$(VF_STAGE) VF_PREFIX=/usr/local VF_LIBDIR=/usr/local/lib/$$(gcc -print-multiarch) \
	  VF_VERSION=$(VF_VERSION) VF_SONAME=$(VF_SONAME) VF_REALNAME=$(VF_REALNAME) \
	  VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin tests/install/run.sh
	$(MAKE) --no-print-directory uninstall DESTDIR=$(VF_STAGE) PREFIX=/usr/local \
	  LIBDIR=/usr/local/lib/$$(gcc -print-multiarch)
	@left=$$(find $(VF_STAGE) -not -type d); \
	  if [ -n "$$left" ]; then echo "make uninstall left files behind:" >&2; echo "$$left" >&2; exit 1; fi
	@echo "test-install: all consumer checks passed"

# The C++ wrapper against the build tree (target/debug), under valgrind.
test-cpp: install-tools
	$(CARGO) build --lib -p voucherify
	$(CARGO) build -p vf-standin
	VF_STANDIN_BIN=$(CURDIR)/target/debug/vf-standin tests/install/cpp.sh
