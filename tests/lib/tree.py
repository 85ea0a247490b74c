#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Trees on mounted filesystems, to check one driver through another.

Views: what one image shows, so that two drivers reading the same image
can be compared in everything (fsread):
       tree.py build DIR              the test tree, written by ext4
       tree.py view DIR >OUT.json     every path, with st_blocks, an mmap
                                      digest, d_type and statfs
       tree.py diff A.json B.json

Records: the tree a writer left, to be read back through another driver
(fsrw); atime and st_blocks are left out, contents are digested where the
data is (SEEK_DATA), so sparse files of gigabytes cost little:
       tree.py record DIR >OUT.json
       tree.py compare EXPECTED.json ACTUAL.json [WHAT]
       tree.py ext4-writes DIR        the changes the reverse check makes
"""
import hashlib
import json
import mmap
import os
import random
import socket
import stat
import sys

MiB = 1 << 20
GiB = 1 << 30
BIG = 64 * MiB          # files larger than this are hashed in windows
WINDOW = MiB


def walk(root):
    """(rel, entries) for every directory under root, root first: rel as
    bytes (b"" for root), entries as (os.DirEntry, lstat result) pairs."""
    rootb = os.fsencode(root)
    stack = [b""]
    while stack:
        rel = stack.pop()
        path = os.path.join(rootb, rel) if rel else rootb
        entries = []
        with os.scandir(path) as it:
            for e in it:
                st = os.lstat(e.path)
                entries.append((e, st))
                if stat.S_ISDIR(st.st_mode):
                    stack.append(os.path.join(rel, e.name) if rel else e.name)
        yield rel, entries

def data(seed, n):
    return random.Random(seed).randbytes(n)


def write_at(path, chunks, size=None):
    with open(path, "wb") as f:
        for off, buf in chunks:
            f.seek(off)
            f.write(buf)
        if size is not None:
            f.truncate(size)


def build_many(root):
    """Thousands of small files in nested directories."""
    rnd = random.Random(1)
    for d in range(40):
        sub = os.path.join(root, "many", "d%02d" % d, "e%d" % (d % 3))
        os.makedirs(sub)
        for i in range(60):
            n = rnd.choice([0, 1, 100, 4095, 4096, 4097, 20000, 131072 + 5])
            with open(os.path.join(sub, "f%03d" % i), "wb") as f:
                f.write(data(d * 1000 + i, n))


def build_htree(root):
    """A directory of 20k names: an htree.  Lengths and bytes vary so that
    lookups exercise the hash, including bytes >= 0x80 (signed vs unsigned)."""
    big = os.path.join(root, "big")
    os.mkdir(big)
    rnd = random.Random(2)
    for i in range(20000):
        n = rnd.choice([1, 3, 8, 15, 16, 17, 31, 32, 33, 60, 100, 200, 255])
        stem = ("n%d_" % i).encode()
        tail = bytes(rnd.choice(b"abcXYZ019-_.\xc3\xa9\xe2\x82\xac\xff\x80")
                     for _ in range(max(0, n - len(stem))))
        name = (stem + tail)[:max(n, len(stem))]
        name = name.replace(b"/", b"_")
        fd = os.open(os.path.join(big.encode(), name), os.O_CREAT | os.O_WRONLY, 0o644)
        if i % 1000 == 0:
            os.write(fd, data(i, 5000))
        os.close(fd)


def build_special(root):
    s = os.path.join(root, "special")
    os.mkdir(s)
    os.mkfifo(os.path.join(s, "fifo"), 0o640)
    os.mknod(os.path.join(s, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(os.path.join(s, "bigdev"), 0o600 | stat.S_IFCHR, os.makedev(300, 70000))
    os.mknod(os.path.join(s, "blk"), 0o660 | stat.S_IFBLK, os.makedev(7, 0))
    sk = socket.socket(socket.AF_UNIX)
    sk.bind(os.path.join(s, "sock"))
    sk.close()
    os.symlink("target", os.path.join(s, "fast"))
    os.symlink("x" * 59, os.path.join(s, "fast59"))
    os.symlink("y" * 60, os.path.join(s, "slow60"))
    os.symlink("/".join(["component%d" % i for i in range(300)]), os.path.join(s, "slow"))
    os.symlink("../many/d01/e1/f005", os.path.join(s, "tofile"))
    write_at(os.path.join(s, "linked"), [(0, data(3, 10000))])
    for i in range(3):
        os.link(os.path.join(s, "linked"), os.path.join(s, "hard%d" % i))


def build_sparse(root):
    s = os.path.join(root, "sparse")
    os.mkdir(s)
    write_at(os.path.join(s, "holes"), [(0, data(4, 5000)), (MiB, data(5, 8192)),
                                        (10 * MiB + 3, data(6, 100))], 16 * MiB)
    # Beyond 4 GiB, and a 5 GiB sparse file with data in its last block.
    write_at(os.path.join(s, "past4g"), [(4 * GiB - 100, data(7, 300)),
                                         (4 * GiB + 10 * MiB, data(8, 5000))])
    write_at(os.path.join(s, "five_gib"), [(0, data(9, 100)), (3 * GiB, data(10, 4096)),
                                           (5 * GiB - 10, data(11, 10))])
    # Unwritten extents, with data written into the middle of one.
    path = os.path.join(s, "falloc")
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    os.posix_fallocate(fd, 0, 8 * MiB)
    os.pwrite(fd, data(12, 12345), 3 * MiB + 17)
    os.close(fd)
    # Fragmented: one extent per other block, more than fit in the inode,
    # so the tree has index nodes.
    path = os.path.join(s, "fragmented")
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    for i in range(0, 3000, 2):
        os.pwrite(fd, data(i, 4096), i * 4096)
        if i % 200 == 0:
            os.fsync(fd)
    os.close(fd)


def build_meta(root):
    m = os.path.join(root, "meta")
    os.mkdir(m)
    times = [(0, 0), (1, 999999999), (-1, 5), (2**31 - 1, 123456789),
             (2**31 + 17, 42), (2**33 + 5, 7), (1700000000, 1)]
    for i, (sec, ns) in enumerate(times):
        p = os.path.join(m, "t%d" % i)
        write_at(p, [(0, data(i, 10))])
        os.utime(p, ns=(sec * 10**9 + ns, sec * 10**9 + ns))
    for i, (uid, gid, mode) in enumerate([(0, 0, 0o4755), (1000, 1000, 0o640),
                                          (70000, 65537, 0o2711), (4000000000, 123456, 0o1777)]):
        p = os.path.join(m, "own%d" % i)
        write_at(p, [(0, b"x")])
        os.chown(p, uid, gid)
        os.chmod(p, mode)
    p = os.path.join(m, "xattrs")
    write_at(p, [(0, b"x")])
    os.setxattr(p, "user.small", b"v")
    os.setxattr(p, "user.empty", b"")
    os.setxattr(p, "user.medium", data(13, 60))
    os.setxattr(p, "trusted.t", b"trusted value")
    os.setxattr(p, "security.s", b"security value")
    # Too big for the inode: goes to the external block.
    p = os.path.join(m, "xattr_block")
    write_at(p, [(0, b"y")])
    for i in range(6):
        os.setxattr(p, "user.big%d" % i, data(14 + i, 500))
    os.mkdir(os.path.join(m, "xattr_dir"))
    os.setxattr(os.path.join(m, "xattr_dir"), "user.d", b"on a directory")


def build(root):
    build_meta(root)
    build_special(root)
    build_sparse(root)
    build_many(root)
    build_htree(root)


# Contents are compared by md5, for speed: under TCG sha256 took 12 times
# as long (1.3 s for 32 MiB).
def file_digest(path, size):
    h = hashlib.md5()
    with open(path, "rb") as f:
        if size <= BIG:
            while True:
                b = f.read(MiB)
                if not b:
                    break
                h.update(b)
            return h.hexdigest()
        # Big sparse files: windows at fixed offsets, where the data is.
        offs = set(range(0, size, 256 * MiB)) | {4 * GiB - WINDOW // 2, size - WINDOW}
        for off in sorted(o for o in offs if 0 <= o < size):
            f.seek(off)
            h.update(b"%d:" % off)
            h.update(f.read(WINDOW))
    return h.hexdigest()


def mmap_digest(path, size):
    if size == 0 or size > BIG:
        return None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        return hashlib.md5(m[:]).hexdigest()


def dtype(entry):
    if entry.is_symlink():
        return "lnk"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    if entry.is_file(follow_symlinks=False):
        return "reg"
    return "other"


def view(root):
    out = {}
    for rel, entries in walk(root):
        names = []
        for e, st in entries:
            names.append([os.fsdecode(e.name), dtype(e)])
            relc = os.path.join(rel, e.name) if rel else e.name
            out[os.fsdecode(relc)] = describe(e.path, st, True, use_mmap=rel != b"big")
        out[os.fsdecode(rel) + "/"] = sorted(names)
    sv = os.statvfs(root)
    out["@statfs"] = [sv.f_bsize, sv.f_blocks, sv.f_bfree, sv.f_bavail, sv.f_files,
                      sv.f_ffree, sv.f_namemax]
    return out


def diff(a_path, b_path):
    a = json.load(open(a_path))
    b = json.load(open(b_path))
    bad = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            bad += 1
            if bad <= 20:
                print("DIFF %s:\n  ext4:   %s\n  aiosfs: %s" % (k, a.get(k), b.get(k)))
    print("%d paths compared, %d differ" % (len(a), bad))
    return 1 if bad else 0


# Fields compared; atime is left out (reads change it), and so is st_blocks,
# which a mounted filesystem may count with reservations (e2fsck checks it).
FIELDS = ("type", "mode", "uid", "gid", "nlink", "size", "md5", "target", "rdev",
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
    h = hashlib.md5(b"%d:" % size)
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


def describe(path, st, view, use_mmap=False):
    """One path as a view shows it (view: the whole mode, st_blocks, the
    contents' digest and an mmap digest, xattr values) or as a record keeps
    it (the type, permission bits, directory entries, a digest of the
    contents where the data is, digests of xattr values)."""
    mode = st.st_mode
    r = {"uid": st.st_uid, "gid": st.st_gid, "nlink": st.st_nlink,
         "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns}
    if view:
        r.update(mode=oct(mode), blocks=st.st_blocks)
    else:
        r.update(type=kind(mode), mode="%o" % stat.S_IMODE(mode))
    if not (view and stat.S_ISDIR(mode)):
        r["size"] = st.st_size
    if stat.S_ISDIR(mode) and not view:
        r["entries"] = sorted(os.fsdecode(n) for n in os.listdir(path))
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        r["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
    if stat.S_ISLNK(mode):
        r["target"] = os.fsdecode(os.readlink(path))
    if stat.S_ISREG(mode):
        r["md5"] = (file_digest if view else digest)(path, st.st_size)
        if view and use_mmap:
            r["mmap"] = mmap_digest(path, st.st_size)
    r["xattrs"] = {}
    for k in sorted(os.listxattr(path, follow_symlinks=False)):
        v = os.getxattr(path, k, follow_symlinks=False)
        r["xattrs"][k] = v.hex() if view else hashlib.md5(v).hexdigest()
    return r


def record(root):
    rootb = os.fsencode(root)
    out = {".": describe(rootb, os.lstat(rootb), False)}
    for rel, entries in walk(root):
        for e, st in entries:
            relc = os.path.join(rel, e.name) if rel else e.name
            out[os.fsdecode(relc)] = describe(e.path, st, False)
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


def dump(tree):
    # One line, through json's C encoder: indent= takes its Python one,
    # which took half of a view's time.
    sys.stdout.write(json.dumps(tree, sort_keys=True))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "build":
        build(args[0])
    elif cmd == "view":
        dump(view(args[0]))
    elif cmd == "diff":
        sys.exit(diff(args[0], args[1]))
    elif cmd == "record":
        dump(record(args[0]))
    elif cmd == "compare":
        sys.exit(compare(args[0], args[1], args[2] if len(args) > 2 else ""))
    elif cmd == "ext4-writes":
        ext4_writes(args[0])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
