# A thin wrapper around Meson. `make demo` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all build deps demo test bench fuzz format clean

all: build

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory build >/dev/null
	@scripts/demo.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory build
	@scripts/test.sh $(BUILD) $(ASAN_BUILD)

bench:
	@scripts/deps.sh --bench
	@$(MAKE) --no-print-directory build
	@bench/lifecycle $(BUILD)
	@bench/scheduler/run $(BUILD)
	@bench/pull/run $(BUILD)

# Each libFuzzer target for FUZZ_SECONDS on its corpus (tests/fuzz/run.sh says how to keep new finds).
fuzz:
	@scripts/deps.sh --fuzz
	@tests/fuzz/build.sh $(FUZZ_BUILD)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
