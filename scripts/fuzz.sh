#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]     # SECONDS per target, default 60
#
# Environment:
#   FUZZ_TARGETS       targets to run (default: "parse parse_split subject config
#                      store route jetstream")
#   FUZZ_SANITIZER     cargo-fuzz sanitizer (default: address; "none" is faster)
#   FUZZ_RUNS=N        stop each target after N executions instead (SECONDS is
#                      then only an upper bound): FUZZ_RUNS=10000000 for the long
#                      campaign
#   FUZZ_GROW_CORPUS=1 save new interesting inputs into fuzz/corpus/<target>/
#                      (default: they go to fuzz/target/corpus-work/<target>/,
#                      and the kept corpus is only read)
#
# Only a stable toolchain is available, so RUSTC_BOOTSTRAP=1 lets it accept the
# nightly-only flags cargo-fuzz passes. Crashes are saved in fuzz/artifacts/.
# Exits non-zero if any target fails to build or finds a crash.
set -uo pipefail

seconds="${1:-60}"
targets="${FUZZ_TARGETS:-parse parse_split subject config store route jetstream}"
sanitizer="${FUZZ_SANITIZER:-address}"

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz (compiles for a few minutes)" >&2
    cargo install cargo-fuzz --locked || exit 1
fi

failed=()
for target in $targets; do
    features=()
    # The config and jetstream targets need crates the others do not build;
    # see fuzz/Cargo.toml.
    if [ "$target" = config ] || [ "$target" = jetstream ]; then
        features=(--features "$target")
    fi
    kept="fuzz/corpus/$target"
    mkdir -p "$kept"
    if [ "${FUZZ_GROW_CORPUS:-0}" = 1 ]; then
        corpora=("$kept")
    else
        work="fuzz/target/corpus-work/$target"
        mkdir -p "$work"
        corpora=("$work" "$kept")
    fi
    echo "fuzz.sh: $target for ${seconds}s" >&2
    runs=()
    if [ -n "${FUZZ_RUNS:-}" ]; then
        runs=(-runs="$FUZZ_RUNS")
    fi
    if ! cargo fuzz run --sanitizer "$sanitizer" "${features[@]}" "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" "${runs[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: all targets ran ${seconds}s without a crash" >&2
