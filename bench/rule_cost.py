#!/usr/bin/env python3
"""Which rule files cost scanning time: bisects the built-in rules by file.

Usage: bench/rule_cost.py NEW_BINARY BASE_BINARY TREE...

Measures CPU time (perf stat task-clock) of `NEW scan --only-rules BASE_RULES+SOME_FILES TREE...`
and halves the set of rule files that BASE_BINARY does not have until single files stand out.
CPU time, not wall time: the machines are shared. A file's figure is its extra CPU-ms over the
base rules; below 60 ms a half is not split further. Needs `perf`.
"""
import json
import subprocess
import sys


def rules(binary):
    return json.loads(subprocess.check_output([binary, "rules", "list", "--format", "json"]))


def main():
    new_bin, base_bin, trees = sys.argv[1], sys.argv[2], sys.argv[3:]
    base = sorted({r["id"] for r in rules(base_bin)})
    groups = {}
    for r in rules(new_bin):
        if r["id"] not in base:
            groups.setdefault(r["origin"].split(":")[1], []).append(r["id"])

    def cost(ids):
        out = subprocess.run(
            ["perf", "stat", "-x,", "-e", "task-clock", new_bin, "scan", "-q", "--format", "json",
             "--only-rules", ",".join(ids)] + trees,
            capture_output=True, text=True)
        return next(float(l.split(",")[0]) for l in out.stderr.splitlines() if "task-clock" in l)

    floor = cost(base)
    print(f"base rules: {floor:.0f} CPU-ms")

    def bisect(files, depth=0):
        ids = [i for f in files for i in groups[f]]
        extra = cost(base + ids) - floor
        names = " ".join(files) if len(files) <= 3 else ""
        print(f"{'  ' * depth}{len(files)} files: +{extra:.0f} CPU-ms {names}")
        if len(files) > 1 and extra >= 60:
            half = len(files) // 2
            bisect(files[:half], depth + 1)
            bisect(files[half:], depth + 1)

    bisect(sorted(groups))


if __name__ == "__main__":
    main()
