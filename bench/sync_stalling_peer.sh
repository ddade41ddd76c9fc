#!/usr/bin/env bash
# A prefix sync with one stalling peer beside an honest one, against the honest peer alone (issue 18):
# `carousel gen` writes N accounts, one `carousel serve` serves them, and a stalling peer (a listener
# that takes every request and never answers, python3) sits beside it. Runs RUNS syncs of each kind,
# alternating, and prints every run's seconds (the sync's own `seconds`) and the medians.
# Usage: bench/sync_stalling_peer.sh [ACCOUNTS=100000] [RUNS=3] [WORKDIR=/tmp/carousel-bench-stall]
# Environment: CAROUSEL=path/to/carousel (default build/carousel), MODE=full|leaf (default full).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CAROUSEL:-build/carousel}
N=${1:-100000}
RUNS=${2:-3}
W=${3:-/tmp/carousel-bench-stall}
MODE=${MODE:-full}
[ -x "$B" ] || { echo "build first: make build"; exit 1; }
command -v python3 >/dev/null || { echo "needs python3"; exit 1; }
mkdir -p "$W"
if [ ! -d "$W/chain-$N" ]; then
  echo "generating $N accounts into $W/chain-$N ..."
  "$B" gen --accounts "$N" --blocks 1 --seed 11 --out "$W/chain-$N" --json >"$W/gen-$N.json"
fi
rm -f "$W/serve.out" "$W/stall.port"  # what an earlier run left would name dead ports
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"$B" serve --db "$W/chain-$N" --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
pids+=($!)
# The stalling peer: accepts, reads everything, answers nothing.
python3 - "$W/stall.port" <<'PY' &
import socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def drain(c):
    while c.recv(1 << 16):
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
pids+=($!)
for _ in $(seq 1 300); do [ -s "$W/serve.out" ] && [ -s "$W/stall.port" ] && break; sleep 1; done
root=$(awk '{print $5}' "$W/serve.out")
honest=$(awk '{print $3}' "$W/serve.out")
stall="127.0.0.1:$(cat "$W/stall.port")"
run() {  # run NAME PEERS...
  local name=$1; shift
  rm -rf "$W/client"
  "$B" sync "$@" --root "$root" --db "$W/client" --mode "$MODE" --json >"$W/$name.json" 2>/dev/null
  # Complete, and every peer was connected (a stalling peer that was never reached measures nothing).
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["complete"]; assert all("requests" in p for p in j["peers"].values()), j["peers"]; print("%.2f" % j["seconds"])' "$W/$name.json"
}
alone=()
stalled=()
for i in $(seq 1 "$RUNS"); do
  alone+=("$(run alone --peer "$honest")")
  stalled+=("$(run stalled --peer "$stall" --peer "$honest")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ma=$(median "${alone[@]}")
ms=$(median "${stalled[@]}")
echo "mode=$MODE accounts=$N honest alone: ${alone[*]} s (median $ma); stalling + honest: ${stalled[*]} s (median $ms); ratio $(python3 -c "print('%.2f' % ($ms / $ma))")"
