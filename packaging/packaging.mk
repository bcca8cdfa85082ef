# packaging.mk - deb and rpm packages of rollclone, included by the top
# Makefile. `make deb`, `make rpm`: packages into $(BUILD)/pkg/ from the
# binaries of `make all`, versioned by the file VERSION; each installs its
# tools (debhelper, rpm, ...) when missing. `make package-test`
# (CI): installs the tools it needs, builds both formats, checks them, and
# installs the debs into a throwaway Debian 12 root. See docs/packaging.md.
BUILD   ?= build
PKG_DIR ?= $(BUILD)/pkg

.PHONY: deb rpm package-test package-tools

# Like `make demo`, each installs what it needs first (build dependencies,
# then its packaging tools: nothing when present), then builds with a fresh
# make, whose pkg-config sees the libraries just installed. The packaged
# binaries are built apart, without the test hooks (FAULT=).
PKG_BUILD ?= $(BUILD)/release

deb: deps
	sh scripts/package-tools.sh deb
	$(MAKE) BUILD=$(PKG_BUILD) FAULT= all
	sh scripts/package-deb.sh $(PKG_BUILD) $(VERSION) $(PKG_DIR)

rpm: deps
	sh scripts/package-tools.sh rpm
	$(MAKE) BUILD=$(PKG_BUILD) FAULT= all
	sh scripts/package-rpm.sh $(PKG_BUILD) $(VERSION) $(PKG_DIR)

package-tools:
	sh scripts/package-tools.sh

package-test: deps package-tools
	$(MAKE) deb rpm
	sh scripts/package-test.sh $(BUILD) $(VERSION)
