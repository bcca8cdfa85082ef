# rollclone build. `make` builds the three binaries into build/; `make test`
# runs unit and end-to-end tests, then the same suite under ASan+UBSan.
BUILD   ?= build
SAN     ?=
# FAULT=1 (the default here, so in build/ and build-asan/) compiles the
# test hooks (-DRC_FAULT_INJECTION: injected SQLite faults, an offset wall
# clock; see docs/design-notes.md). The packages are built with FAULT=.
FAULT   ?= 1
VERSION := $(shell cat VERSION)
PKGS    := libczmq libzmq libsodium libprotobuf-c sqlite3 libcurl inih jansson libarchive libsystemd libmicrohttpd

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
           -DRC_VERSION='"$(VERSION)"' -I$(BUILD)/gen -Icommon -Iagent -Icoordinator
LDLIBS  += -lpthread -lm
# RC_PROTOCOL=N builds peers of another protocol version (tests of skew)
ifneq ($(RC_PROTOCOL),)
CFLAGS  += -DRC_PROTOCOL_VERSION=$(RC_PROTOCOL)
endif
ifneq ($(FAULT),)
CFLAGS  += -DRC_FAULT_INJECTION
endif
ifneq ($(SAN),)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
ifneq ($(FUZZ),)
# objects for libFuzzer harnesses (make fuzz): coverage, no main
CFLAGS  += -fsanitize=fuzzer-no-link -Wno-format-nonliteral
endif
else
# the hardening Debian's packages expect (lintian checks for it)
CFLAGS  += -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS += -Wl,-z,relro,-z,now
endif

# pkg-config is asked only when building, so `make deps` works before the
# packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

