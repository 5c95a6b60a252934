#!/usr/bin/env bash
# End-to-end benchmark of `keyhound scan` against the floor (ripgrep over every rule keyword) and
# peer scanners, all measured in the same run on the same generated tree.
#
#   bash bench/scan.sh
#
# Environment:
#   BENCH_DIR        where the corpus and results go (default /tmp/keyhound-bench)
#   BENCH_WARMUP     hyperfine warmup runs (default 2)
#   BENCH_RUNS       hyperfine minimum runs (default 10)
#   BENCH_PEERS      space-separated peers to time (default: gitleaks betterleaks kingfisher ripsecrets)
#   BENCH_NO_PEERS=1 time keyhound and rg only
#   PEERS_DIR        where install-peers.sh puts the peers (default: `peers` beside the repository)
#   INSTALL_PEERS    path of install-peers.sh (default: ../shared/bench/install-peers.sh)
#
# Results: $BENCH_DIR/results/ (hyperfine JSON and Markdown, /usr/bin/time -v logs, each tool's
# findings, summary.md). Timings are printed, never asserted: machines are noisy, so read the
# ratios against the floor and the peers measured in the same run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/keyhound-bench}
WARMUP=${BENCH_WARMUP:-2}
RUNS=${BENCH_RUNS:-10}
PEERS=${BENCH_PEERS:-gitleaks betterleaks kingfisher ripsecrets}
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/.." && pwd)/peers}
INSTALL_PEERS=${INSTALL_PEERS:-$ROOT/../shared/bench/install-peers.sh}
TREE=$BENCH_DIR/tree
MANIFEST=$TREE.planted.json
SMALL=$TREE.small.py
OUT=$BENCH_DIR/results
BIN=$BENCH_DIR/bin

log() { printf '\n== %s\n' "$*" >&2; }

# ---- tools -----------------------------------------------------------------------------------
apt_updated=0
need_apt() {  # need_apt COMMAND PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq "$2" >/dev/null
}
need_apt hyperfine hyperfine
need_apt rg ripgrep
[ -x /usr/bin/time ] || need_apt /usr/bin/time time

