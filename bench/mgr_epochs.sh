#!/usr/bin/env bash
# Merry-Go-Round on LocalNet (simulated links): how bytes and sync time against the bandwidth floor,
# boundaries crossed, blocks followed and gossip per node move with E and the client's link.
# One `carousel simulate mgr` run per (link, E); times are simulated, so the machine's load does not
# change them (the runs are deterministic for a seed).
# Usage: bench/mgr_epochs.sh [ACCOUNTS=20000] [LINKS="62500 12000"] [EPOCHS="16 64 256"]
# Environment: CAROUSEL=path/to/carousel (default build/carousel), EXTRA="--bare-max 64 ..." (more options).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CAROUSEL:-build/carousel}
N=${1:-20000}
LINKS=${2:-62500 12000}
EPOCHS=${3:-16 64 256}
[ -x "$B" ] || { echo "build first: make build"; exit 1; }
command -v python3 >/dev/null || { echo "needs python3 (Debian package python3)"; exit 1; }
printf '%-10s %-4s %-14s %-12s %-10s %-9s %-14s\n' "link B/s" "E" "sync/floor" "bytes/raw" "crossed" "followed" "gossip KiB/blk"
for link in $LINKS; do
  for e in $EPOCHS; do
    # shellcheck disable=SC2086
    "$B" simulate mgr --accounts "$N" --client-bandwidth "$link" --epoch "$e" ${EXTRA:-} --json |
      python3 -c '
import json, sys
d = json.load(sys.stdin)
line = "%-10d %-4d %-14.3f %-12.3f %-10d %-9s %-14.1f" % (
    d["client_bandwidth"], d["epoch_length"], d["time_over_floor"], d["bytes_over_raw"], d["boundaries_crossed"],
    "%d/%d" % (d["blocks_followed"], d["blocks_followed"] + d["blocks_missed"]),
    d["gossip_bytes_per_node_per_block"] / 1024)
print(line if d["synced"] else line + "  NOT SYNCED: " + d["failure"])'
  done
done