GEN_C    := $(BUILD)/gen/rollclone.pb-c.c
COMMON   := $(wildcard common/*.c)
AGENT    := $(filter-out agent/main.c,$(wildcard agent/*.c))
CLI      := $(filter-out cli/main.c,$(wildcard cli/*.c))
COORD    := $(filter-out coordinator/main.c,$(wildcard coordinator/*.c))
UNIT     := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_O := $(call obj,$(COMMON)) $(BUILD)/obj/gen/rollclone.pb-c.o
AGENT_O  := $(call obj,$(AGENT))
COORD_O  := $(call obj,$(COORD))

BINS := $(BUILD)/rollclone-coordinator $(BUILD)/rollclone-agent $(BUILD)/rollclone
# Made from the CLI's command table by the CLI itself, for the packages.
CLI_DOCS := $(BUILD)/man/rollclone.1 $(BUILD)/completion/rollclone $(BUILD)/completion/_rollclone
TOOLS := $(BUILD)/rc_unit $(BUILD)/rc_frame $(BUILD)/rc_fleetsim $(BUILD)/rc_unpackbench \
         $(BUILD)/rc_steprec $(BUILD)/rc_benchweb $(BUILD)/rc_metricsbench $(BUILD)/rc_idlefloor \
         $(BUILD)/rc_testweb $(BUILD)/rc_testload

.PHONY: all deps test unit e2e test-asan demo bench bench-ci lint format clean fuzz fuzzers
all: $(BINS) $(TOOLS) $(CLI_DOCS)

deps:
	@sh scripts/deps.sh

# One run of protoc-c makes both files: a grouped target (&:), so that make
# knows the header changed too. With the header as a recipe-less rule of its
# own, make kept the header's old time, and an edit of the proto rebuilt no
# object that includes it: stale struct layouts linked with the new code.
$(GEN_C) $(BUILD)/gen/rollclone.pb-c.h &: proto/rollclone.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -Iproto $<

$(BUILD)/obj/gen/rollclone.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/rollclone.pb-c.h
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/rollclone-coordinator: $(BUILD)/obj/coordinator/main.o $(COORD_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
$(BUILD)/rollclone: $(BUILD)/obj/cli/main.o $(call obj,$(CLI)) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
# The COMMANDS section of rollclone(1) replaces the @COMMANDS@ comment line.
$(BUILD)/man/rollclone.1: packaging/man/rollclone.1 $(BUILD)/rollclone
	@mkdir -p $(dir $@)
	$(BUILD)/rollclone help --man >$@.commands
	sed -e '/^\.\\" @COMMANDS@/{r $@.commands' -e 'd;}' -e '/^\.\\" the command table/d' $< >$@
	rm -f $@.commands
$(BUILD)/completion/rollclone: $(BUILD)/rollclone
	@mkdir -p $(dir $@)
	$< completion bash >$@
$(BUILD)/completion/_rollclone: $(BUILD)/rollclone
	@mkdir -p $(dir $@)
	$< completion zsh >$@
$(BUILD)/rollclone-agent: $(BUILD)/obj/agent/main.o $(AGENT_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
$(BUILD)/rc_unit: $(call obj,$(UNIT)) $(AGENT_O) $(COORD_O) $(call obj,$(CLI)) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(shell pkg-config --libs check 2>/dev/null) $(LDLIBS)
$(BUILD)/rc_frame: $(BUILD)/obj/tests/tools/rc_frame.o $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)

# reads an agent's step record (tests/tools/rc_steprec.c)
$(BUILD)/rc_steprec: $(BUILD)/obj/tests/tools/rc_steprec.o $(AGENT_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)

$(BUILD)/rc_fleetsim: $(BUILD)/obj/bench/rc_fleetsim.o $(BUILD)/obj/coordinator/secmem.o $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
$(BUILD)/rc_unpackbench: $(BUILD)/obj/bench/rc_unpackbench.o $(AGENT_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
# an idle agent's floor: the agent's libraries, a zloop per process (bench/idle_cpu.sh)
$(BUILD)/rc_idlefloor: $(BUILD)/obj/bench/rc_idlefloor.o $(AGENT_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
# a scrape of a simulated 10,000-host snapshot, in one process (bench/metrics.sh)
$(BUILD)/rc_metricsbench: $(BUILD)/obj/bench/rc_metricsbench.o $(COORD_O) $(COMMON_O)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)
# the web app of the benches (bench/zerodowntime.sh, bench/ansible.sh), linked
# with what it uses only: it stands in for the service under update, and
# restarting it is part of the work both sides of bench/ansible.sh time; with
# every library of the agent it took ~100 ms to start listening instead of ~40
$(BUILD)/rc_benchweb: bench/rc_benchweb.c common/rc_time.c tests/tools/rc_tool.h
	@mkdir -p $(dir $@)
	$(CC) $(call NOSAN,$(CFLAGS)) $(call NOSAN,$(LDFLAGS)) $(filter %.c,$^) -o $@ \
	    $(shell pkg-config --cflags --libs libmicrohttpd 2>/dev/null) -lpthread

# the web app the e2e tests and the demo restart (scripts/webapp-hook.sh,
# checks_lib.sh, lb_lib.sh):
# one file, and never sanitized: it stands in for the service under update
# (it replaced python3's http.server), so build-asan's copy is as cheap as
# build's, and the ASan pass spends its CPU on rollclone itself
NOSAN = $(filter-out -fsanitize% -fno-sanitize%,$(1))
$(BUILD)/rc_testweb: tests/tools/rc_testweb.c tests/tools/rc_tool.h
	@mkdir -p $(dir $@)
	$(CC) $(call NOSAN,$(CFLAGS)) $(call NOSAN,$(LDFLAGS)) $< -o $@ \
	    $(shell pkg-config --cflags --libs libmicrohttpd 2>/dev/null) -lpthread
# the analysis-gate tests' HTTP load (checks_lib.sh), likewise
$(BUILD)/rc_testload: tests/tools/rc_testload.c tests/tools/rc_tool.h
	@mkdir -p $(dir $@)
	$(CC) $(call NOSAN,$(CFLAGS)) $(call NOSAN,$(LDFLAGS)) $< -o $@ \
	    $(shell pkg-config --cflags --libs libcurl 2>/dev/null) -lpthread

# libFuzzer harnesses (tests/fuzz/), built with clang under ASan+UBSan
# into build-fuzz/ and run FUZZ_SECONDS each; new inputs go to
# build-fuzz/corpus/, the committed seeds stay as they are.
FUZZERS      := envelope config journal unpack
FUZZ_SECONDS ?= 60
fuzzers: $(patsubst %,$(BUILD)/fuzz_%,$(FUZZERS))
$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(AGENT_O) $(COMMON_O)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS) $(LDLIBS)

fuzz:
	$(MAKE) BUILD=build-fuzz SAN=1 FUZZ=1 CC=clang fuzzers
	@for f in $(FUZZERS); do \
	    mkdir -p build-fuzz/corpus/$$f; \
	    echo "fuzz $$f: $(FUZZ_SECONDS)s"; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-fuzz/fuzz_$$f \
	        -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=build-fuzz/crash-$$f- \
	        build-fuzz/corpus/$$f tests/fuzz/corpus/$$f 2>build-fuzz/fuzz_$$f.log \
	        || { tail -60 build-fuzz/fuzz_$$f.log; exit 1; }; \
	    grep -E "stat::number_of_executed_units|cov:" build-fuzz/fuzz_$$f.log | tail -2; \
	done

unit: all
	$(BUILD)/rc_unit

e2e: all
	RC_BUILD=$(BUILD) sh tests/e2e/run.sh

# The whole suite, normal build and ASan+UBSan build: the normal build
# (on every core, unless make -jN says otherwise); its unit tests, which
# mostly wait (7 s of CPU in 28 s), while the ASan build compiles; the ASan
# unit tests; then every e2e test of both builds in one pool
# (tests/e2e/run.sh, RC_BUILDS): the e2e suite is CPU-bound on 2 cores, and
# in one pool the two passes do not each end with a tail of their own.
TEST_J = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
test: deps
	$(MAKE) $(TEST_J) all
	@build/rc_unit >build/unit.log 2>&1 & n=$$!; \
	$(MAKE) $(TEST_J) BUILD=build-asan SAN=1 all && build-asan/rc_unit >build-asan/unit.log 2>&1; \
	a=$$?; wait $$n; n=$$?; \
	for b in build build-asan; do \
	    rc=$$n; [ $$b = build ] || rc=$$a; \
	    if [ $$rc = 0 ]; then echo "unit $$b: $$(tail -1 $$b/unit.log)"; \
	    else cat $$b/unit.log 2>/dev/null; echo "unit $$b: FAILED (exit $$rc)"; fi; \
	done; [ $$n = 0 ] && [ $$a = 0 ]
	RC_BUILDS="build build-asan" sh tests/e2e/run.sh

test-asan: deps
	$(MAKE) BUILD=build-asan SAN=1 unit e2e

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

# deps first: the zero-downtime part needs wrk and haproxy
bench: deps
	$(MAKE) all
	sh bench/run.sh
	sh bench/metrics.sh
	sh bench/zerodowntime.sh
	sh bench/ansible.sh

# CI's bench: the control-plane part at 500 hosts, once, bounded; fails
# only when the bench itself breaks, never on a missed goal
bench-ci: all
	BENCH_HOSTS=500 BENCH_RUNS=1 BENCH_ONLY=fleet timeout -k 10 170 sh bench/run.sh

FORMATTED = $(wildcard common/*.[ch] agent/*.[ch] coordinator/*.[ch] cli/*.[ch] tests/unit/*.[ch] \
            tests/tools/*.[ch] tests/fuzz/*.c bench/*.c)
lint:
	clang-format --dry-run --Werror $(FORMATTED)

format:
	clang-format -i $(FORMATTED)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
include packaging/packaging.mk
