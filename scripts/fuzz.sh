#!/usr/bin/env bash
# Coverage-guided fuzzing of everything that takes peer bytes (libFuzzer, with AddressSanitizer and
# UndefinedBehaviorSanitizer), outside the CMake build: clang compiles the sources the harnesses
# need into build-fuzz/ (make-style: only what changed), then each harness runs for SECONDS.
#   tests/fuzz/wire_fuzz.cpp  every message, node, diff and region-item decoder, round trips, and
#                             the range/multiproof verifiers
#   tests/fuzz/sync_fuzz.cpp  ChunkServer on fuzzed requests, PrefixSync on fuzzed answers
# Usage: scripts/fuzz.sh [SECONDS=60]   (`make fuzz FUZZ_SECONDS=N`)
# A finding stops the run; libFuzzer prints the input file (crash-…) to reproduce it with
# build-fuzz/<harness> <file>. Corpora grow in build-fuzz/corpus-<harness>.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
OUT=build-fuzz
CXX=${FUZZ_CXX:-clang++}
S=src/carousel
FLAGS=(-std=c++20 -O1 -g -Isrc -fno-sanitize-recover=undefined)
INSTRUMENT=(-fsanitize=fuzzer-no-link,address,undefined)
SOURCES=(
  $S/core/{hex,nibbles,rlp,rlp_item,keccak,keccak_scalar,keccak_avx2,keccak_avx512}.cpp
  $S/proto/{messages,mgr_messages,dht_messages}.cpp
  $S/trie/{node,proof,hash_builder,trie,node_store}.cpp
  $S/state/{state_diff,account,u256,chain_generator,world_state,genesis,roots}.cpp
  $S/store/{kv,status}.cpp
  $S/prefix/{chunk_server,prefix_sync,trie_sync,leaf_sync,paths}.cpp
  $S/mgr/region_item.cpp $S/dht/node_id.cpp
)
mkdir -p "$OUT/obj"
objects=()
compile() {  # SOURCE OBJECT
  local extra=()
  case "$1" in
    *keccak_avx2.cpp) extra=(-march=x86-64-v3) ;;
    *keccak_avx512.cpp) extra=(-march=x86-64-v4) ;;
  esac
  # Rebuilt when the source or any carousel header is newer than the object.
  if [ ! -f "$2" ] || [ "$1" -nt "$2" ] || [ -n "$(find src -name '*.hpp' -newer "$2" -print -quit)" ]; then
    "$CXX" "${FLAGS[@]}" "${INSTRUMENT[@]}" "${extra[@]}" -c "$1" -o "$2"
  fi
}
echo "compiling $(( ${#SOURCES[@]} )) sources with $CXX (libFuzzer + ASan + UBSan) into $OUT/ ..."
pids=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(echo "$src" | tr '/' '_').o"
  objects+=("$obj")
  compile "$src" "$obj" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$(nproc)" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
for h in wire_fuzz sync_fuzz; do
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined "tests/fuzz/$h.cpp" "${objects[@]}" -o "$OUT/$h"
done
"$CXX" "${FLAGS[@]}" -fsanitize=address,undefined tests/fuzz/make_seeds.cpp "${objects[@]}" -o "$OUT/make_seeds"
mkdir -p "$OUT/seeds-wire_fuzz" "$OUT/seeds-sync_fuzz" "$OUT/corpus-wire_fuzz" "$OUT/corpus-sync_fuzz"
"$OUT/make_seeds" "$OUT/seeds-wire_fuzz" "$OUT/seeds-sync_fuzz"
for h in wire_fuzz sync_fuzz; do
  echo "== $h: ${SECONDS_EACH} s"
  rc=0
  "$OUT/$h" "$OUT/corpus-$h" "$OUT/seeds-$h" -max_len=65536 -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$OUT/" >"$OUT/$h.log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|ERROR|SUMMARY|CHECK failed|Test unit written" "$OUT/$h.log" || true
  [ "$rc" -eq 0 ] || { echo "$h: FINDING (exit $rc; whole log $OUT/$h.log, the input in $OUT/)"; exit 1; }
done
echo "no findings"
