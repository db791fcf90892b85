#!/usr/bin/env bash
# The sanitizer and fuzzing steps of .ci/run (docs/testing.md), each runnable alone:
#
#   scripts/sanitizers.sh asan [BUILD]           ASan+UBSan build of the libraries, the unit tests and
#                                                the fuzz targets (BUILD, default build-asan); runs
#                                                the unit tests and every fuzz target's seed corpus
#   scripts/sanitizers.sh fuzz [SECONDS] [BUILD] each fuzz target for SECONDS (default 20) from its
#                                                seed corpus, two at a time (needs `asan` first);
#                                                libFuzzer's seed is FUZZ_SEED (default 1; 0: random)
#   scripts/sanitizers.sh tsan [BUILD]           TSan build of the libraries and the tracker and
#                                                sampler tests (BUILD, default build-tsan); runs them
#
# Only the libraries and the tests are built (no CLI, Python extension, benchmarks or examples):
# the `make test` and Release steps of .ci/run cover those. One ASan+UBSan build serves both the unit tests
# and the fuzz targets (the libraries carry libFuzzer's coverage instrumentation, which costs the
# tests little and saves a second build of every library).
#
# Compiler: clang, for two reasons. libFuzzer comes with clang. And g++ 12 stops a -Werror build
# under -fsanitize=address on a false positive in libstdc++'s <regex>: -Wmaybe-uninitialized on
# std::function's _M_invoker and _M_manager (bits/std_function.h:405 and :247) when the regex
# compiler moves an NFA state (bits/regex_automaton.h:149, std::__detail::_State<char>). Any file
# that builds a std::regex shows it (Debian's g++ 12.2, -O2 -fsanitize=address; the same warning
# is reported at https://github.com/catchorg/Catch2/issues/2423 and, under ASan on Debian 12,
# https://github.com/sonic-net/sonic-swss/pull/3058). Building with clang keeps every warning an
# error here, as in the other builds of .ci/run, instead of switching one off; the g++ builds of
# .ci/run keep g++'s own warnings checked.
#
# Each error stops the test that meets it (halt_on_error; -fno-sanitize-recover=all at compile
# time, CMakeLists.txt), with a stack trace.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
FUZZ_TARGETS=(log_pair json_summary config_file electricitymaps carbonintensity_uk energidataservice geolocation replay_trace)

# configure BUILD SANITIZERS [extra cmake args]: clang, -O1 with line tables (the sanitizers'
# usual choice: readable stacks, a fraction of -O2's compile time), no CLI-side extras.
configure() {
  local build=$1 sanitize=$2
  shift 2
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DEPOCHWATT_WERROR=ON \
    -DEPOCHWATT_SANITIZE="$sanitize" -DEPOCHWATT_BUILD_PYTHON=OFF -DEPOCHWATT_BUILD_BENCH=OFF \
    -DEPOCHWATT_BUILD_EXAMPLES=OFF "$@" >/dev/null
}

case "${1:-}" in
  asan)
    build=${2:-build-asan}
    configure "$build" address,undefined -DEPOCHWATT_BUILD_FUZZ=ON
    cmake --build "$build" -j"$JOBS" --target epochwatt_unit_tests epochwatt_fuzz
    (cd "$build" && ctest -L '^(unit|fuzz)$' -j"$JOBS" --output-on-failure)
    ;;
  fuzz)
    seconds=${2:-20}
    build=${3:-build-asan}
    work="$build/fuzz-run"
    rm -rf "$work"
    mkdir -p "$work"
    run_one() {
      # New inputs go to a scratch folder (the first one named), never into the committed corpus;
      # a crash, leak or timeout leaves its input in $work/NAME-crash-* (or -leak-, -timeout-).
      local name=$1
      mkdir -p "$work/$name"
      if "$build/fuzz/fuzz_$name" -seed="$FUZZ_SEED" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
           -artifact_prefix="$work/$name-" "$work/$name" "fuzz/corpus/$name" >"$work/$name.log" 2>&1; then
        echo "fuzz_$name: $(grep -E '^Done [0-9]+ runs' "$work/$name.log" | tail -1), $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$name.log" | tail -1 | grep -oE 'cov: [0-9]+')"
      else
        echo "fuzz_$name FAILED; its output ($work/$name.log) ends:"
        tail -n 60 "$work/$name.log"
        return 1
      fi
    }
    export -f run_one
    # A fixed seed (FUZZ_SEED, default 1) makes CI's fuzzing the same walk from the same corpus on
    # every run, so that a commit passes or fails on its own merits and not on the draw; give
    # FUZZ_SEED=0 (libFuzzer: a random seed) and more SECONDS to explore further.
    FUZZ_SEED=${FUZZ_SEED:-1}
    export build work seconds FUZZ_SEED
    printf '%s\n' "${FUZZ_TARGETS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
    ;;
  tsan)
    build=${2:-build-tsan}
    configure "$build" thread
    cmake --build "$build" -j"$JOBS" --target epochwatt_thread_tests
    (cd "$build" && ctest -L '^thread$' -j"$JOBS" --output-on-failure)
    ;;
  *)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
