#!/usr/bin/env bash
# Runs the libFuzzer harnesses (tests/fuzz/*_fuzz.cpp, built by CMake with CAROUSEL_BUILD_FUZZERS
# into build-fuzz/: `make build-fuzz`), each for SECONDS, starting from the checked-in corpus
# tests/fuzz/corpus/<harness>/ (written by build-fuzz/make_seeds tests/fuzz/corpus; run it again
# after changing a message format or fuzz_world.hpp).
#   wire_fuzz   every decoder of peer bytes, round trips, the range/multiproof verifiers
#   sync_fuzz   ChunkServer on fuzzed requests, PrefixSync on fuzzed answers
#   frame_fuzz  TcpTransport's framing (net::FrameReader) on arbitrary byte streams
#   mgr_fuzz    a seeded MgrNode's Merry-Go-Round handlers on frames from fuzzed, authenticated peers
#   store_fuzz  RocksKV + StateStore opening a damaged database directory
#   enr_fuzz    NodeRecord (EIP-778) decoding, text form and signing
#   handshake_fuzz         the connection handshake (dht::Handshake) on fuzzed frames
#   discovery_packet_fuzz  the signed discovery packet envelope (dht::DiscoveryPacket)
# Usage: scripts/fuzz.sh [SECONDS=60] [BUILD_DIR=build-fuzz]   (`make fuzz FUZZ_SECONDS=N`)
# A finding stops the run; libFuzzer prints the input file (crash-…) to reproduce it with
# build-fuzz/<harness> <file>. New inputs collect in build-fuzz/corpus-<harness>/ (copy the useful
# ones into tests/fuzz/corpus/<harness>/ to keep them).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
OUT=${2:-build-fuzz}
HARNESSES=$(cd tests/fuzz && ls -- *_fuzz.cpp | sed 's/\.cpp$//')
for h in $HARNESSES; do
  mkdir -p "$OUT/corpus-$h" "tests/fuzz/corpus/$h"
  echo "== $h: ${SECONDS_EACH} s"
  rc=0
  "$OUT/$h" "$OUT/corpus-$h" "tests/fuzz/corpus/$h" -max_len=65536 -max_total_time="$SECONDS_EACH" \
    -print_final_stats=1 -artifact_prefix="$OUT/" >"$OUT/$h.log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|ERROR|SUMMARY|CHECK failed|Test unit written" "$OUT/$h.log" || true
  [ "$rc" -eq 0 ] || { echo "$h: FINDING (exit $rc; whole log $OUT/$h.log, the input in $OUT/)"; exit 1; }
done
echo "no findings"
