#!/usr/bin/env bash
# What fingerprints cost on a scan with 10,000 findings: 10,000 distinct passwords (guessable:
# each fingerprint is an Argon2id hash) against 10,000 distinct provider keys (random: the fast
# hash), in trees of the same shape, scanned by the same release build.
#
#   bash bench/fingerprints.sh
#
# Environment:
#   BENCH_DIR   where the trees and results go (default /tmp/keyhound-fingerprints)
#   BENCH_RUNS  hyperfine runs per command (default 5)
#   FINDINGS    findings per tree (default 10000)
#   KEYHOUND    a keyhound binary to time instead of building this checkout in release mode
#
# Prints the timings (and writes $BENCH_DIR/results.md); asserts nothing about them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/keyhound-fingerprints}
RUNS=${BENCH_RUNS:-5}
FINDINGS=${FINDINGS:-10000}

if [ -z "${KEYHOUND:-}" ]; then
  cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" >&2
  KEYHOUND=$ROOT/target/release/keyhound
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }

rm -rf "$BENCH_DIR" && mkdir -p "$BENCH_DIR"
python3 - "$BENCH_DIR" "$FINDINGS" <<'PY'
import os, random, sys

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

def body(alphabet, length):
    # Random, and free of what keyhound drops as a placeholder: runs, repeats, few characters.
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(length))
        pairs = zip(s, s[1:])
        if all(abs(ord(a) - ord(b)) > 1 for a, b in pairs) and len(set(s)) > 8 and \
                any(c.isdigit() for c in s) and any(c.islower() for c in s) and \
                any(c.isupper() for c in s) and "x" not in s.lower():
            return s

for kind, line in (("passwords", lambda: 'DB_PASSWORD = "%s"\n' % body(alnum + "!#%*", 14)),
                   ("keys", lambda: 'API_KEY = "pc_%s_%s"\n' % ("live", body(alnum, 24)))):
    for f in range(n // 100):
        d = os.path.join(out, kind, "d%02d" % (f % 50))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "settings%03d.py" % f), "w") as fh:
            fh.writelines(line() for _ in range(100))
PY

for kind in keys passwords; do
  found=$("$KEYHOUND" scan "$BENCH_DIR/$kind" --format json -q | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' || true)
  echo "$kind: $found findings" >&2
done

hyperfine -N -i -w 1 -r "$RUNS" --export-markdown "$BENCH_DIR/results.md" \
  -n "10,000 provider keys (fast hash)" "$KEYHOUND scan $BENCH_DIR/keys --format json -q -o /dev/null" \
  -n "10,000 passwords (Argon2id)" "$KEYHOUND scan $BENCH_DIR/passwords --format json -q -o /dev/null"
cat "$BENCH_DIR/results.md"
