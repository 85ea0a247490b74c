#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The order of fsync's writes, read off a dm-log-writes log.

  order.py workload MNT DM_NAME MANIFEST SEED
  order.py check LOG JSTART JLEN MANIFEST VWC

workload: rounds of appends + fsync, new files + fsync, overwrites +
fdatasync and fsyncs with nothing to write; every data block says which
round wrote it.  After each round it marks the log (r-N) and writes the
round to MANIFEST.

check: reads the log (entries in the order the writes completed; a flush
comes after every write that completed before it was sent) and checks
  - every commit block of the journal (blocks JSTART..JSTART+JLEN-1) came
    after all the log blocks of its transaction, each written since the
    previous commit, and (with a volatile cache, VWC=1) had FUA and a
    flush after those blocks (device-mapper sends a preflush as a flush of
    its own, just before the write);
  - every data block of round N came before a flush that came before the
    mark r-N, or was itself a FUA write (fsync returned only with its data
    durable);
  - an overwrite + fdatasync wrote nothing to the journal, and an fsync
    with nothing to write wrote nothing and flushed nothing.
"""
import os
import random
import struct
import subprocess
import sys

BS = 4096
TAG = b"AIOSORD "
JMAGIC = 0xC03B3998
LW_MAGIC = 0x6A736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8
ROUNDS = 150


def block(n, name, b):
    head = b"%s%d %s %d\n" % (TAG, n, name.encode(), b)
    return head + b"." * (BS - len(head))


def workload(mnt, dm, manifest, seed):
    rng = random.Random(int(seed))
    sizes = {}
    out = open(manifest, "w")
    last = None
    for n in range(1, ROUNDS + 1):
        kinds = ["append", "append", "create"]
        if sizes:
            kinds += ["overwrite", "overwrite"]
        if last:
            kinds.append("idle")
        kind = rng.choice(kinds)
        written = 0
        if kind == "append":
            name = "a%d" % rng.randrange(3)
            k = rng.randint(1, 3)
            start = sizes.get(name, 0)
        elif kind == "create":
            name, k, start = "c%d" % n, 2, 0
        elif kind == "overwrite":
            name = rng.choice(sorted(sizes))
            k, start = 1, rng.randrange(sizes[name])
        else:
            name, k, start = last, 0, 0
        fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT, 0o644)
        for b in range(start, start + k):
            os.pwrite(fd, block(n, name, b), b * BS)
            written += 1
        if kind == "overwrite":
            os.fdatasync(fd)
        else:
            os.fsync(fd)
        os.close(fd)
        sizes[name] = max(sizes.get(name, 0), start + k)
        # An idle round fsyncs what the round before synced, untouched since.
        last = name if kind != "overwrite" else None
        subprocess.run(["dmsetup", "message", dm, "0", "mark", "r-%d" % n], check=True)
        out.write("%d %s %d\n" % (n, kind, written))
        out.flush()
    out.close()


def entries(path):
    """Yields (index, sector, nr_sectors, flags, mark, data, sectorsize)."""
    f = open(path, "rb")
    sb = f.read(512)
    magic, version, nr, ss = struct.unpack_from("<QQQI", sb)
    if magic != LW_MAGIC or version != 1:
        sys.exit("%s is not a dm-log-writes log" % path)
    pos = ss
    for i in range(nr):
        f.seek(pos)
        hdr = f.read(ss)
        sector, nsec, flags, dlen = struct.unpack_from("<QQQQ", hdr)
        mark = hdr[32:32 + dlen].decode() if flags & MARK else None
        pos += ss
        data = b""
        if not flags & DISCARD and nsec:
            f.seek(pos)
            data = f.read(nsec * ss)
            pos += nsec * ss
        yield i, sector, nsec, flags, mark, data, ss


class Journal:
    """Follows the log's transactions as their blocks are written."""

    def __init__(self, jstart, jlen, vwc):
        self.jstart, self.jlen, self.vwc = jstart, jlen, vwc
        self.first = None
        self.start = None		# where the open transaction's blocks begin
        self.lastw = {}			# journal block -> entry that last wrote it
        self.prev_commit = -1
        self.last_flush = -1
        self.commits = 0
        self.errors = []

    def write(self, idx, flags, jblk, data):
        self.lastw[jblk] = idx
        magic, btype, seq = struct.unpack_from(">III", data)
        if jblk == 0:
            self.first = struct.unpack_from(">I", data, 20)[0]
            s_start = struct.unpack_from(">I", data, 28)[0]
            if s_start:
                self.start = s_start
            return
        if magic != JMAGIC or btype != 2:
            return
        self.commit(idx, flags, jblk, seq)

    def commit(self, idx, flags, jblk, seq):
        where = "commit of transaction %d (entry %d, journal block %d)" % (seq, idx, jblk)
        if self.vwc and not flags & FUA:
            self.errors.append("%s: flags %#x, no FUA" % (where, flags))
        if self.start is None:
            self.errors.append("%s: before the journal superblock said where the log starts" % where)
            return
        p, n, newest = self.start, 0, -1
        while p != jblk:
            w = self.lastw.get(p, -1)
            if not self.prev_commit < w < idx:
                self.errors.append("%s: its block %d was written at entry %d, not between the "
                                   "previous commit (entry %d) and it" %
                                   (where, p, w, self.prev_commit))
                n = -1
                break
            newest = max(newest, w)
            p, n = p + 1, n + 1
            if p == self.jlen:
                p = self.first
            if n > self.jlen:
                self.errors.append("%s: no way from the log start %d" % (where, self.start))
                break
        if not n:
            self.errors.append("%s: a transaction with no blocks" % where)
        if self.vwc and not flags & FLUSH and self.last_flush < newest:
            self.errors.append("%s: no flush after its log blocks (the last at entry %d, the "
                               "last flush at %d)" % (where, newest, self.last_flush))
        self.start = jblk + 1 if jblk + 1 < self.jlen else self.first
        self.prev_commit = idx
        self.commits += 1


