#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The workloads and the checker of the crash tests (tests/crash).

usage: crash.py workload NAME MNT MANIFEST DM_NAME [SEED]   (CRASH_OPS operations)
       crash.py replay                                       (environment: see below)

A workload writes through the filesystem at MNT while dm-log-writes logs
every write below it.  It keeps the set of paths whose state is durable
(written and fsynced or synced: the files and the directories they are in),
with the size and digest each must have, or None for a name that must not
exist.  Before it touches a path it takes it out of the set; after the
fsync or sync returns it puts the new state in.  Either way it then marks
the log (dmsetup message DM_NAME 0 mark NAME) and appends {"mark": NAME,
"durable": {...}} to MANIFEST, so at every point of the log the last mark
before it says what must be there after a crash.  Threads share one set;
the mark and the line it goes with are written under one lock.

replay replays the log (replay-log) onto the base device up to each point
in turn, and at each: the filesystem under test mounts a snapshot of it
(its own recovery), the durable set of the point is compared with the tree,
and e2fsck -fn finds it clean after the unmount; then e2fsck -fy on a
second snapshot may replay the journal and free orphans, and fix nothing
else.  It prints one line per point that fails and a total, and exits 1 if
any failed.  Environment: FSTYPE, CRASH_LOG (the log device), CRASH_BASE
(the dm name of the replay target), CRASH_COW (the dm name of the
snapshots' copy-on-write space), CRASH_SECTORS, CRASH_MNT, CRASH_DIR (the
manifest and the entries), REPLAY (the replay-log program), and which
points: CRASH_POINTS (a number to sample evenly, or "all"),
CRASH_RANDOM_POINTS and CRASH_SEED.
"""
import ctypes
import hashlib
import json
import mmap
import os
import random
import re
import subprocess
import sys
import threading
import time

FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def digest(b):
    # md5 for speed, not safety: under TCG sha256 takes 12 times as long.
    return hashlib.md5(b).hexdigest()


def fallocate(fd, mode, off, n):
    if libc.fallocate(fd, mode, off, n) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def syncfs(fd):
    if libc.syncfs(fd) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Workload:
    """What every workload shares: the durable set, its marks, the model."""

    def __init__(self, mnt, manifest, dm, seed):
        self.mnt = mnt
        self.out = open(manifest, "w")
        self.dm = dm
        self.rnd = random.Random(seed)
        self.durable = {}       # relative path -> [size, md5] or None
        self.files = {}         # relative path -> current content (what we wrote)
        self.lock = threading.Lock()
        self.nmarks = 0

    def path(self, rel):
        return os.path.join(self.mnt, rel)

    def _mark(self, kind):
        self.nmarks += 1
        name = "%s-%d" % (kind, self.nmarks)
        subprocess.run(["dmsetup", "message", self.dm, "0", "mark", name], check=True,
                       timeout=60)
        self.out.write(json.dumps({"mark": name, "durable": self.durable}) + "\n")
        self.out.flush()

    def forget(self, *rels):
        """About to change these: nothing is promised for them until synced."""
        with self.lock:
            changed = False
            for rel in rels:
                if rel in self.durable:
                    del self.durable[rel]
                    changed = True
            if changed:
                self._mark("pre")

    def synced(self, *rels):
        with self.lock:
            for rel in rels:
                if rel in self.files:
                    b = self.files[rel]
                    self.durable[rel] = [len(b), digest(b)]
                else:
                    self.durable[rel] = None
            self._mark("sync")

    def all_synced(self, gone=()):
        """After sync(2) or syncfs(2): every file as it is now."""
        self.synced(*self.files, *gone)

    def fsync_path(self, rel):
        fd = os.open(self.path(rel), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def data(self, n):
        return self.rnd.randbytes(n)

    def write_file(self, rel, b, sync=os.fsync):
        fd = os.open(self.path(rel), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        os.write(fd, b)
        if sync:
            sync(fd)
        os.close(fd)
        self.files[rel] = bytes(b)

    def pick(self, rnd=None):
        with self.lock:
            names = sorted(self.files)
        return (rnd or self.rnd).choice(names) if names else None

    def pwrite_model(self, rel, off, new):
        b = bytearray(self.files[rel])
        if off > len(b):
            b.extend(bytes(off - len(b)))
        b[off:off + len(new)] = new
        self.files[rel] = bytes(b)

    def finish(self, what):
        self.out.close()
        print("workload %s: %d marks, %d files durable" %
              (what, self.nmarks, sum(1 for v in self.durable.values() if v)))


class Mixed(Workload):
    """Creates, writes, truncates, renames, unlinks in a few directories."""

    def __init__(self, *a):
        super().__init__(*a)
        self.dirs = ["d0"]
        self.n = 0

    def size(self):
        return self.rnd.choice([0, 1, 100, 4095, 4096, 4097, 20000, 65536, 200000,
                                self.rnd.randrange(1, 300000)])

    def new_name(self):
        self.n += 1
        return os.path.join(self.rnd.choice(self.dirs), "f%03d" % self.n)

    def op_create(self):
        rel = self.new_name()
        self.forget(rel)
        self.write_file(rel, self.data(self.size()))
        self.fsync_path(os.path.dirname(rel))
        self.synced(rel)

    def op_write(self):
        rel = self.pick()
        if rel is None:
            return self.op_create()
        off = self.rnd.randrange(0, len(self.files[rel]) + 8192)
        new = self.data(self.rnd.choice([1, 512, 4096, 10000, 70000]))
        self.forget(rel)
        fd = os.open(self.path(rel), os.O_WRONLY)
        os.pwrite(fd, new, off)
        self.pwrite_model(rel, off, new)
        (os.fsync if self.rnd.random() < 0.5 else os.fdatasync)(fd)
        os.close(fd)
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
        self.synced()
        ops = [(self.op_create, 5), (self.op_write, 4), (self.op_truncate, 2),
               (self.op_rename, 2), (self.op_unlink, 2), (self.op_mkdir, 1),
               (self.op_unsynced, 2)]
        for _ in range(nops):
            self.rnd.choices([o for o, _ in ops], [w for _, w in ops])[0]()
        self.finish("mixed")


class Falloc(Workload):
    """Writes into preallocated space, the extent tree one level deep.

    Twelve separate preallocated ranges do not fit in the inode's four
    extents; every write converts (and splits) unwritten extents in a leaf
    below it, which fdatasync must make durable although the inode's own
    fields do not change (issue 17, item 1).  Also preallocation past the
    end of the file and holes punched into it.
    """
    RANGE = 256 << 10
    STEP = 320 << 10

    def run(self, nops):
        rel = "big"
        fd = os.open(self.path(rel), os.O_CREAT | os.O_RDWR, 0o644)
        for i in range(12):
            os.posix_fallocate(fd, i * self.STEP, self.RANGE)
        self.files[rel] = bytes(11 * self.STEP + self.RANGE)
        os.fsync(fd)
        self.fsync_path("")
        self.synced(rel)
        for _ in range(nops):
            size = len(self.files[rel])
            r = self.rnd.random()
            self.forget(rel)
            if r < 0.7:
                i = self.rnd.randrange(12)
                off = i * self.STEP + self.rnd.randrange(0, self.RANGE, 512)
                new = self.data(self.rnd.choice([512, 4096, 4096, 12288, 40000]))
                os.pwrite(fd, new, off)
                self.pwrite_model(rel, off, new)
            elif r < 0.85:
                # Preallocated past the end, then written into.
                fallocate(fd, FALLOC_FL_KEEP_SIZE, size, 64 << 10)
                new = self.data(self.rnd.choice([100, 4096, 30000]))
                off = size + self.rnd.randrange(0, 32 << 10)
                os.pwrite(fd, new, off)
                self.pwrite_model(rel, off, new)
            else:
                off = self.rnd.randrange(0, size)
                n = min(self.rnd.choice([4096, 5000, 65536]), size - off)
                fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, n)
                self.pwrite_model(rel, off, bytes(n))
            (os.fdatasync if self.rnd.random() < 0.7 else os.fsync)(fd)
            self.synced(rel)
        os.close(fd)
        self.finish("falloc")


class Trunc(Workload):
    """Truncates and punches that end inside a block, then extends again.

    The tail of the block must read back as zeros after a crash at any
    point, whatever the order of the zeroing and the size change on disk
    (issue 17, item 7).
    """

    def run(self, nops):
        for i in range(4):
            self.write_file("t%d" % i, self.data(self.rnd.randrange(20000, 200000)))
        self.fsync_path("")
        self.synced(*self.files)
        for _ in range(nops):
            rel = self.pick()
            b = self.files[rel]
            r = self.rnd.random()
            self.forget(rel)
            fd = os.open(self.path(rel), os.O_RDWR)
            if r < 0.4:
                n = self.rnd.randrange(0, max(1, len(b))) | 1
                os.ftruncate(fd, n)
                self.files[rel] = b[:n]
            elif r < 0.7:
                # Past the end: by truncate, or by a write further on.
                n = len(b) + self.rnd.randrange(1, 20000)
                if self.rnd.random() < 0.5:
                    os.ftruncate(fd, n)
                    self.files[rel] = b + bytes(n - len(b))
                else:
                    new = self.data(self.rnd.randrange(1, 6000))
                    os.pwrite(fd, new, n)
                    self.pwrite_model(rel, n, new)
            else:
                if not b:
                    os.close(fd)
                    self.synced(rel)
                    continue
                off = self.rnd.randrange(0, len(b))
                n = min(self.rnd.randrange(1, 12000), len(b) - off)
                fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, n)
                self.pwrite_model(rel, off, bytes(n))
            os.fsync(fd)
            os.close(fd)
            self.synced(rel)
        self.finish("trunc")


class Orphan(Workload):
    """Files unlinked while open, then truncated, written and closed.

    An open unlinked file is on the orphan list until its last close; a
    crash anywhere must leave a volume the next mount (or e2fsck) frees it
    from, and a truncate in between must not take it off the list (issue
    17, item 6).
    """

    def run(self, nops):
        os.mkdir(self.path("o"))
        self.fsync_path("")
        n = 0
        open_fds = []
        for _ in range(nops):
            r = self.rnd.random()
            if r < 0.35 or not open_fds:
                n += 1
                rel = "o/f%03d" % n
                self.forget(rel)
                fd = os.open(self.path(rel), os.O_CREAT | os.O_RDWR, 0o644)
                b = self.data(self.rnd.randrange(1, 300000))
                os.write(fd, b)
                os.fsync(fd)
                self.fsync_path("o")
                self.files[rel] = b
                self.synced(rel)
                if self.rnd.random() < 0.8:
                    # Unlinked while open.
                    self.forget(rel)
                    os.unlink(self.path(rel))
                    self.fsync_path("o")
                    del self.files[rel]
                    self.synced(rel)
                    open_fds.append(fd)
                else:
                    os.close(fd)
            elif r < 0.65:
                fd = self.rnd.choice(open_fds)
                os.ftruncate(fd, self.rnd.choice([0, 1, 5000, 100000]))
                (os.fsync if self.rnd.random() < 0.5 else os.fdatasync)(fd)
                self.synced()
            elif r < 0.8:
                fd = self.rnd.choice(open_fds)
                os.pwrite(fd, self.data(self.rnd.randrange(1, 100000)),
                          self.rnd.randrange(0, 200000))
                os.fsync(fd)
                self.synced()
            else:
                fd = open_fds.pop(self.rnd.randrange(len(open_fds)))
                os.close(fd)
                if self.rnd.random() < 0.5:
                    os.sync()
                    self.all_synced()
        for fd in open_fds:
            os.close(fd)
        self.finish("orphan")


class Htree(Workload):
    """Parallel creates, renames and unlinks in one indexed directory.

    Three threads, each with its own names, in one directory of long names
    (indexed from the start), on a small journal so that inserts restart
    their handles and commits come often: a create is atomic (name with
    inode), and fsync of the file and the directory makes it durable.
    """
    THREADS = 3

    def name(self, t, i):
        return "big/t%d-%05d-%s" % (t, i, "x" * 48)

    def worker(self, t, seed, nops, errors):
        rnd = random.Random(seed)
        mine = []
        i = 0
        try:
            for _ in range(nops):
                r = rnd.random()
                if r < 0.55 or len(mine) < 2:
                    i += 1
                    rel = self.name(t, i)
                    self.forget(rel)
                    fd = os.open(self.path(rel), os.O_CREAT | os.O_WRONLY, 0o644)
                    b = rnd.randbytes(rnd.choice([0, 10, 4096]))
                    os.write(fd, b)
                    os.fsync(fd)
                    os.close(fd)
                    with self.lock:
                        self.files[rel] = b
                    self.fsync_path("big")
                    self.synced(rel)
                    mine.append(rel)
                elif r < 0.8:
                    src = mine.pop(rnd.randrange(len(mine)))
                    if rnd.random() < 0.5:
                        dst = mine[rnd.randrange(len(mine))]
                    else:
                        i += 1
                        dst = self.name(t, i)
                        mine.append(dst)
                    self.forget(src, dst)
                    os.rename(self.path(src), self.path(dst))
                    with self.lock:
                        self.files[dst] = self.files.pop(src)
                    self.fsync_path("big")
                    self.synced(src, dst)
                else:
                    rel = mine.pop(rnd.randrange(len(mine)))
                    self.forget(rel)
                    os.unlink(self.path(rel))
                    with self.lock:
                        del self.files[rel]
                    self.fsync_path("big")
                    self.synced(rel)
        except Exception as e:      # noqa: BLE001 (reported by run)
            errors.append("thread %d: %r" % (t, e))

    def run(self, nops):
        os.mkdir(self.path("big"))
        for i in range(150):
            with open(self.path(self.name(9, i)), "wb"):
                pass
        os.sync()
        errors = []
        threads = [threading.Thread(target=self.worker, args=(t, self.rnd.random(), nops // self.THREADS,
                                                           errors))
                   for t in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            sys.exit("\n".join(errors))
        self.finish("htree")


class Dio(Workload):
    """O_DIRECT writes beside buffered reads of the same file.

    A reader thread keeps the file's pages in the cache while O_DIRECT
    writes (in place and at the end) go to the device; after each write a
    buffered read must see the new bytes at once (issue 17, item 3), and
    after fdatasync they are durable.
    """

    def reader(self, stop, errors):
        try:
            fd = os.open(self.path("dio"), os.O_RDONLY)
            while not stop.is_set():
                os.pread(fd, 1 << 20, 0)
            os.close(fd)
        except OSError as e:
            errors.append("reader: %r" % e)

    def run(self, nops):
        rel = "dio"
        self.write_file(rel, self.data(1 << 20))
        self.fsync_path("")
        self.synced(rel)
        fd = os.open(self.path(rel), os.O_RDWR | os.O_DIRECT)
        rd = os.open(self.path(rel), os.O_RDONLY)
        stop = threading.Event()
        errors = []
        reader = threading.Thread(target=self.reader, args=(stop, errors))
        reader.start()
        try:
            for _ in range(nops):
                size = len(self.files[rel])
                n = self.rnd.choice([4096, 8192, 65536])
                off = size if self.rnd.random() < 0.2 else self.rnd.randrange(0, size, 4096)
                buf = mmap.mmap(-1, n)
                new = self.data(n)
                buf.write(new)
                self.forget(rel)
                if os.pwritev(fd, [buf], off) != n:
                    sys.exit("short O_DIRECT write")
                self.pwrite_model(rel, off, new)
                got = os.pread(rd, n, off)
                if got != new:
                    sys.exit("a buffered read after the O_DIRECT write at %d returned "
                             "old data" % off)
                (os.fdatasync if self.rnd.random() < 0.7 else os.fsync)(fd)
                self.synced(rel)
        finally:
            stop.set()
            reader.join()
        if errors:
            sys.exit("\n".join(errors))
        os.close(fd)
        os.close(rd)
        self.finish("dio")


class Sync(Workload):
    """What sync(2) and syncfs(2) make durable, with and without a commit.

    Buffered writes, most of them over blocks already allocated (in the
    same second as the last, so that no inode changes and nothing needs a
    commit: only the cache flush makes them durable, issue 17, item 2),
    creates and unlinks, then sync or syncfs: everything is durable.
    """

    def run(self, nops):
        for i in range(6):
            self.write_file("s%d" % i, self.data(65536), sync=None)
        os.sync()
        self.all_synced()
        gone = []
        n = 6
        for _ in range(nops):
            for _ in range(self.rnd.randrange(1, 4)):
                r = self.rnd.random()
                if r < 0.75 or len(self.files) < 3:
                    rel = self.pick()
                    off = self.rnd.randrange(0, 60000)
                    new = self.data(self.rnd.choice([100, 4096, 5000]))
                    self.forget(rel)
                    fd = os.open(self.path(rel), os.O_WRONLY)
                    os.pwrite(fd, new, off)
                    os.close(fd)
                    self.pwrite_model(rel, off, new)
                elif r < 0.9:
                    rel = "s%d" % n
                    n += 1
                    self.forget(rel)
                    self.write_file(rel, self.data(self.rnd.randrange(1, 70000)), sync=None)
                else:
                    rel = self.pick()
                    self.forget(rel)
                    os.unlink(self.path(rel))
                    del self.files[rel]
                    gone.append(rel)
            if self.rnd.random() < 0.5:
                os.sync()
            else:
                fd = os.open(self.mnt, os.O_RDONLY)
                syncfs(fd)
                os.close(fd)
            self.all_synced(gone)
        self.finish("sync")


WORKLOADS = {"mixed": Mixed, "falloc": Falloc, "trunc": Trunc, "orphan": Orphan,
             "htree": Htree, "dio": Dio, "sync": Sync}


# ---- The points and the checks --------------------------------------------

def read_entries(path):
    """INDEX FLAGS SECTOR COUNT [MARK] lines of replay-log list."""
    entries = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            w = line.split()
            entries.append((int(w[0]), w[1], w[4] if len(w) > 4 else ""))
    return entries


def choose_points(entries, npoints, nrandom, seed):
    """The mkfs mark, every flush, FUA write and mark after it (or an even
    sample of npoints of them), nrandom plain writes (a crash between
    flushes) and the last entry."""
    mkfs = [i for i, _, m in entries if m == "mkfs"]
    if not mkfs:
        sys.exit("no mkfs mark in the log")
    after = [e for e in entries if e[0] > mkfs[0]]
    cands = [i for i, fl, _ in after if re.search("[FUM]", fl)]
    if npoints == "all" or int(npoints) >= len(cands):
        chosen = cands
    else:
        p = int(npoints)
        n = len(cands)
        chosen = [cands[k] for k in range(n) if (k * p) // n != ((k + 1) * p) // n]
    plain = [i for i, fl, _ in after if fl in ("W", "m")]
    rnd = random.Random(seed)
    chosen += rnd.sample(plain, min(nrandom, len(plain)))
    chosen += [mkfs[0], entries[-1][0]]
    return mkfs[0], len(cands), sorted(set(chosen))


def run(cmd, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def must(cmd, timeout=300):
    r = run(cmd, timeout)
    if r.returncode:
        sys.exit("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stdout.strip()))
    return r.stdout


def fsck_problems(out, rc, fixed_ok):
    """e2fsck's complaints; with fixed_ok, the fixes of -fy but the
    superblock's free counts (ext4 does not journal them)."""
    if fixed_ok:
        bad = []
        sb = False
        for line in out.splitlines():
            if re.match(r"^Free (blocks|inodes) count wrong \(", line):
                sb = True
                continue
            if line.endswith("? yes"):
                if not sb:
                    bad.append(line)
                sb = False
        if rc > 1:
            bad.append("exit status %d" % rc)
        return bad
    bad = [ln for ln in out.splitlines()
           if re.search(r"\? (no|yes)$|^Error|CORRUPT|corrupt", ln) and
           not ln.endswith("Optimize? no")]
    if rc:
        bad.append("exit status %d" % rc)
    return bad


