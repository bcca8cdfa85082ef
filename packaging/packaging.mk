# packaging.mk - deb and rpm packages of rollclone, included by the top
# Makefile. `make deb`, `make rpm`: packages into $(BUILD)/pkg/ from the
# binaries of `make all`, versioned by the file VERSION. `make package-test`
# (CI): installs the tools it needs, builds both formats, checks them, and
# installs the debs into a throwaway Debian 12 root. See docs/packaging.md.
BUILD   ?= build
PKG_DIR ?= $(BUILD)/pkg

.PHONY: deb rpm package-test package-tools

# The packaged binaries are built apart, without the test hooks (FAULT=).
PKG_BUILD ?= $(BUILD)/release

deb:
	$(MAKE) BUILD=$(PKG_BUILD) FAULT= all
	sh scripts/package-deb.sh $(PKG_BUILD) $(VERSION) $(PKG_DIR)

rpm:
	$(MAKE) BUILD=$(PKG_BUILD) FAULT= all
	sh scripts/package-rpm.sh $(PKG_BUILD) $(VERSION) $(PKG_DIR)

package-tools:
	sh scripts/package-tools.sh

package-test: deps package-tools
	$(MAKE) deb rpm
	sh scripts/package-test.sh $(BUILD) $(VERSION)
