#!/usr/bin/env python3
"""Builds N git repositories of varied size for `bench/audit.sh`, with git fast-import.

    python3 bench/gen_repos.py DIR N

Repository i has 10 to 400 commits (a repeating spread, so 50 and 200 repositories have the
same mix), each changing one to three text files of 200 B to 8 KiB; one in five holds a key,
and one key is shared by several repositories (the merge step must report it once).
"""
import os
import random
import subprocess
import sys

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
WORDS = "the of and to in is for on that with as by this from config value service user".split()


def key(rng):
    return "pc" + "_live_" + "".join(rng.choice(ALNUM) for _ in range(20))


def text(rng, size):
    out = []
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def build(path, index, shared):
    rng = random.Random(index)
    commits = 10 + (index * 37) % 391
    os.makedirs(path, exist_ok=True)
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    stream = []
    mark = 0
    leak_at = commits // 2 if index % 5 == 0 else -1
    for c in range(commits):
        files = []
        for _ in range(rng.randint(1, 3)):
            name = f"src/mod{rng.randint(0, 40)}.txt"
            body = text(rng, rng.randint(200, 8192))
            if c == leak_at:
                body += f"API_KEY={shared if index % 10 == 0 else key(rng)}\n"
            files.append((name, body.encode()))
        mark += 1
        msg = f"commit {c}".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"mark :{mark}\n".encode())
        stream.append(f"committer Bench <bench@example.com> {1600000000 + c * 60} +0000\n".encode())
        stream.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        for name, body in files:
            stream.append(f"M 100644 inline {name}\ndata {len(body)}\n".encode() + body + b"\n")
        stream.append(b"\n")
    subprocess.run(["git", "--git-dir", path, "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run(["git", "--git-dir", path, "symbolic-ref", "HEAD", "refs/heads/main"], check=True)


def main():
    root, n = sys.argv[1], int(sys.argv[2])
    shared = key(random.Random(-1))
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, f"repos-{n}.txt"), "w") as listing:
        for i in range(n):
            path = os.path.join(root, f"repo{i:04d}.git")
            if not os.path.exists(os.path.join(path, "HEAD")):
                build(path, i, shared)
            listing.write(path + "\n")


if __name__ == "__main__":
    main()
