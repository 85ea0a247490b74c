#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Records what a mounted filesystem says about every path under a directory,
and compares two records, so that the tree one driver wrote can be checked
through another.

usage: tree.py record DIR >OUT.json
       tree.py compare EXPECTED.json ACTUAL.json [WHAT]
       tree.py ext4-writes DIR     (the changes the reverse check makes)
"""
import hashlib
import json
import os
import random
import stat
import sys

# Fields compared; atime is left out (reads change it), and so is st_blocks,
# which a mounted filesystem may count with reservations (e2fsck checks it).
FIELDS = ("type", "mode", "uid", "gid", "nlink", "size", "sha256", "target", "rdev",
          "xattrs", "mtime", "ctime", "entries")


def kind(mode):
    for test, name in ((stat.S_ISREG, "reg"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "lnk"),
                       (stat.S_ISCHR, "chr"), (stat.S_ISBLK, "blk"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "sock")):
        if test(mode):
            return name
    return "?"


CHUNK = 1 << 16
ZERO = bytes(CHUNK)


def digest(path, size):
    """A digest of the content alone: the offsets and bytes of the chunks
    that are not all zero.  Holes (found with SEEK_DATA where the filesystem
    has it) are skipped without reading, so sparse files of gigabytes cost
    little, and a filesystem without SEEK_DATA gets the same answer."""
    h = hashlib.sha256(b"%d:" % size)
    with open(path, "rb") as f:
        fd = f.fileno()
        off = 0
        while off < size:
            try:
                off = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            try:
                end = os.lseek(fd, off, os.SEEK_HOLE)
            except OSError:
                end = size
            off -= off % CHUNK
            while off < end:
                b = os.pread(fd, CHUNK, off)
                if not b:
                    break
                if b != ZERO[:len(b)]:
                    h.update(b"%d:" % off)
                    h.update(b)
                off += CHUNK
    return h.hexdigest()


def record_one(path, st):
    r = {"type": kind(st.st_mode), "mode": "%o" % stat.S_IMODE(st.st_mode),
         "uid": st.st_uid, "gid": st.st_gid, "nlink": st.st_nlink,
         "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns}
    if stat.S_ISDIR(st.st_mode):
        r["size"] = st.st_size
        r["entries"] = sorted(os.fsdecode(n) for n in os.listdir(path))
    else:
        r["size"] = st.st_size
    if stat.S_ISREG(st.st_mode):
        r["sha256"] = digest(path, st.st_size)
    if stat.S_ISLNK(st.st_mode):
        r["target"] = os.fsdecode(os.readlink(path))
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        r["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
    r["xattrs"] = {k: hashlib.sha256(os.getxattr(path, k, follow_symlinks=False)).hexdigest()
                   for k in sorted(os.listxattr(path, follow_symlinks=False))}
    return r


def record(root):
    out = {}
    rootb = os.fsencode(root)
    stack = [b""]
    while stack:
        rel = stack.pop()
        path = os.path.join(rootb, rel) if rel else rootb
        st = os.lstat(path)
        out[os.fsdecode(rel) or "."] = record_one(path, st)
        if stat.S_ISDIR(st.st_mode):
            for name in os.listdir(path):
                stack.append(os.path.join(rel, name) if rel else name)
    return out


def compare(exp_path, act_path, what):
    a = json.load(open(exp_path))
    b = json.load(open(act_path))
    bad = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            bad.append("%s: not expected, but present (%s)" % (k, b[k].get("type")))
            continue
        if k not in b:
            bad.append("%s: missing (expected a %s)" % (k, a[k].get("type")))
            continue
        for f in FIELDS:
            if a[k].get(f) != b[k].get(f):
                bad.append("%s: %s: expected %s, got %s" % (k, f, a[k].get(f), b[k].get(f)))
    for line in bad[:30]:
        print("DIFF (%s) %s" % (what, line))
    print("%s: %d paths compared, %d differences" % (what, len(a), len(bad)))
    return 1 if bad else 0


def ext4_writes(root):
    """What ext4 writes in the reverse check: new files of several sizes, a
    directory, a symlink, a rename, an xattr, and one unlink."""
    d = os.path.join(root, "ext4-wrote")
    os.mkdir(d)
    rnd = random.Random(6)
    for i, n in enumerate((0, 1, 4095, 4096, 4097, 70000, 1 << 20)):
        with open(os.path.join(d, "f%d" % i), "wb") as f:
            f.write(rnd.randbytes(n))
    os.mkdir(os.path.join(d, "sub"))
    os.symlink("../f1", os.path.join(d, "sub", "link"))
    os.symlink("t" * 100, os.path.join(d, "sub", "slow"))
    os.rename(os.path.join(d, "f2"), os.path.join(d, "sub", "moved"))
    os.setxattr(os.path.join(d, "f3"), "user.ext4", b"written by ext4")
    os.unlink(os.path.join(d, "f4"))
    with open(os.path.join(d, "f5"), "r+b") as f:
        f.truncate(12345)


def main():
    cmd = sys.argv[1]
    if cmd == "record":
        json.dump(record(sys.argv[2]), sys.stdout, indent=0, sort_keys=True)
    elif cmd == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""))
    elif cmd == "ext4-writes":
        ext4_writes(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
