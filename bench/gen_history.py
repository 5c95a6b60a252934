#!/usr/bin/env python3
"""Writes a git fast-import stream for a synthetic repository history, deterministically.

    python3 bench/gen_history.py --commits 20000 --files 3000 | git -C REPO fast-import --quiet

A few thousand source-like files; each commit edits one to four of them (now and then adds or
deletes one), so the history has tens of thousands of blob versions with small deltas, like a
real project's. A handful of keys are planted: added in one commit and, for most, removed some
commits later, so only a scan of the history finds them. Key-shaped strings are assembled from
parts at run time; the manifest of planted keys goes to --manifest (JSON).
"""
import argparse
import json
import random
import sys

WORDS = ("request response handler config client server token_type session user account "
         "payload buffer reader writer cache index store record event queue worker retry "
         "timeout limit offset cursor batch stream parser builder context logger metric").split()
EXTS = ["py", "js", "ts", "go", "rs", "java", "yaml", "json", "md", "toml"]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def line(rng):
    kind = rng.randrange(10)
    a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
    if kind == 0:
        return f"    headers['Authorization'] = f'Bearer {{{a}_{b}}}'"
    if kind == 1:
        return f"    {a}_password = os.environ['{b.upper()}_PASSWORD']"
    if kind == 2:
        return f"    # {a} {b} {c}: see docs for the {a} token lifecycle"
    if kind == 3:
        return f"    {a}_{b} = {rng.randrange(1_000_000)}  # {c}"
    return f"    {a}.{b}({c}_{rng.randrange(100)}, {rng.choice(WORDS)}=True)"


def body(rng, n):
    while True:
        s = "".join(rng.choice(ALNUM) for _ in range(n))
        if any(ch.isdigit() for ch in s) and any(ch.isupper() for ch in s) and any(ch.islower() for ch in s):
            return s


def planted_key(rng, kind):
    if kind == "pc":
        return "pc" + "_live_" + body(rng, 24)
    if kind == "gh":
        return "gh" + "p_" + body(rng, 36)
    if kind == "aws":
        return "AK" + "IA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    return "sk" + "_live_" + body(rng, 24)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--manifest")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout.buffer

    files = {}
    for i in range(args.files):
        d = f"pkg{i % 40}/mod{i % 7}"
        path = f"{d}/file{i}.{EXTS[i % len(EXTS)]}"
        files[path] = [line(rng) for _ in range(rng.randrange(20, 90))]
    paths = sorted(files)
    plant_at = {args.commits * k // 9 + 3: k for k in range(1, 9)}
    planted = []
    pending_removal = {}
    mark = 0
    when = 1_600_000_000

    def data(text):
        raw = text.encode()
        out.write(b"data %d\n" % len(raw))
        out.write(raw)
        out.write(b"\n")

    for n in range(1, args.commits + 1):
        when += 97
        mark += 1
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % mark)
        out.write(b"committer Bench <bench@example.org> %d +0000\n" % when)
        data(f"commit {n}")
        if n == 1:
            changed = paths
        else:
            changed = [rng.choice(paths) for _ in range(rng.randrange(1, 5))]
            if n % 97 == 0:
                new = f"pkg{rng.randrange(40)}/new{n}.{rng.choice(EXTS)}"
                files[new] = [line(rng) for _ in range(rng.randrange(10, 40))]
                paths.append(new)
                changed.append(new)
            if n % 131 == 0 and len(paths) > 10:
                gone = paths.pop(rng.randrange(len(paths)))
                del files[gone]
                out.write(f"D {gone}\n".encode())
                changed = [p for p in changed if p != gone]
            for p in changed:
                lines = files[p]
                for _ in range(rng.randrange(1, 4)):
                    i = rng.randrange(len(lines) + 1)
                    if rng.random() < 0.3 and lines:
                        lines[min(i, len(lines) - 1)] = line(rng)
                    else:
                        lines.insert(i, line(rng))
        if n in plant_at:
            kind = ["pc", "gh", "aws", "stripe"][plant_at[n] % 4]
            key = planted_key(rng, kind)
            p = rng.choice(paths)
            files[p].insert(0, f"API_KEY = '{key}'")
            changed = list(changed) + [p]
            planted.append({"commit": n, "path": p, "kind": kind})
            if plant_at[n] % 3:
                pending_removal[n + 500] = (p, key)
        if n in pending_removal:
            p, key = pending_removal.pop(n)
            if p in files:
                files[p] = [l for l in files[p] if key not in l]
                changed = list(changed) + [p]
        for p in dict.fromkeys(changed):
            out.write(f"M 100644 inline {p}\n".encode())
            data("\n".join(files[p]) + "\n")
        out.write(b"\n")
    if args.manifest:
        with open(args.manifest, "w") as f:
            json.dump(planted, f, indent=1)


if __name__ == "__main__":
    main()
