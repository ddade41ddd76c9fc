#!/usr/bin/env bash
# Merry-Go-Round as processes on loopback (issue 20's benchmark): `carousel gen` writes a small chain,
# `carousel testnet` starts a bridge and N node processes and waits until every node has filled from
# the bridge alone (the time it took is the network's fill time), then a `carousel sync --mgr` client
# syncs and follows the head while `testnet --measure` samples every node: gossip bytes and all
# traffic per node per block, each node's store against its share of the state, RSS and disk.
# Prints the testnet's and the client's JSON, then the client's bytes received over the raw state.
# Usage: bench/mgr_testnet.sh [NODES=32] [ACCOUNTS=2000] [WORKDIR=/tmp/carousel-bench-testnet]
# Environment: CAROUSEL=path/to/carousel (default build/carousel), BLOCK_TIME (2), EPOCH (16),
# MEASURE (seconds, 60).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CAROUSEL:-build/carousel}
N=${1:-32}
A=${2:-2000}
W=${3:-/tmp/carousel-bench-testnet}
BT=${BLOCK_TIME:-2}
E=${EPOCH:-16}
M=${MEASURE:-60}
[ -x "$B" ] || { echo "build first: make build"; exit 1; }
command -v python3 >/dev/null || { echo "needs python3 (Debian package python3)"; exit 1; }
rm -rf "$W" && mkdir -p "$W"
# Enough blocks for the fill, the measurement and the client (one block per BLOCK_TIME).
"$B" gen --accounts "$A" --blocks 2000 --accounts-per-block 20 --slots-per-block 20 --seed 20 --no-db --json \
  --out "$W/chain" >"$W/gen.json"
"$B" testnet --chain "$W/chain" --nodes "$N" --dir "$W/net" --block-time "$BT" --epoch "$E" --measure "$M" --json \
  >"$W/testnet.out" 2>"$W/testnet.err" &
testnet=$!
trap 'kill $testnet 2>/dev/null || true' EXIT
for _ in $(seq 1 900); do [ -s "$W/testnet.out" ] && break; sleep 1; done
[ -s "$W/testnet.out" ] || { echo "the testnet did not fill; see $W/testnet.err"; exit 1; }
read -r bootnode bridge fill < <(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["bootnodes"][0], d["bridge"], d["fill_seconds"])' "$W/testnet.out")
echo "testnet of $N nodes filled from the bridge alone in $fill s"
"$B" sync --mgr --bootnode "$bootnode" --trust-bridge "$bridge" --epoch "$E" --db "$W/client" --follow 4 --json \
  >"$W/client.json" 2>"$W/client.err"
cat "$W/client.json"
wait $testnet || true
tail -n 1 "$W/testnet.out"
python3 - "$W/client.json" "$W/testnet.out" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
t = json.loads(open(sys.argv[2]).read().splitlines()[-1])
print(f"client: {c['stats']['bytes_received']} bytes received for {c['raw_bytes']} raw bytes "
      f"({c['stats']['bytes_received'] / c['raw_bytes']:.2f}x), synced in {c['seconds']:.1f} s")
g = t.get("gossip_bytes_per_block", {})
if g:
    print(f"gossip per node per block: median {g['median'] / 1024:.1f} KiB (min {g['min'] / 1024:.1f}, max {g['max'] / 1024:.1f}); "
          f"RSS median {t['rss_bytes']['median'] / 2**20:.1f} MiB; store median {t['store_bytes']['median'] / 1024:.0f} KiB "
          f"for {t['share_of_state']['median'] * 100:.1f} % of the state; disk median {t['disk_bytes']['median'] / 2**20:.1f} MiB")
PY
