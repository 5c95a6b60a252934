#!/usr/bin/env python3
"""Compare the findings of two `keyhound ... --format json` reports: same set or not.

Usage: python3 bench/same_findings.py BEFORE.json AFTER.json

A finding is compared as (rule id, fingerprint) with every location (path, line, column,
end line, end column, and in a history report the commit it is attributed to): the fingerprint is derived from the rule and the secret, so two reports
with the same set found the same keys at the same places without either showing a secret.
Prints what only one side has; exit status 0 when the sets are equal, 1 when they differ.
"""

import json
import sys


def findings(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    items = json.loads(text) if text.strip() else []
    # Reports since schema version 2 are an object holding the list.
    if isinstance(items, dict):
        items = items.get("findings") or []
    out = set()
    for item in items:
        for loc in item.get("locations") or [item]:
            out.add(
                (
                    item["rule_id"],
                    item["fingerprint"],
                    loc["path"],
                    loc["line"],
                    loc["column"],
                    loc.get("end_line"),
                    loc.get("end_column"),
                    loc.get("commit"),
                )
            )
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = findings(sys.argv[1]), findings(sys.argv[2])
    for label, only in (("only before", before - after), ("only after", after - before)):
        for f in sorted(only):
            print(f"{label}: {f[0]} {f[2]}:{f[3]}:{f[4]} fp={f[1]}")
    print(f"{len(before)} before, {len(after)} after, {len(before & after)} in both")
    sys.exit(0 if before == after else 1)


if __name__ == "__main__":
    main()
