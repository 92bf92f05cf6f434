# A thin wrapper around Meson. `make demo` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan

.PHONY: all build deps demo test bench format clean

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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
