# SPDX-License-Identifier: GPL-2.0
#
#   make                 build aios.ko for KVER (default: newest installed headers)
#   make deps            install the Debian packages the project needs (root)
#   make check [T=re]    build for every kernel in KVERS and run the VM test suite
#   make bench [QUICK=1] the side-by-side benchmark in the VM (quick set: <10 min)
#   make fuzz [CASES=N]  corrupted images against aiosfs in the VM (default 20000 cases)
#   make soak [DURATION=S] the load test (tests/load) for longer (default 600 s)
#   make crash [FSTYPE=ext4] every crash point of every tests/crash workload
#   make xfstests [T="generic/001 generic/quick"] [FSTYP=aiosfs|ext4|both] [KVER=...]
#                        xfstests in the VM, results in docs/xfstests/RESULTS.md
#   make lint            sparse, checkpatch and a W=1 build
#   make dkms-install    install the module with DKMS for the running kernel
#   make dkms-remove     remove it again

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
KVER ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | cut -d/ -f4 | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
# Evaluated only when used, so that `make check` sees kernels `make deps` added.
KVERS ?= $(shell tools/kernels)
BUILD := $(CURDIR)/build
W ?= 1
T ?=
# 1: the module with its test hooks, as make check builds it (see Kbuild).
AIOS_TEST ?=

MODULE_SRCS := $(shell tools/module-sources)
DKMS_SRCS := $(MODULE_SRCS) Makefile tools/module-sources
DKMS_DIR := /usr/src/aios-$(VERSION)

LINUX_SRC := $(BUILD)/linux-source
KSFT_DIR := $(LINUX_SRC)/tools/testing/selftests
C_TESTS := $(wildcard tests/*/*.c)
C_TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(C_TESTS))
TEST_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE -I$(KSFT_DIR) -Itests/lib
AIOS_CTL := $(BUILD)/tools/aios-ctl

.PHONY: all module deps check check-built tests bench fuzz soak crash xfstests lint dkms-sources dkms-install dkms-remove clean

all: module $(AIOS_CTL)

# Each kernel gets its own copy of the sources under build/KVER/src, so that
# builds for several kernels never share objects.  tools/lint builds in a
# MODDIR of its own, as guests may be loading build/KVER/aios.ko meanwhile
# (tests/run runs groups side by side); for them the module is replaced
# whole, never rewritten in place.
MODDIR ?= $(BUILD)/$(KVER)
module:
	@test -n "$(KVER)" -a -f "$(KDIR)/Makefile" || \
		{ echo "no kernel headers for '$(KVER)' (run: make deps)" >&2; exit 1; }
	@mkdir -p $(MODDIR)/src
	@cp -a -u --parents $(MODULE_SRCS) $(MODDIR)/src/
	$(MAKE) -C $(KDIR) M=$(MODDIR)/src W=$(W) AIOS_TEST=$(AIOS_TEST) modules
	@cp $(MODDIR)/src/aios.ko $(MODDIR)/aios.ko.tmp && mv $(MODDIR)/aios.ko.tmp $(MODDIR)/aios.ko

deps:
	@tools/deps

# The sub-make re-reads this file after deps, so that KVERS sees new kernels.
check: deps
	@$(MAKE) --no-print-directory check-built

check-built: tests
	@set -e; for k in $(KVERS); do \
		echo "== building aios.ko for $$k"; \
		$(MAKE) --no-print-directory module KVER=$$k W=1 KCFLAGS=-Werror AIOS_TEST=1 \
			>$(BUILD)/build-$$k.log 2>&1 || \
			{ cat $(BUILD)/build-$$k.log; exit 1; }; \
	done
	@tests/run $(foreach k,$(KVERS),-k $(k)) $(if $(T),-t '$(T)')

$(LINUX_SRC)/.stamp: tools/linux-source
	@tools/linux-source $(LINUX_SRC)

tests: $(C_TEST_BINS) $(AIOS_CTL)

$(BUILD)/tests/%: tests/%.c tests/lib/aios_test.h $(LINUX_SRC)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -lpthread

# tools/aios-ctl runs this.  libnvme.pc requires json-c and openssl, whose -dev
# packages we do not need: without them pkg-config fails, and -lnvme does.
$(AIOS_CTL): tools/aios-ctl.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< \
		$(shell pkg-config --cflags --libs libnvme 2>/dev/null || echo -lnvme)

bench: deps
	@QUICK=$(QUICK) tools/aios-bench

# The fuzz test's script, run for as many cases as asked; a failing case's
# image is kept in fuzz-results/.
fuzz: deps module
	@tools/aios-vm -k $(KVER) -m 2048 -t 86400 -o fuzz-results \
		-e AIOS_ROOT=$(CURDIR) -e AIOS_KO=$(BUILD)/$(KVER)/aios.ko \
		-e AIOS_FUZZ_CASES=$(or $(CASES),20000) -e AIOS_FUZZ_SECONDS=0 -- tests/fuzz/fuzz.sh

soak: deps module
	@tools/aios-vm -k $(KVER) -d 2G -m 768 -t $$(( $(or $(DURATION),600) + 900 )) -o soak-results \
		-e AIOS_ROOT=$(CURDIR) -e AIOS_KO=$(BUILD)/$(KVER)/aios.ko \
		-e AIOS_LOAD_SECONDS=$(or $(DURATION),600) -- tests/load/load.sh

# Every flush, FUA and mark point of the crash workloads, where make check
# replays a sample; totals at the end of crash-results/output.log.
crash: deps module tests
	@tools/aios-vm -k $(KVER) -c 1 -d 2G -d 2G -d 2G -m 2048 -t 21600 -o crash-results \
		-e AIOS_ROOT=$(CURDIR) -e AIOS_KO=$(BUILD)/$(KVER)/aios.ko \
		-e AIOS_TEST_BIN=$(BUILD)/tests -e FSTYPE=$(or $(FSTYPE),aiosfs) \
		-- tests/crash/every-point

# tools/aios-xfstests installs its own dependencies and builds aios.ko.
xfstests: deps
	@T='$(T)' FSTYP='$(FSTYP)' KVER='$(KVER)' tools/aios-xfstests

lint: deps $(LINUX_SRC)/.stamp
	@tools/lint $(KVERS)

# The module's sources as DKMS takes them, in DKMS_DIR (tests/dkms-build
# puts them in a tree of its own).
dkms-sources:
	rm -rf $(DKMS_DIR)
	mkdir -p $(DKMS_DIR)
	cp -a --parents $(DKMS_SRCS) $(DKMS_DIR)/

dkms-install: dkms-sources
	dkms add -m aios -v $(VERSION)
	dkms build -m aios -v $(VERSION) $(if $(DKMS_KVER),-k $(DKMS_KVER))
	dkms install -m aios -v $(VERSION) $(if $(DKMS_KVER),-k $(DKMS_KVER))

dkms-remove:
	-dkms remove -m aios -v $(VERSION) --all
	rm -rf $(DKMS_DIR)

clean:
	rm -rf $(BUILD)
