#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The workload and the checker of tests/fsrw/crash.sh.

usage: crash.py workload MNT MANIFEST DM_NAME [SEED]
       crash.py check MNT MANIFEST MARK

The workload creates, writes, truncates, renames and unlinks files, and
fsyncs them and their directories.  It keeps the set of paths whose state
is durable: written and fsynced (files and the directories they are in),
with the size and digest they must have, or None for a name that must not
exist.  Before it touches a path it takes it out of the set; after the
fsyncs return it puts the new state in.  Either way it then marks the
dm-log-writes log (dmsetup message DM_NAME 0 mark NAME) and appends
{"mark": NAME, "durable": {...}} to MANIFEST, so at every point of the log
the last mark before it says what must be there after a crash.

check reads the durable set of MARK and compares it with the tree at MNT.
"""
import hashlib
import json
import os
import random
import subprocess
import sys


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Workload:
    def __init__(self, mnt, manifest, dm, seed):
        self.mnt = mnt
        self.out = open(manifest, "w")
        self.dm = dm
        self.rnd = random.Random(seed)
        self.durable = {}       # relative path -> [size, sha256] or None
        self.files = {}         # relative path -> current content (what we wrote)
        self.dirs = ["d0"]
        self.n = 0
        self.nmarks = 0

    def path(self, rel):
        return os.path.join(self.mnt, rel)

    def mark(self, kind):
        self.nmarks += 1
        name = "%s-%d" % (kind, self.nmarks)
        subprocess.run(["dmsetup", "message", self.dm, "0", "mark", name], check=True,
                       timeout=60)
        self.out.write(json.dumps({"mark": name, "durable": self.durable}) + "\n")
        self.out.flush()

    def forget(self, *rels):
        """About to change these: nothing is promised for them until synced."""
        changed = False
        for rel in rels:
            if rel in self.durable:
                del self.durable[rel]
                changed = True
        if changed:
            self.mark("pre")

    def fsync_path(self, rel):
        fd = os.open(self.path(rel), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def synced(self, *rels):
        for rel in rels:
            if rel in self.files:
                b = self.files[rel]
                self.durable[rel] = [len(b), sha(b)]
            else:
                self.durable[rel] = None
        self.mark("sync")

    def data(self, n):
        return self.rnd.randbytes(n)

    def size(self):
        return self.rnd.choice([0, 1, 100, 4095, 4096, 4097, 20000, 65536, 200000,
                                self.rnd.randrange(1, 300000)])

    def new_name(self):
        self.n += 1
        return os.path.join(self.rnd.choice(self.dirs), "f%03d" % self.n)

    def op_create(self):
        rel = self.new_name()
        b = self.data(self.size())
        self.forget(rel)
        fd = os.open(self.path(rel), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        os.write(fd, b)
        os.fsync(fd)
        os.close(fd)
        self.fsync_path(os.path.dirname(rel))
        self.files[rel] = b
        self.synced(rel)

    def pick(self):
        return self.rnd.choice(sorted(self.files)) if self.files else None

    def op_write(self):
        rel = self.pick()
        if rel is None:
            return self.op_create()
        b = bytearray(self.files[rel])
        off = self.rnd.randrange(0, len(b) + 8192)
        new = self.data(self.rnd.choice([1, 512, 4096, 10000, 70000]))
        self.forget(rel)
        fd = os.open(self.path(rel), os.O_WRONLY)
        os.pwrite(fd, new, off)
        if off > len(b):
            b.extend(bytes(off - len(b)))
        b[off:off + len(new)] = new
        if self.rnd.random() < 0.5:
            os.fsync(fd)
        else:
            os.fdatasync(fd)
        os.close(fd)
        self.files[rel] = bytes(b)
        self.synced(rel)

    def op_truncate(self):
        rel = self.pick()
        if rel is None:
            return self.op_create()
        b = self.files[rel]
        n = self.rnd.choice([0, len(b) // 2, len(b) + 5000, self.rnd.randrange(0, 100000)])
        self.forget(rel)
        fd = os.open(self.path(rel), os.O_WRONLY)
        os.ftruncate(fd, n)
        os.fsync(fd)
        os.close(fd)
        self.files[rel] = b[:n] + bytes(max(0, n - len(b)))
        self.synced(rel)

    def op_rename(self):
        src = self.pick()
        if src is None:
            return self.op_create()
        if self.rnd.random() < 0.4 and len(self.files) > 1:
            dst = self.rnd.choice([f for f in sorted(self.files) if f != src])
        else:
            dst = self.new_name()
        self.forget(src, dst)
        os.rename(self.path(src), self.path(dst))
        for d in {os.path.dirname(src), os.path.dirname(dst)}:
            self.fsync_path(d)
        self.files[dst] = self.files.pop(src)
        self.synced(src, dst)

    def op_unlink(self):
        rel = self.pick()
        if rel is None:
            return self.op_create()
        self.forget(rel)
        os.unlink(self.path(rel))
        self.fsync_path(os.path.dirname(rel))
        del self.files[rel]
        self.synced(rel)

    def op_mkdir(self):
        rel = os.path.join(self.rnd.choice(self.dirs), "d%03d" % (len(self.dirs)))
        os.mkdir(self.path(rel))
        self.fsync_path(os.path.dirname(rel))
        self.dirs.append(rel)

    def op_unsynced(self):
        """Writes nothing waits for: writeback and commits in the background."""
        rel = os.path.join("scratch", "s%d" % self.rnd.randrange(20))
        with open(self.path(rel), "wb") as f:
            f.write(self.data(self.rnd.randrange(1, 500000)))

    def run(self, nops):
        os.mkdir(self.path("d0"))
        os.mkdir(self.path("scratch"))
        self.fsync_path("")
        self.mark("start")
        ops = [(self.op_create, 5), (self.op_write, 4), (self.op_truncate, 2),
               (self.op_rename, 2), (self.op_unlink, 2), (self.op_mkdir, 1),
               (self.op_unsynced, 2)]
        weights = [w for _, w in ops]
        for _ in range(nops):
            op = self.rnd.choices([o for o, _ in ops], weights)[0]
            op()
        self.out.close()
        print("workload: %d operations, %d marks, %d files durable" %
              (nops, self.nmarks, sum(1 for v in self.durable.values() if v)))


def check(mnt, manifest, mark):
    durable = None
    with open(manifest) as f:
        for line in f:
            m = json.loads(line)
            if m["mark"] == mark:
                durable = m["durable"]
    if durable is None:
        sys.exit("no mark %s in %s" % (mark, manifest))
    bad = 0
    for rel, want in sorted(durable.items()):
        p = os.path.join(mnt, rel)
        if want is None:
            if os.path.lexists(p):
                print("DIFF %s: exists, but its unlink or rename was synced" % rel)
                bad += 1
            continue
        try:
            with open(p, "rb") as f:
                b = f.read()
        except OSError as e:
            print("DIFF %s: %s (expected %d bytes)" % (rel, e.strerror, want[0]))
            bad += 1
            continue
        if len(b) != want[0] or sha(b) != want[1]:
            print("DIFF %s: %d bytes, sha256 %s; expected %d bytes, sha256 %s" %
                  (rel, len(b), sha(b)[:16], want[0], want[1][:16]))
            bad += 1
    print("mark %s: %d durable paths checked, %d wrong" % (mark, len(durable), bad))
    return 1 if bad else 0


def main():
    if sys.argv[1] == "workload":
        seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        Workload(sys.argv[2], sys.argv[3], sys.argv[4], seed).run(int(os.environ.get(
            "CRASH_OPS", "80")))
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit("unknown command " + sys.argv[1])


if __name__ == "__main__":
    main()
