#!/usr/bin/env python3
"""Summarize a bench/scan.sh run: timings with ratios, peak memory, recall of planted keys.

    python3 bench/summarize.py RESULTS_DIR MANIFEST

Prints Markdown. RESULTS_DIR is what scan.sh wrote ($BENCH_DIR/results); MANIFEST is the
generator's DIR.planted.json.
"""

import collections
import json
import os
import re
import sys

TREE_TARGET_S = 0.15
SMALL_TARGET_S = 0.010
MEM_TARGET_MIB = 100


def load(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def hyperfine(path):
    data = load(path, {"results": []})
    return {r["command"]: r for r in data["results"]}


def time_v(path):
    """(max RSS in MiB, wall seconds) from a /usr/bin/time -v log."""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return None, None
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    secs = None
    if wall:
        secs = 0.0
        for part in wall.group(1).split(":"):
            secs = secs * 60 + float(part)
    return (int(rss.group(1)) / 1024 if rss else None), secs


def findings(tool, out):
    """Every reported location as (path, first line, last line, rule)."""
    rows = []
    if tool == "keyhound":
        report = load(os.path.join(out, "findings-keyhound.json"), []) or []
        # schema_version 2 is an object with `findings`; version 1 was the bare array.
        for f in report.get("findings", []) if isinstance(report, dict) else report:
            for loc in f.get("locations") or [f]:
                rows.append((loc["path"], loc["line"], loc.get("end_line", loc["line"]), f["rule_id"],
                             f.get("fingerprint")))
    elif tool == "gitleaks":
        for f in load(os.path.join(out, "findings-gitleaks.json"), []) or []:
            rows.append((f["File"], f["StartLine"], f["EndLine"], f["RuleID"], None))
    elif tool == "betterleaks":
        data = load(os.path.join(out, "findings-betterleaks.json"), {}) or {}
        for f in data.get("findings", []):
            loc = f["location"]
            rows.append((loc["path"], loc["start_line"], loc.get("end_line", loc["start_line"]), f["rule_id"], None))
    elif tool == "kingfisher":
        data = load(os.path.join(out, "findings-kingfisher.json"), {}) or {}
        for f in data.get("findings", []):
            fd = f["finding"]
            rows.append((fd["path"], fd["line"], fd["line"], f["rule"]["id"], None))
    elif tool == "ripsecrets":
        try:
            text = open(os.path.join(out, "findings-ripsecrets.txt"), encoding="utf-8", errors="replace").read()
        except OSError:
            return None
        for line in text.splitlines():
            m = re.match(r"^(.*?):(\d+):", line)
            if m:
                rows.append((m.group(1), int(m.group(2)), int(m.group(2)), "ripsecrets", None))
    else:
        return None
    return rows


def recall(rows, manifest):
    """({planted index: rule that found it}, [rules of the other findings], distinct others)."""
    root = manifest["root"].rstrip("/") + "/"
    planted = manifest["planted"]
    found = {}
    other = []
    other_ids = set()
    for path, first, last, rule, fingerprint in rows:
        rel = path[len(root):] if path.startswith(root) else path
        hit = [i for i, p in enumerate(planted)
               if p["path"] == rel and first <= p["end_line"] and p["line"] <= last]
        for i in hit:
            found.setdefault(i, rule)
        if not hit:
            other.append(rule)
            other_ids.add(fingerprint or (path, first, rule))
    return found, other, len(other_ids)


def fmt_s(x):
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def main():
    out, manifest_path = sys.argv[1], sys.argv[2]
    manifest = load(manifest_path)
    tree = hyperfine(os.path.join(out, "tree.json"))
    small = hyperfine(os.path.join(out, "small.json"))

    print("# keyhound benchmark run\n")
    try:
        print("```\n" + open(os.path.join(out, "env.txt")).read().strip() + "\n```\n")
    except OSError:
        pass
    print(f"Corpus: {manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB "
          f"({manifest['bytes'] / 2**20:.1f} MiB), seed {manifest['seed']}, "
          f"{len(manifest['planted'])} planted keys.\n")

    def table(results, title, extra):
        rg = results.get("rg", {}).get("median")
        gl = results.get("gitleaks", {}).get("median")
        print(f"## {title}\n")
        head = "| tool | median | mean ± σ | min | CPU (user+sys) | ÷ rg | ÷ gitleaks |" + "".join(f" {h} |" for h, _ in extra)
        print(head)
        print("|" + " --- |" * (head.count("|") - 1))
        for name, r in results.items():
            cells = [f"`{name}`", fmt_s(r["median"]), f"{fmt_s(r['mean'])} ± {fmt_s(r['stddev'] or 0)}",
                     fmt_s(r["min"]), fmt_s(r.get("user", 0) + r.get("system", 0)),
                     f"{r['median'] / rg:.2f}×" if rg else "–",
                     f"{r['median'] / gl:.3f}×" if gl else "–"]
            cells += [fn(name) for _, fn in extra]
            print("| " + " | ".join(cells) + " |")
        print()

    mem = {}
    recalls = {}
    for name in tree:
        mem[name] = time_v(os.path.join(out, f"time-{name}.txt"))
        if manifest:
            rows = findings(name, out)
            if rows is not None:
                recalls[name] = recall(rows, manifest)
    n_planted = len(manifest["planted"])

    def rss(name):
        m = mem.get(name, (None, None))[0]
        return f"{m:.0f} MiB" if m else "–"

    def rec(name):
        r = recalls.get(name)
        return f"{len(r[0])}/{n_planted}" if r else "–"

    def fp(name):
        r = recalls.get(name)
        if not r:
            return "–"
        return str(len(r[1])) + (f" ({r[2]} distinct)" if r[2] != len(r[1]) else "")

    table(tree, "The tree", [("peak RSS", rss), ("planted found", rec), ("other findings", fp)])
    table(small, "One small file (process start included)", [])

    print("## Recall\n")
    print("| planted | " + " | ".join(f"`{t}`" for t in recalls) + " |")
    print("| --- |" + " --- |" * len(recalls))
    for i, p in enumerate(manifest["planted"]):
        print(f"| {p['kind']} (`{p['path']}:{p['line']}`) | "
              + " | ".join(r[0][i] if i in r[0] else "**no**" for r in recalls.values()) + " |")
    print()
    print("Findings that are not planted keys, by rule (top 6); keyhound merges the locations of one "
          "secret into one finding, so its distinct count is given too:\n")
    for t, (_, other, _) in recalls.items():
        top = collections.Counter(other).most_common(6)
        print(f"- `{t}`: {len(other)}" + (" — " + ", ".join(f"{k} {v}" for k, v in top) if top else ""))
    small_rows = load(os.path.join(out, "findings-small-keyhound.json"), []) or []
    print(f"- small file: keyhound reports {len(small_rows)} finding(s) "
          f"({', '.join(f['rule_id'] for f in small_rows)}); planted: {manifest['small']['kind']}\n")

    print("## Targets\n")
    kh = tree.get("keyhound")
    if kh:
        ok = kh["median"] <= TREE_TARGET_S
        print(f"- tree ≤ {TREE_TARGET_S} s: median {kh['median']:.3f} s → "
              + ("**met**" if ok else f"**missed** by {kh['median'] - TREE_TARGET_S:.3f} s ({kh['median'] / TREE_TARGET_S:.1f}× the target)"))
    ks = small.get("keyhound")
    if ks:
        ok = ks["median"] <= SMALL_TARGET_S
        print(f"- one small file ≤ {SMALL_TARGET_S * 1000:.0f} ms: median {ks['median'] * 1000:.1f} ms → "
              + ("**met**" if ok else f"**missed** by {(ks['median'] - SMALL_TARGET_S) * 1000:.1f} ms"))
    m = mem.get("keyhound", (None, None))[0]
    if m:
        print(f"- peak memory < {MEM_TARGET_MIB} MiB: {m:.0f} MiB → " + ("**met**" if m < MEM_TARGET_MIB else "**missed**"))
    walk = tree.get("keyhound-walk")
    if kh and walk:
        print(f"\nWalk + read + binary check (one trivial rule): median {fmt_s(walk['median'])}; "
              f"matching with the built-in rules adds {fmt_s(kh['median'] - walk['median'])} "
              f"({(kh['median'] - walk['median']) / kh['median'] * 100:.0f}% of the run).")
    j1 = tree.get("keyhound-j1")
    if kh and j1:
        print(f"One thread: {fmt_s(j1['median'])} ({j1['median'] / kh['median']:.2f}× the two-thread run).")


if __name__ == "__main__":
    main()
