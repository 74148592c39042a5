# emu: a teaching emulator and hypervisor for a virtualizable subset of RISC-V.
#
# Quick start:
#   make demo       install emu and run the sample programs
#   make test       install emu with its test tools and run the test suite
#
# The menu:
#   make install    the Debian tools the samples and tests need, then emu itself
#                   (editable, with its test extras); redone when the C core changes
#   make build      rebuild the C core in place after editing csrc/
#   make programs   assemble the sample programs and privileged tests into build/
#   make demo       run the sample programs
#   make test       the test suite
#   make asan       the test suite on a core built with AddressSanitizer and UBSan
#   make test-switch  the test suite on a core whose interpreter dispatches with a
#                   plain switch instead of computed goto (EMU_DISPATCH=switch)
#   make check      test, test-switch, then asan: what CI runs
#   make bench      the speed benchmarks (bench/run.py; BENCH_ARGS=--quick for a short run)
#   make clean      remove build products

PYTHON  ?= python3
SUDO    := $(if $(filter 0,$(shell id -u)),,sudo)
DEBIAN  := binutils-riscv64-unknown-elf gcc-riscv64-unknown-elf gdb-multiarch device-tree-compiler
INSTALLED := build/.installed
CORE    := $(wildcard csrc/*.c csrc/*.h csrc/*.py) setup.py pyproject.toml

.PHONY: install build programs demo test test-switch asan check bench clean

install: $(INSTALLED)

$(INSTALLED): $(CORE)
	@for tool in riscv64-unknown-elf-as riscv64-unknown-elf-gcc gdb-multiarch dtc; do \
	    command -v $$tool >/dev/null || missing=1; done; [ -z "$$missing" ] || \
	    { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(DEBIAN); }
	$(PYTHON) -m pip install -q -e '.[test]'
	@mkdir -p build && touch $@

build: install

programs: install
	$(MAKE) -C programs

# Each sample with the options in programs/NAME/args, as `emu run` shows them.
demo: programs
	@for dir in programs/*/; do [ -f $$dir/expected.txt ] || continue; name=$$(basename $$dir); \
	    args=$$(cat $$dir/args 2>/dev/null); \
	    echo "\$$ emu run $${args:+$$args }build/programs/$$name.elf"; \
	    $(PYTHON) -m emu run $$args build/programs/$$name.elf || exit 1; echo; done
	@echo "\$$ emu hv --stats build/guests/hello.elf build/guests/ticks.elf build/guests/os.elf"
	@$(PYTHON) -m emu hv --stats build/guests/hello.elf build/guests/ticks.elf build/guests/os.elf
	@echo; echo "\$$ emu hv --max-insns 3000000 build/guests/adv-spin.elf build/guests/hello.elf build/guests/ticks.elf"
	@$(PYTHON) -m emu hv --max-insns 3000000 build/guests/adv-spin.elf build/guests/hello.elf \
	    build/guests/ticks.elf; test $$? -eq 124

test: install
	$(PYTHON) -m pytest -q

# The variant runs below rebuild the core for one run of the suite, then restore
# it. They leave out the labs' grading tests (tests/test_lab_NN.py): those grade
# Python answers whose guests run on core paths the rest of the suite covers,
# and they are most of the suite's time; the lab framework's own tests stay in.
VARIANT_TESTS := -p no:cacheprovider --ignore-glob='tests/test_lab_[0-9]*.py'

# The core is rebuilt with the sanitizers for this run only, then restored. Python
# itself is not instrumented, so the ASan runtime is preloaded; leak checking is
# off because the interpreter never frees some of its own memory.
asan: install
	EMU_SANITIZE=1 $(PYTHON) -m pip install -q --no-deps -e .
	@ldd emu/_core*.so | grep -q libasan || { echo "the core is not instrumented"; exit 1; }
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
	    UBSAN_OPTIONS=print_stacktrace=1 $(PYTHON) -m pytest -q $(VARIANT_TESTS); \
	status=$$?; $(PYTHON) -m pip install -q --no-deps -e .; exit $$status

# Like asan: the core is rebuilt for this run only, then restored. EMU_DISPATCH is
# also set for pytest, so tests/test_icache.py sees the build it asked for.
test-switch: install
	EMU_DISPATCH=switch $(PYTHON) -m pip install -q --no-deps -e .
	@$(PYTHON) -c "from emu.core import ffi, lib; import sys; \
	    sys.exit(ffi.string(lib.emu_dispatch_name()) != b'switch')" || \
	    { echo "the core was not rebuilt with the switch"; exit 1; }
	EMU_DISPATCH=switch $(PYTHON) -m pytest -q $(VARIANT_TESTS); \
	status=$$?; $(PYTHON) -m pip install -q --no-deps -e .; exit $$status

check: test test-switch asan

# Three ~1e9-instruction workloads on emu, unicorn and natively, the variants, the
# same as guests of emu hv (bench/hv.py), the exit round trip and start-up; results
# in build/bench.json. Compare with an earlier
# run: make bench BENCH_ARGS="--compare old.json".
BENCH_ARGS ?=
bench: install
	$(PYTHON) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build emu/_core.c emu/_core*.so *.egg-info .pytest_cache .hypothesis
