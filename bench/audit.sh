#!/usr/bin/env bash
# Benchmark of `keyhound audit`: 50 and 200 generated repositories, audited as one shard
# (`--parallel-repos 2`) and as two shards (two processes side by side, `--parallel-repos 1`
# each), then merged. Prints repositories per minute, GiB of blobs per minute and peak memory
# (the largest single process: audit or one of its `keyhound history` children).
#
#   bash bench/audit.sh
#
# Environment: BENCH_DIR (default /tmp/keyhound-bench-audit), BENCH_SIZES (default "50 200"),
# KEYHOUND_BIN (a keyhound binary to time instead of building the release one). Timings are printed, never asserted.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/keyhound-bench-audit}
mkdir -p "$BENCH_DIR"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${KEYHOUND_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi
KH=${KEYHOUND_BIN:-$ROOT/target/release/keyhound}
SIZES=${BENCH_SIZES:-50 200}

python3 "$ROOT/bench/gen_repos.py" "$BENCH_DIR/repos" 200
python3 "$ROOT/bench/gen_repos.py" "$BENCH_DIR/repos" 50

printf '| repositories | shards | wall s | repos/min | GiB blobs/min | peak RSS MiB | findings |\n'
printf '|---|---|---|---|---|---|---|\n'
for n in $SIZES; do
  list=$BENCH_DIR/repos/repos-$n.txt
  for shards in 1 2; do
    out=$BENCH_DIR/out-$n-$shards
    rm -rf "$out" && mkdir -p "$out"
    start=$(date +%s.%N)
    pids=()
    for ((i = 0; i < shards; i++)); do
      par=$((2 / shards))
      /usr/bin/time -f '%M' -o "$out/rss-$i" "$KH" audit --repos "$list" --shard "$i/$shards" \
        --parallel-repos "$par" --workdir "$out/work-$i" --output "$out/shard-$i.jsonl" --quiet &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || [ $? -le 1 ]; done
    end=$(date +%s.%N)
    findings=$("$KH" merge "$out"/shard-*.jsonl --format json --quiet | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))') || true
    python3 - "$out" "$n" "$shards" "$start" "$end" "$findings" <<'PY'
import glob, json, sys
out, n, shards, start, end, findings = sys.argv[1:]
wall = float(end) - float(start)
repos = bytes_ = 0
for f in glob.glob(out + "/shard-*.jsonl"):
    for line in open(f):
        r = json.loads(line)
        if r["type"] == "repository":
            repos += 1
            bytes_ += r["bytes"]
assert repos == int(n), f"{repos} repository records for {n} repositories"
rss = max(int(open(p).read().split()[-1]) for p in glob.glob(out + "/rss-*")) / 1024
print(f"| {n} | {shards} | {wall:.1f} | {repos / wall * 60:.0f} | {bytes_ / 2**30 / wall * 60:.3f} | {rss:.0f} | {findings} |")
PY
  done
done
