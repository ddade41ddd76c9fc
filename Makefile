# carousel — the two commands a new user runs are `make demo` and `make test`.
# Every target first makes sure the Debian packages the build needs are installed.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

DEB_PACKAGES := g++ cmake ninja-build pkg-config libgtest-dev libgmock-dev libbenchmark-dev \
                nlohmann-json3-dev libexpected-dev libcli11-dev libcrypto++-dev \
                librocksdb-dev libboost-dev libjemalloc-dev libsecp256k1-dev libsimgrid-dev clang-format clang-tidy

.PHONY: deps build build-asan build-fuzz test test-asan test-tsan test-mgr-property demo bench fuzz format format-check tidy tidy-changed clean

deps:
	@./scripts/install-deps.sh $(DEB_PACKAGES)

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCAROUSEL_SANITIZE=ON -DCAROUSEL_BUILD_BENCHMARKS=OFF -DCAROUSEL_BUILD_SLOW_TESTS=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The whole suite; in CI (CI=true) also the format and clang-tidy checks, the suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, and every fuzzer for FUZZ_CI_SECONDS on the
# checked-in corpus.
FUZZ_CI_SECONDS ?= 5
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
ifeq ($(CI),true)
	$(MAKE) format-check
	$(MAKE) tidy-changed
	$(MAKE) test-asan
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)
endif

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer over the layers whose work is split over two threads (core's ForkJoin, the trie's
# exchange_all and root(ForkJoin&), state's WorldState). Not part of `make test` (CI's time);
# run it after changing that code.
TSAN_TESTS := carousel_core_test carousel_trie_test carousel_state_test
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCAROUSEL_SANITIZE_THREAD=ON -DCAROUSEL_BUILD_BENCHMARKS=OFF -DCAROUSEL_BUILD_SLOW_TESTS=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TESTS)
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -R '^(core|trie|state)\.'

# The Merry-Go-Round property test over many random small networks (make test runs 3 cases).
MGR_PROPERTY_CASES ?= 40
MGR_PROPERTY_SEED  ?= 1
test-mgr-property: build
	CAROUSEL_MGR_PROPERTY_CASES=$(MGR_PROPERTY_CASES) CAROUSEL_MGR_PROPERTY_SEED=$(MGR_PROPERTY_SEED) \
	  ./$(BUILD)/tests/carousel_scenario_tests --gtest_filter='MgrProperty.*'

demo: build
	./$(BUILD)/carousel demo

# Google Benchmark suites (BENCH_FILTER selects, e.g. make bench BENCH_FILTER=keccak), then the
# trie benchmark and the Merry-Go-Round sweep over E and the client's link (bench/mgr_epochs.sh,
# simulated time); bench/sync_processes.sh measures a prefix sync between processes, and
# bench/mgr_testnet.sh a Merry-Go-Round network of 32 node processes and a client.
BENCH_FILTER ?= .
bench: build
	./$(BUILD)/carousel_bench --benchmark_filter='$(BENCH_FILTER)' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	./$(BUILD)/carousel bench trie --accounts 1000000
	CAROUSEL=./$(BUILD)/carousel bench/mgr_epochs.sh

# Coverage-guided fuzzing (libFuzzer with ASan + UBSan, clang from Debian's packages) of every
# decoder, the prefix-sync server and client, TCP framing, MgrNode's DHT and MGR handlers and
# StateStore on a damaged database: the harnesses are tests/fuzz/*_fuzz.cpp, built by CMake
# (CAROUSEL_BUILD_FUZZERS) into $(FUZZ_BUILD); FUZZ_SECONDS per harness.
FUZZ_DEB_PACKAGES := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/%.cpp,%,$(wildcard tests/fuzz/*_fuzz.cpp)) make_seeds
build-fuzz:
	@./scripts/install-deps.sh $(DEB_PACKAGES) $(FUZZ_DEB_PACKAGES)
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCAROUSEL_BUILD_FUZZERS=ON -DCAROUSEL_BUILD_TESTS=OFF -DCAROUSEL_BUILD_BENCHMARKS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)

fuzz: build-fuzz
	./scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BUILD)

# clang-format with the repo's .clang-format over src/, tests/ and bench/: `format` rewrites the
# files, `format-check` fails (listing what it would change) if any file is not formatted.
FORMAT_FILES = $(shell find src tests bench -name '*.cpp' -o -name '*.hpp')
format: deps
	clang-format -i $(FORMAT_FILES)

format-check: deps
	clang-format --dry-run -Werror $(FORMAT_FILES)

# clang-tidy with the repo's .clang-tidy (WarningsAsErrors) through $(BUILD)/compile_commands.json,
# over the library and front-end sources of src/ (not the *_test.cpp files); the headers they
# include are checked with them (HeaderFilterRegex). g++-only warning flags are ignored.
# `tidy` checks every such file: about 25 CPU minutes, and the tree predates the checks, so it
# reports older findings too. CI runs `tidy-changed`: the sources changed since the merge base with
# TIDY_BASE, reporting what falls on the lines the change touched (clang-tidy-diff); any finding fails.
# TIDY_BASE is the commit named in .ci/tidy-base, the last one CI passed on (a session sets it to the
# commit that landed before its own work), so CI checks everything a submission changed; without the
# file, main (a branch's own changes).
TIDY_BASE ?= $(shell cat .ci/tidy-base 2>/dev/null || echo main)
tidy: build
	run-clang-tidy -p $(BUILD) -j $(JOBS) -quiet -extra-arg=-Wno-unknown-warning-option \
	  '^$(CURDIR)/src/carousel/.*(?<!_test)\.cpp$$'

tidy-changed: build
	git diff -U0 $$(git merge-base HEAD $(TIDY_BASE)) -- 'src/carousel/*.cpp' ':(exclude)*_test.cpp' | \
	  clang-tidy-diff -p1 -path $(BUILD) -j $(JOBS) -quiet -extra-arg=-Wno-unknown-warning-option \
	  > $(BUILD)/tidy-changed.log 2>&1; status=$$?; cat $(BUILD)/tidy-changed.log; \
	  [ $$status -eq 0 ] && ! grep -q 'error:' $(BUILD)/tidy-changed.log

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
