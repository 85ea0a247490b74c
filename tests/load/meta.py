#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The metadata half of the load test: a random mix of creates, writes,
appends, truncates, renames, links, unlinks, mkdirs and rmdirs under ROOT,
with a model of what every file must hold.

usage: meta.py ROOT STATE SECONDS SEED

First it checks that ROOT holds exactly what the model in STATE (if any)
says, then works for SECONDS, then checks again and saves the model.  A
file's content is a function of its (seed, size), so the model stays small.
Exits 1 with a message on the first difference.
"""
import json
import os
import random
import sys
import time

DIRS = 8


def content(seed, size):
    """Bytes [0, size) of a file of this seed: any prefix of a longer one."""
    chunks = [random.Random(seed * 1000003 + i).randbytes(4096) for i in range(size // 4096 + 1)]
    return b"".join(chunks)[:size]


class Model:
    def __init__(self, root, state):
        self.root, self.state = root, state
        self.files = {}                         # relative path -> [seed, size]
        self.dirs = set()
        if os.path.exists(state):
            s = json.load(open(state))
            self.files = {k: list(v) for k, v in s["files"].items()}
            self.dirs = set(s["dirs"])

    def save(self):
        with open(self.state + ".tmp", "w") as f:
            json.dump({"files": self.files, "dirs": sorted(self.dirs)}, f)
        os.replace(self.state + ".tmp", self.state)

    def check(self):
        seen_files, seen_dirs = set(), set()
        for d, dirs, names in os.walk(self.root):
            rel = os.path.relpath(d, self.root)
            if rel == "." and "lost+found" in dirs:
                dirs.remove("lost+found")
            for n in dirs:
                seen_dirs.add(os.path.normpath(os.path.join(rel, n)))
            for n in names:
                seen_files.add(os.path.normpath(os.path.join(rel, n)))
        seen_files = {p for p in seen_files if not p.startswith("fio")}
        if seen_dirs != self.dirs:
            fail("directories differ: extra %s, missing %s" %
                 (sorted(seen_dirs - self.dirs)[:5], sorted(self.dirs - seen_dirs)[:5]))
        if seen_files != set(self.files):
            fail("files differ: extra %s, missing %s" %
                 (sorted(seen_files - set(self.files))[:5], sorted(set(self.files) - seen_files)[:5]))
        for p, (seed, size) in self.files.items():
            with open(os.path.join(self.root, p), "rb") as f:
                data = f.read()
            if data != content(seed, size):
                fail("%s: %d bytes, expected %d of seed %d%s" % (
                    p, len(data), size, seed,
                    "" if len(data) != size else " (content differs)"))


def fail(msg):
    print("meta.py: FAIL: " + msg, flush=True)
    sys.exit(1)


def write_file(path, seed, size, sync):
    with open(path, "wb") as f:
        f.write(content(seed, size))
        if sync:
            os.fsync(f.fileno())


def step(m, r):
    root = m.root
    op = r.randrange(10)
    files = sorted(m.files)
    if op <= 2 or not files:                            # create
        d = "d%d" % r.randrange(DIRS)
        if d not in m.dirs:
            os.mkdir(os.path.join(root, d))
            m.dirs.add(d)
        p = "%s/f%d" % (d, r.randrange(1 << 30))
        seed, size = r.randrange(1 << 30), r.choice((0, 1, 100, 4096, 5000, 70000, 300000))
        write_file(os.path.join(root, p), seed, size, r.random() < 0.3)
        m.files[p] = [seed, size]
    elif op == 3:                                       # rewrite
        p = r.choice(files)
        seed, size = r.randrange(1 << 30), r.randrange(200000)
        write_file(os.path.join(root, p), seed, size, r.random() < 0.3)
        m.files[p] = [seed, size]
    elif op == 4:                                       # truncate down, or append
        p = r.choice(files)
        seed, size = m.files[p]
        if r.random() < 0.5:
            new = r.randrange(size + 1)
            os.truncate(os.path.join(root, p), new)
        else:
            new = size + r.choice((1, 3000, 4096, 20000))
            with open(os.path.join(root, p), "ab") as f:
                f.write(content(seed, new)[size:])
                if r.random() < 0.3:
                    os.fsync(f.fileno())
        m.files[p] = [seed, new]
    elif op == 5:                                       # rename, maybe over another
        p = r.choice(files)
        q = r.choice(files) if r.random() < 0.3 else "d%d/f%d" % (r.randrange(DIRS),
                                                                  r.randrange(1 << 30))
        if os.path.dirname(q) not in m.dirs:
            return
        os.rename(os.path.join(root, p), os.path.join(root, q))
        m.files[q] = m.files.pop(p)
    elif op == 6:                                       # unlink
        p = r.choice(files)
        os.unlink(os.path.join(root, p))
        del m.files[p]
    elif op == 7:                                       # a second name, then one goes
        p = r.choice(files)
        q = "%s/l%d" % (os.path.dirname(p), r.randrange(1 << 30))
        os.link(os.path.join(root, p), os.path.join(root, q))
        seed, size = m.files[p]
        with open(os.path.join(root, q), "rb") as f:
            if f.read() != content(seed, size):
                fail("%s, a new link to %s, reads back wrong" % (q, p))
        gone, kept = (p, q) if r.random() < 0.5 else (q, p)
        os.unlink(os.path.join(root, gone))
        m.files[kept] = m.files.pop(p)
    elif op == 8:                                       # read one back now
        p = r.choice(files)
        seed, size = m.files[p]
        with open(os.path.join(root, p), "rb") as f:
            if f.read() != content(seed, size):
                fail("%s reads back wrong while the load runs" % p)
    else:                                               # rmdir an empty directory
        for d in sorted(m.dirs):
            if not any(f.startswith(d + "/") for f in m.files):
                os.rmdir(os.path.join(root, d))
                m.dirs.discard(d)
                break


def main():
    root, state, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    m = Model(root, state)
    m.check()
    r = random.Random(seed)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        step(m, r)
        n += 1
        if len(m.files) > 400:
            p = r.choice(sorted(m.files))
            os.unlink(os.path.join(root, p))
            del m.files[p]
    m.check()
    m.save()
    print("meta.py: %d operations, %d files in %d directories" % (n, len(m.files), len(m.dirs)))


if __name__ == "__main__":
    main()
