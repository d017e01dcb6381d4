#!/usr/bin/env bash
# Reuse benchmark: a TinyLlama-shaped Q4_0 GGUF (dim 2048, 22 layers, ffn 5632, 32 heads, 4 KV
# heads, vocab 32000, output Q6_K) is re-released with a different general.name, which shifts
# every tensor. v2 is fetched over loopback from a seeder twice in the same run: once with
# --no-reuse (the baseline: everything downloaded), once with v1 registered. Prints bytes
# downloaded, bytes reused and wall time for both, and their ratios.
#
#   scripts/bench_reuse.sh [BUILD_DIR]      (default: build; needs modelswarm and make_test_model)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
cli=$build/cli/modelswarm
gen=$build/tests/make_test_model
for t in "$cli" "$gen"; do
  [ -x "$t" ] || { echo "bench_reuse: $t not built (cmake --build $build --target modelswarm-cli make_test_model)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/bench_reuse.XXXXXX)
seed_pid=
cleanup() {
  [ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null && wait "$seed_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export MODELSWARM_HOME=$work/home

shape=(--dim 2048 --layers 22 --ffn 5632 --heads 32 --kv-heads 4 --vocab 32000 --type Q4_0 --output-type Q6_K)
mkdir -p "$work/pub1/tinyllama" "$work/pub2/tinyllama"
"$gen" --gguf "$work/pub1/tinyllama/model.gguf" "${shape[@]}" --name "TinyLlama-1.1B-Chat" >/dev/null
"$gen" --gguf "$work/pub2/tinyllama/model.gguf" "${shape[@]}" --name "TinyLlama-1.1B-Chat-v1.0 (fixed chat template)" >/dev/null
pub=$("$cli" keygen --no-password -o "$work/key" 2>/dev/null | head -n 1)
"$cli" pack "$work/pub1/tinyllama" -k "$work/key.key" -n tinyllama -V 1 -q >/dev/null
"$cli" pack "$work/pub2/tinyllama" -k "$work/key.key" -n tinyllama -V 2 -q >/dev/null
# Packing registers both; the run must see only what a user who has v1 has.
"$cli" forget tinyllama --all -q >/dev/null

model_bytes=$(stat -c %s "$work/pub2/tinyllama/model.gguf")
piece=$("$cli" diff "$work/pub1/tinyllama" "$work/pub2/tinyllama" --json | sed -n 's/.*"piece_size":\([0-9]*\).*/\1/p')
predicted=$("$cli" diff "$work/pub1/tinyllama" "$work/pub2/tinyllama" --json | sed -n 's/.*"transfer_bytes_pieces":\([0-9]*\).*/\1/p')

"$cli" seed "$work/pub2/tinyllama" --trust "$pub" --json --profile lan --listen 127.0.0.1:0 --no-lsd --no-dht \
  >"$work/seed.out" 2>"$work/seed.err" &
seed_pid=$!
for _ in $(seq 1 100); do grep -q '"listening"' "$work/seed.out" && break; sleep 0.1; done
port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p;s/.*"port":\([0-9]*\).*"event":"listening".*/\1/p' "$work/seed.out" | head -n 1)
[ -n "$port" ] || { echo "bench_reuse: seeder did not start" >&2; cat "$work/seed.err" >&2; exit 1; }

# run_fetch OUT_DIR SOURCE [extra flags]: prints "downloaded reused seconds"
run_fetch() {
  local out=$1 source=$2; shift 2
  local t0 t1
  # Each timed fetch starts with nothing left to write back from the steps before it and both
  # versions' files in the page cache: otherwise whichever fetch came later paid for the others'
  # writeback (runs of the same build took 3 s or 11 s).
  sync
  cat "$work"/pub1/tinyllama/model.gguf "$work"/pub2/tinyllama/model.gguf > /dev/null
  t0=$(date +%s.%N)
  "$cli" fetch "$source" --trust "$pub" -o "$out" --json \
    --profile lan --listen 127.0.0.1:0 --no-lsd --no-dht --peer "127.0.0.1:$port" "$@" >"$out.json" 2>"$out.err"
  t1=$(date +%s.%N)
  local done_line
  done_line=$(grep '"event":"done"' "$out.json")
  local dl ru
  dl=$(echo "$done_line" | sed -n 's/.*"downloaded":\([0-9]*\).*/\1/p')
  ru=$(echo "$done_line" | sed -n 's/.*"reused":\([0-9]*\).*/\1/p')
  echo "${dl:-0} ${ru:-0} $(echo "$t1 - $t0" | bc -l)"
}

"$cli" verify "$work/pub1/tinyllama" --trust "$pub" -q >/dev/null   # registers v1
torrent=$work/pub2/tinyllama/.modelswarm/release.torrent
read -r base_dl base_ru base_s < <(run_fetch "$work/out-baseline" "$torrent" --no-reuse)
# The baseline registered its copy of v2: drop it, or the next fetch would take everything from it.
"$cli" forget "$work/out-baseline/tinyllama" -q >/dev/null
read -r dl ru s < <(run_fetch "$work/out-reuse" "$torrent")
"$cli" verify "$work/out-reuse/tinyllama" --trust "$pub" -q >/dev/null || { echo "bench_reuse: v2 does not verify" >&2; exit 1; }
# From a magnet link the piece layers arrive only after the reused chunks are on disk: libtorrent
# must then hash them at once, not after a peer timeout (this used to take over 40 s).
"$cli" forget "$work/out-reuse/tinyllama" -q >/dev/null
ih=$(sed -n 's/.*"event":"added".*"info_hash":"\([0-9a-f]*\)".*/\1/p;s/.*"info_hash":"\([0-9a-f]*\)".*"event":"added".*/\1/p' "$work/seed.out" | head -n 1)
read -r mdl mru ms < <(run_fetch "$work/out-magnet" "magnet:?xt=urn:btmh:1220$ih&dn=tinyllama")

pct() { echo "scale=3; 100 * $1 / $2" | bc -l; }
printf 'model: TinyLlama-shaped Q4_0 GGUF, %d bytes, piece size %d\n' "$model_bytes" "$piece"
printf 'diff predicts (whole pieces):       %12d bytes (%s%%)\n' "$predicted" "$(pct "$predicted" "$model_bytes")"
printf 'baseline fetch (--no-reuse):        %12d bytes downloaded in %.2f s\n' "$base_dl" "$base_s"
printf 'fetch with v1 registered:           %12d bytes downloaded (%s%% of the model), %d reused, in %.2f s\n' \
  "$dl" "$(pct "$dl" "$model_bytes")" "$ru" "$s"
printf 'same, from a magnet link:           %12d bytes downloaded, %d reused, in %.2f s\n' "$mdl" "$mru" "$ms"
printf 'ratio downloaded reuse/baseline:    %s\n' "$(echo "scale=4; $dl / $base_dl" | bc -l)"
printf 'ratio time reuse/baseline:          %s\n' "$(echo "scale=3; $s / $base_s" | bc -l)"
