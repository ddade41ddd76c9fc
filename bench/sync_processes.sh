#!/usr/bin/env bash
# Fast prefix sync between processes on loopback: `carousel gen` writes a state of N accounts,
# S `carousel serve` processes serve it, one `carousel sync` syncs it in full and in leaf mode.
# Prints, per mode: wall seconds, bytes received against the raw leaf bytes, the verify floor (Keccak
# of every node received, and in leaf mode of every node built from the leaves) and the ratio to it,
# and the syncing process's peak RSS.
# Usage: bench/sync_processes.sh [ACCOUNTS=1000000] [SERVERS=4] [WORKDIR=/tmp/carousel-bench-sync]
# Environment: CAROUSEL=path/to/carousel (default build/carousel), MODES="full leaf" (which modes run).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CAROUSEL:-build/carousel}
N=${1:-1000000}
S=${2:-4}
W=${3:-/tmp/carousel-bench-sync}
[ -x "$B" ] || { echo "build first: make build"; exit 1; }
command -v /usr/bin/time >/dev/null && command -v python3 >/dev/null || { echo "needs /usr/bin/time and python3 (Debian packages time, python3)"; exit 1; }
mkdir -p "$W"
if [ ! -d "$W/chain-$N" ]; then
  echo "generating $N accounts into $W/chain-$N ..."
  "$B" gen --accounts "$N" --blocks 1 --seed 11 --out "$W/chain-$N" --json >"$W/gen-$N.json"
fi
# --prepare compacts the database and builds the path layout the servers scan (a directory prepared
# by an older build, marked only "prepared", has no layout: it is prepared again).
if [ ! -f "$W/chain-$N/prepared-paths" ]; then
  "$B" serve --db "$W/chain-$N" --prepare && touch "$W/chain-$N/prepared" "$W/chain-$N/prepared-paths"
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in $(seq 1 "$S"); do
  "$B" serve --db "$W/chain-$N" --listen 127.0.0.1:0 >"$W/serve-$i.out" 2>"$W/serve-$i.err" &
  pids+=($!)
done
for i in $(seq 1 "$S"); do
  for _ in $(seq 1 300); do [ -s "$W/serve-$i.out" ] && break; sleep 1; done
done
root=$(awk '{print $5}' "$W/serve-1.out")
peers=()
for i in $(seq 1 "$S"); do peers+=(--peer "$(awk '{print $3}' "$W/serve-$i.out")"); done
# CPU seconds (user + system) the servers have used so far: the machine is shared, so CPU time
# tells more than wall time about what a change did.
servers_cpu() {
  local t=0
  for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t $(getconf CLK_TCK)"
}
for mode in ${MODES:-full leaf}; do
  rm -rf "$W/client-$mode"
  read -r cpu0 hz < <(servers_cpu)
  /usr/bin/time -v "$B" sync "${peers[@]}" --root "$root" --db "$W/client-$mode" --mode "$mode" --json \
    >"$W/sync-$mode.json" 2>"$W/time-$mode.txt"
  read -r cpu1 _ < <(servers_cpu)
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$W/time-$mode.txt")
  cpu=$(awk -F: '/User time|System time/ {t += $2} END {print t}' "$W/time-$mode.txt")
  python3 - "$W/sync-$mode.json" "$mode" "$rss" "$cpu" "$(( cpu1 - cpu0 ))" "$hz" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
mode, rss_kb, cpu, server_ticks, hz = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
# Leaf mode counts key + value of every leaf it accepted, plus code: the raw leaf bytes.
print(f"{mode:4} complete={j['complete']} accounts={j['accounts']} slots={j['slots']} "
      f"seconds={j['seconds']:.2f} bytes={j['bytes_received']} "
      f"verify_floor_s={j['verify_floor_s']:.3f} over_floor={j['over_verify_floor']:.1f} peak_rss_mb={rss_kb/1024:.0f} "
      f"client_cpu_s={cpu:.1f} servers_cpu_s={server_ticks/hz:.1f}")
if mode == "leaf":
    raw = j['bytes_account_nodes'] + j['bytes_storage_nodes'] + j['bytes_code']
    print(f"leaf wire/raw = {j['bytes_received']/raw:.3f} (raw leaf bytes {raw})")
PY
done