def check(log, jstart, jlen, manifest, vwc):
    jstart, jlen, vwc = int(jstart), int(jlen), vwc == "1"
    rounds = {}
    for line in open(manifest):
        n, kind, k = line.split()
        rounds[int(n)] = (kind, int(k))
    j = Journal(jstart, jlen, vwc)
    tagged = {}			# round -> {(file, block): entry}
    last_flush = -1
    since = {"journal": 0, "writes": 0, "flushes": 0}
    checked = 0
    errors = j.errors
    for idx, sector, nsec, flags, mark, data, ss in entries(log):
        if mark:
            if not mark.startswith("r-"):
                continue
            n = int(mark[2:])
            kind, k = rounds[n]
            blocks = tagged.get(n, {})
            if len(blocks) != k:
                errors.append("round %d (%s): %d of its %d data blocks in the log by its mark" %
                              (n, kind, len(blocks), k))
            late = [b for b, (i, fua) in blocks.items() if i > last_flush and not fua]
            if late:
                errors.append("round %d (%s): data %s not followed by a flush before the mark"
                              % (n, kind, late))
            if kind == "overwrite" and since["journal"]:
                errors.append("round %d: fdatasync of an overwrite wrote %d journal blocks" %
                              (n, since["journal"]))
            if kind == "idle" and (since["writes"] or since["flushes"]):
                errors.append("round %d: an fsync with nothing to write made %d writes and "
                              "%d flushes" % (n, since["writes"], since["flushes"]))
            since = dict.fromkeys(since, 0)
            checked += 1
            continue
        if flags & FLUSH:
            last_flush = j.last_flush = idx
            since["flushes"] += 1
        if not data:
            continue
        since["writes"] += 1
        first = sector * ss // BS
        for b in range(len(data) // BS):
            blk = data[b * BS:(b + 1) * BS]
            pblk = first + b
            if jstart <= pblk < jstart + jlen:
                since["journal"] += 1
                j.write(idx, flags, pblk - jstart, blk)
            elif blk.startswith(TAG):
                n, name, fb = blk[len(TAG):blk.index(b"\n")].split()
                tagged.setdefault(int(n), {})[(name.decode(), int(fb))] = (idx, flags & FUA)
    if checked != len(rounds):
        errors.append("%d marks in the log for %d rounds" % (checked, len(rounds)))
    if not j.commits:
        errors.append("no commit block in the log")
    kinds = {}
    for kind, _ in rounds.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    print("%d rounds %s, %d commits checked" % (len(rounds), kinds, j.commits))
    for e in errors[:20]:
        print("ERROR: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "workload":
        workload(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