def check_durable(mnt, durable):
    bad = []
    for rel, want in sorted(durable.items()):
        p = os.path.join(mnt, rel)
        if want is None:
            if os.path.lexists(p):
                bad.append("%s: exists, but its unlink or rename was synced" % rel)
            continue
        try:
            with open(p, "rb") as f:
                b = f.read()
        except OSError as e:
            bad.append("%s: %s (expected %d bytes)" % (rel, e.strerror, want[0]))
            continue
        if len(b) != want[0] or digest(b) != want[1]:
            bad.append("%s: %d bytes, md5 %s; expected %d bytes, md5 %s" %
                       (rel, len(b), digest(b)[:16], want[0], want[1][:16]))
    return bad


class Replayer:
    def __init__(self):
        e = os.environ
        self.fs = e.get("FSTYPE", "aiosfs")
        self.log = e["CRASH_LOG"]
        self.base = e["CRASH_BASE"]
        self.cow = e["CRASH_COW"]
        self.sectors = e["CRASH_SECTORS"]
        self.mnt = e["CRASH_MNT"]
        self.dir = e["CRASH_DIR"]
        self.replay = e["REPLAY"]
        self.snap = "/dev/mapper/crash-snap"
        self.marks = {}
        with open(os.path.join(self.dir, "manifest")) as f:
            for line in f:
                m = json.loads(line)
                self.marks[m["mark"]] = m["durable"]

    def snap_create(self):
        must(["dmsetup", "create", "crash-snap", "--table",
              "0 %s snapshot /dev/mapper/%s /dev/mapper/%s N 8" %
              (self.sectors, self.base, self.cow)])
        for _ in range(200):
            if os.path.exists(self.snap):
                return
            time.sleep(0.02)
        sys.exit("%s did not appear" % self.snap)

    def snap_remove(self):
        must(["dmsetup", "remove", "crash-snap"])

    def mounted_check(self, mark):
        """The filesystem's own recovery, then the durable set of mark."""
        r = run(["mount", "-w", "-t", self.fs, self.snap, self.mnt])
        if r.returncode:
            return ["mount failed: " + r.stdout.strip()]
        with open("/proc/mounts") as f:
            rw = any(ln.split()[1] == self.mnt and ln.split()[3].startswith("rw")
                     for ln in f)
        bad = [] if rw else ["mounted read-only"]
        if mark:
            bad += check_durable(self.mnt, self.marks[mark])
        r = run(["umount", self.mnt])
        if r.returncode:
            bad.append("umount failed: " + r.stdout.strip())
        return bad

    def check_point(self, p, mkfs, mark):
        bad = []
        self.snap_create()
        try:
            if p > mkfs:
                bad += self.mounted_check(mark)
            r = run(["e2fsck", "-fn", self.snap])
            bad += ["after %s's recovery: %s" % (self.fs, b)
                    for b in fsck_problems(r.stdout, r.returncode, False)]
        finally:
            self.snap_remove()
        self.snap_create()
        try:
            r = run(["e2fsck", "-fy", self.snap])
            bad += ["e2fsck -fy: " + b for b in fsck_problems(r.stdout, r.returncode, True)]
        finally:
            self.snap_remove()
        return bad

    def main(self):
        entries = read_entries(os.path.join(self.dir, "entries"))
        e = os.environ
        mkfs, ncand, points = choose_points(entries, e.get("CRASH_POINTS") or "8",
                                            int(e.get("CRASH_RANDOM_POINTS", "2")),
                                            int(e.get("CRASH_SEED", "1")))
        flags = {i: (fl, m) for i, fl, m in entries}
        print("%d log entries, %d flush/FUA/mark points, checking %d" %
              (len(entries), ncand, len(points)), flush=True)
        start = time.time()
        mark = None
        frm = 0
        ei = 0
        failed = 0
        for n, p in enumerate(points, 1):
            must([self.replay, "replay", self.log, "/dev/mapper/" + self.base, str(frm),
                  str(p + 1)])
            frm = p + 1
            # The durable set that holds at p: the last mark at or before it.
            while ei < len(entries) and entries[ei][0] <= p:
                i, fl, m = entries[ei]
                if "M" in fl and m in self.marks:
                    mark = m
                ei += 1
            bad = self.check_point(p, mkfs, mark)
            if bad:
                failed += 1
                print("FAIL point %d: entry %d (%s %s), durable set of %s:" %
                      (n, p, *flags[p], mark or "nothing"))
                for b in bad[:20]:
                    print("  " + b)
                if failed >= 5:
                    print("stopping after 5 failed points")
                    break
        print("crash %s: %d points checked, %d failed (%.0f s)" %
              (self.fs, n, failed, time.time() - start))
        return 1 if failed else 0


def main():
    cmd = sys.argv[1]
    if cmd == "workload":
        name, mnt, manifest, dm = sys.argv[2:6]
        seed = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        WORKLOADS[name](mnt, manifest, dm, seed).run(int(os.environ.get("CRASH_OPS", "80")))
    elif cmd == "replay":
        sys.exit(Replayer().main())
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