log "building keyhound (release)"
(cd "$ROOT" && cargo build --release --quiet)
# Time a private copy: others may rebuild target/ while this runs.
mkdir -p "$BIN" "$OUT"
cp "$ROOT/target/release/keyhound" "$BIN/keyhound"
KH=$BIN/keyhound
rm -f "$OUT"/*

# ---- corpus ----------------------------------------------------------------------------------
gen_sum=$(sha256sum "$ROOT/bench/gen_corpus.py" | cut -c1-16)
if [ ! -f "$MANIFEST" ] || [ "$(cat "$TREE.gen" 2>/dev/null)" != "$gen_sum" ]; then
  log "generating corpus into $TREE"
  python3 "$ROOT/bench/gen_corpus.py" "$TREE" --force
  echo "$gen_sum" > "$TREE.gen"
fi
# Read the tree once so that every tool meets a warm page cache.
find "$TREE" -type f -exec cat {} + > /dev/null
cat "$SMALL" > /dev/null

# ---- the floor: every rule keyword, as ripgrep literals ----------------------------------------
"$KH" rules list --format json | python3 -c '
import json, sys
# ripgrep matches within a line: a keyword that spans lines is searched as its lines.
kws = sorted({part.strip() for r in json.load(sys.stdin) for k in r["keywords"]
              for part in k.replace("\r", "\n").split("\n") if len(part.strip()) >= 3})
print("\n".join(kws))' > "$OUT/keywords.txt"
# One trivial rule that never matches: `keyhound scan` with it costs the walk, the reads and
# the binary check, so the difference to the full run is the matching.
cat > "$OUT/trivial.toml" <<'EOF'
[provider]
name = "Bench"
docs = "https://example.org"

[[rule]]
id = "bench-trivial"
name = "Never matches"
description = "Walk and read cost only."
severity = "low"
keywords = ["zqxjvk"]
regex = '''(zqxjvk[0-9]{24})'''
EOF

# ---- peers -----------------------------------------------------------------------------------
declare -a PEER_OK=()
if [ "${BENCH_NO_PEERS:-0}" != 1 ]; then
  if [ ! -x "$PEERS_DIR/bin/gitleaks" ] && [ -f "$INSTALL_PEERS" ]; then
    log "installing peers ($INSTALL_PEERS)"
    PEERS_DIR=$PEERS_DIR bash "$INSTALL_PEERS" || echo "install-peers.sh failed; timing what is there" >&2
  fi
  for p in $PEERS; do
    if [ -x "$PEERS_DIR/bin/$p" ] && "$PEERS_DIR/bin/$p" --version >/dev/null 2>&1; then
      PEER_OK+=("$p")
    else
      echo "peer $p not installed; skipped" >&2
    fi
  done
fi
P=$PEERS_DIR/bin

# The command each tool runs on a target; every one writes its full report (JSON where the tool
# has it) so that no tool is timed doing less than the others. Findings exit codes are ignored.
tool_cmd() {  # tool_cmd TOOL TARGET REPORT
  local t=$2 r=$3
  case $1 in
    keyhound)      echo "$KH scan $t --format json --exit-code 0" ;;
    keyhound-walk) echo "$KH scan $t --format json --exit-code 0 --no-builtin-rules --rules $OUT/trivial.toml" ;;
    keyhound-j1)   echo "$KH scan $t --format json --exit-code 0 -j 1" ;;
    rg)            echo "rg -i -F -c --no-ignore --hidden -f $OUT/keywords.txt $t" ;;
    gitleaks)      echo "$P/gitleaks dir $t --no-banner -l error -f json -r $r --exit-code 0" ;;
    betterleaks)   echo "$P/betterleaks $t --no-banner -s -l error -o $r --exit-code 0" ;;
    kingfisher)    echo "$P/kingfisher scan $t --no-validate --no-update-check --format json --output $r" ;;
    ripsecrets)    echo "$P/ripsecrets $t" ;;
  esac
}

# ---- 1. the tree -------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "timing the tree ($(find "$TREE" -type f | wc -l) files, $(du -sh --apparent-size "$TREE" | cut -f1))"
args=()
for t in keyhound keyhound-walk keyhound-j1 rg "${PEER_OK[@]}"; do
  args+=(-n "$t" "$(tool_cmd "$t" "$TREE" "$OUT/timing-$t.json")")
done
hyperfine -N -i --warmup "$WARMUP" --min-runs "$RUNS" --style basic \
  --export-json "$OUT/tree.json" --export-markdown "$OUT/tree.md" "${args[@]}"

# ---- 2. one small file ---------------------------------------------------------------------------
log "timing one small file ($(wc -c < "$SMALL") bytes)"
args=(-n "keyhound --version (process start)" "$KH --version"
      -n "keyhound rules list (start + rule load)" "$KH rules list --format json"
      -n "keyhound-walk (start + one trivial rule)" "$(tool_cmd keyhound-walk "$SMALL" -)")
for t in keyhound rg gitleaks; do
  if [ "$t" = gitleaks ] && [[ " ${PEER_OK[*]} " != *" gitleaks "* ]]; then continue; fi
  args+=(-n "$t" "$(tool_cmd "$t" "$SMALL" "$OUT/timing-small-$t.json")")
done
hyperfine -N -i --warmup 5 --min-runs 30 --style basic \
  --export-json "$OUT/small.json" --export-markdown "$OUT/small.md" "${args[@]}"

# ---- 3. peak memory and findings: one run of each under /usr/bin/time -v ----------------------
log "peak memory and findings"
for t in keyhound keyhound-walk rg "${PEER_OK[@]}"; do
  report=$OUT/findings-$t.json
  # shellcheck disable=SC2046
  /usr/bin/time -v -o "$OUT/time-$t.txt" $(tool_cmd "$t" "$TREE" "$report") > "$OUT/stdout-$t.txt" 2> "$OUT/stderr-$t.txt" || true
done
cp "$OUT/stdout-keyhound.txt" "$OUT/findings-keyhound.json"
cp "$OUT/stdout-ripsecrets.txt" "$OUT/findings-ripsecrets.txt" 2>/dev/null || true
"$KH" scan "$SMALL" --format json --exit-code 0 > "$OUT/findings-small-keyhound.json" 2>/dev/null

# ---- 4. summary ----------------------------------------------------------------------------------
{
  echo "keyhound: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$( (cd "$ROOT" && git status --porcelain src rules Cargo.toml 2>/dev/null | grep -q .) && echo ' + uncommitted changes')"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  for p in "${PEER_OK[@]}"; do echo "$p: $("$P/$p" --version 2>&1 | head -1)"; done
  echo "rg: $(rg --version | head -1)"
  echo "hyperfine: $(hyperfine --version)"
  echo "load average (1/5/15 min) before timing: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/env.txt"
python3 "$ROOT/bench/summarize.py" "$OUT" "$MANIFEST" | tee "$OUT/summary.md"
