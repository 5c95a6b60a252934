#!/usr/bin/env bash
# Benchmark of `keyhound history` on a generated repository, beside the floor (every object
# decompressed once by `git cat-file --batch-all-objects --batch`) and gitleaks' git mode,
# all measured in the same run.
#
#   bash bench/history.sh
#
# Environment:
#   BENCH_DIR        where repositories and results go (default /tmp/keyhound-bench-history)
#   BENCH_COMMITS    commits in the main repository (default 20000)
#   BENCH_RUNS       hyperfine minimum runs (default 5)
#   BENCH_NO_PEERS=1 time keyhound and the floor only
#   PEERS_DIR        where install-peers.sh put the peers (default: `peers` beside the repository)
#
# It also scans repositories of a quarter and a half of the commits, to show whether memory
# stays flat as history grows. Timings are printed, never asserted.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/keyhound-bench-history}
COMMITS=${BENCH_COMMITS:-20000}
RUNS=${BENCH_RUNS:-5}
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/.." && pwd)/peers}
OUT=$BENCH_DIR/results
mkdir -p "$BENCH_DIR" "$OUT"

log() { printf '\n== %s\n' "$*" >&2; }
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

log "building keyhound (release)"
(cd "$ROOT" && cargo build --release --quiet)
KH=$BENCH_DIR/keyhound
cp "$ROOT/target/release/keyhound" "$KH"

make_repo() {  # make_repo DIR COMMITS
  local dir=$1 n=$2
  [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$(sha256sum "$ROOT/bench/gen_history.py" | cut -c1-16)-$n" ] && return
  log "generating $n commits into $dir"
  rm -rf "$dir"
  git init -q "$dir"
  python3 "$ROOT/bench/gen_history.py" --commits "$n" --manifest "$dir.planted.json" | git -C "$dir" fast-import --quiet
  git -C "$dir" checkout -q main
  # One pack with deltas, as a clone has.
  git -C "$dir" repack -adq
  sha256sum "$ROOT/bench/gen_history.py" | cut -c1-16 | sed "s/\$/-$n/" > "$dir/.done"
}

REPO=$BENCH_DIR/repo-$COMMITS
make_repo "$REPO" "$COMMITS"
git -C "$REPO" count-objects -vH | sed 's/^/  /'

GITLEAKS=""
if [ -z "${BENCH_NO_PEERS:-}" ]; then
  for c in "$PEERS_DIR/bin/gitleaks" "$(command -v gitleaks || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && GITLEAKS=$c && break
  done
fi

log "timing (hyperfine, $RUNS runs)"
cmds=(
  -n "git cat-file (floor)" "git -C $REPO cat-file --batch-all-objects --batch > /dev/null"
  -n "keyhound history" "$KH history $REPO --format json -q > /dev/null"
)
hyperfine --warmup 1 --min-runs "$RUNS" --export-json "$OUT/history.json" --export-markdown "$OUT/history.md" "${cmds[@]}"

log "phases of one keyhound run (-vv)"
"$KH" history "$REPO" --format json -vv > "$OUT/findings.json" 2> "$OUT/phases.txt" || true
cat "$OUT/phases.txt"

log "recall against the planted keys"
python3 - "$REPO.planted.json" "$OUT/findings.json" <<'PY'
import json, sys
planted = json.load(open(sys.argv[1]))
found = json.load(open(sys.argv[2]))
found = found["findings"] if isinstance(found, dict) else found
paths = {(l["path"]) for f in found for l in f["locations"]}
hit = sum(1 for p in planted if p["path"] in paths)
print(f"planted {len(planted)}, found {hit}; findings {len(found)}, not planted {len(found) - hit}")
PY

log "peak memory as history grows"
# keyhound's own peak comes from -vv (VmHWM): /usr/bin/time's max RSS also covers the
# `git cat-file` child, whose peak (the floor's own) is reported beside it.
for n in $((COMMITS / 4)) $((COMMITS / 2)) "$COMMITS"; do
  make_repo "$BENCH_DIR/repo-$n" "$n"
  /usr/bin/time -v "$KH" history "$BENCH_DIR/repo-$n" --format json -vv > /dev/null 2> "$OUT/time-$n.txt" || true
  own=$(sed -n 's/.*peak memory \([0-9]*\) kB.*/\1/p' "$OUT/time-$n.txt")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time-$n.txt")
  wall=$(awk -F': ' '/Elapsed/ {print $2}' "$OUT/time-$n.txt")
  printf '  %6d commits: keyhound peak %6s KiB, with git cat-file child %6s KiB, wall %s\n' "$n" "$own" "$rss" "$wall"
done
/usr/bin/time -v git -C "$REPO" cat-file --batch-all-objects --batch > /dev/null 2> "$OUT/time-floor.txt"
printf '  floor (git cat-file alone): max RSS %s KiB\n' "$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time-floor.txt")"
if [ -n "$GITLEAKS" ]; then
  # gitleaks reads `git log -p`: minutes on this history, so it is timed once, not by hyperfine.
  log "gitleaks git mode (one run)"
  /usr/bin/time -v "$GITLEAKS" git "$REPO" --no-banner --exit-code 0 --report-format json --report-path "$OUT/gitleaks.json" > /dev/null 2> "$OUT/time-gitleaks.txt" || true
  printf '  gitleaks %d commits: max RSS %s KiB, wall %s, findings %s\n' "$COMMITS" \
    "$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time-gitleaks.txt")" \
    "$(awk -F': ' '/Elapsed/ {print $2}' "$OUT/time-gitleaks.txt")" \
    "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$OUT/gitleaks.json" 2>/dev/null || echo '?')"
fi
