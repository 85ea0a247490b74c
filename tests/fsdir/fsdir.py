#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Namespace operations on a mounted tree, with their expected results.

  fsdir.py linear DIR        entries of every type in a small directory
  fsdir.py htree-prep DIR    20000 files (run on ext4: it builds the htree)
  fsdir.py htree DIR         deletes, adds and renames in that htree
  fsdir.py convert DIR       a linear directory that grows into an htree
  fsdir.py rename DIR        rename(2)/renameat2(2) and O_TMPFILE cases
  fsdir.py record DIR        prints the tree (names, types, links, targets) as JSON
  fsdir.py compare A B       two records must agree
Each operation checks its own result at once; record/compare then check
that a remount (by ext4) sees the same tree.
"""
import ctypes
import errno
import json
import os
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
AT_FDCWD = -100
AT_SYMLINK_FOLLOW = 0x400


def fail(msg):
    sys.exit("FAIL: " + msg)


def renameat2(a, b, flags):
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    return 0 if r == 0 else ctypes.get_errno()


def expect_errno(e, fn, *args):
    try:
        fn(*args)
    except OSError as x:
        if x.errno != e:
            fail(f"{fn.__name__}{args}: errno {x.errno}, expected {e}")
        return
    fail(f"{fn.__name__}{args} succeeded, expected errno {e}")


def nlink(p):
    return os.lstat(p).st_nlink


def assert_eq(exp, got, what):
    if exp != got:
        fail(f"{what}: expected {exp!r}, got {got!r}")


def touch(p, data=b""):
    with open(p, "wb") as f:
        f.write(data)


def listing(d):
    return sorted(os.listdir(d))


def linear(top):
    d = os.path.join(top, "lin")
    os.mkdir(d)
    assert_eq(2, nlink(d), "new directory's links")
    names = []
    for i in range(60):
        p = os.path.join(d, f"f{i:03d}")
        touch(p)
        names.append(f"f{i:03d}")
    os.mkfifo(os.path.join(d, "fifo"))
    os.mknod(os.path.join(d, "chr"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(os.path.join(d, "bigdev"), 0o644 | stat.S_IFBLK, os.makedev(300, 70000))
    os.symlink("short/target", os.path.join(d, "fast"))
    long_target = "/".join(["component%02d" % i for i in range(30)])
    os.symlink(long_target, os.path.join(d, "slow"))
    os.symlink("x" * 59, os.path.join(d, "fast59"))
    os.symlink("y" * 60, os.path.join(d, "slow60"))
    os.link(os.path.join(d, "f000"), os.path.join(d, "hard"))
    assert_eq(2, nlink(os.path.join(d, "f000")), "links after link()")
    for i in range(5):
        os.mkdir(os.path.join(d, f"sub{i}"))
    assert_eq(7, nlink(d), "links with 5 subdirectories")
    touch(os.path.join(d, "sub0", "inner"))
    expect_errno(errno.ENOTEMPTY, os.rmdir, os.path.join(d, "sub0"))
    expect_errno(errno.EEXIST, os.mkdir, os.path.join(d, "sub1"))
    expect_errno(errno.EEXIST, os.symlink, "t", os.path.join(d, "fast"))
    os.rmdir(os.path.join(d, "sub4"))
    assert_eq(6, nlink(d), "links after rmdir")
    for i in range(0, 60, 3):
        os.unlink(os.path.join(d, f"f{i:03d}"))
    assert_eq(1, nlink(os.path.join(d, "hard")), "links after unlinking f000")
    for i in range(60, 75):
        touch(os.path.join(d, f"f{i:03d}"), b"data%d" % i)
    assert_eq(os.readlink(os.path.join(d, "slow")), long_target, "slow symlink")
    assert_eq(os.readlink(os.path.join(d, "fast59")), "x" * 59, "59-byte symlink")
    assert_eq(os.readlink(os.path.join(d, "slow60")), "y" * 60, "60-byte symlink")
    st = os.lstat(os.path.join(d, "bigdev"))
    assert_eq((300, 70000), (os.major(st.st_rdev), os.minor(st.st_rdev)), "rdev")
    for i in range(0, 60, 3):
        if os.path.lexists(os.path.join(d, f"f{i:03d}")):
            fail(f"f{i:03d} still there")
    exp = sorted([f"f{i:03d}" for i in range(75) if i >= 60 or i % 3] +
                 ["fifo", "chr", "bigdev", "fast", "slow", "fast59", "slow60", "hard",
                  "sub0", "sub1", "sub2", "sub3"])
    assert_eq(exp, listing(d), "listing")


def htree_prep(top):
    d = os.path.join(top, "big")
    os.mkdir(d)
    for i in range(20000):
        touch(os.path.join(d, "name-%06d-%s" % (i, "p" * (i % 40))))


def htree(top):
    d = os.path.join(top, "big")
    names = set(os.listdir(d))
    assert_eq(20000, len(names), "files made by ext4")
    for i in range(0, 20000, 5):
        n = "name-%06d-%s" % (i, "p" * (i % 40))
        os.unlink(os.path.join(d, n))
        names.discard(n)
    for i in range(20000, 30000):
        n = "new-%06d-%s" % (i, "q" * (i % 70))
        touch(os.path.join(d, n))
        names.add(n)
    for i in range(1, 20000, 41):
        n = "name-%06d-%s" % (i, "p" * (i % 40))
        if n in names:
            os.rename(os.path.join(d, n), os.path.join(d, "renamed-%d" % i))
            names.discard(n)
            names.add("renamed-%d" % i)
    got = set(os.listdir(d))
    if got != names:
        fail(f"htree listing: {len(got - names)} unexpected, {len(names - got)} missing")
    for n in list(names)[:3000]:
        if not os.path.lexists(os.path.join(d, n)):
            fail(f"lookup of {n} failed")


def convert(top):
    d = os.path.join(top, "grow")
    os.mkdir(d)
    names = ["g%05d-%s" % (i, "r" * (i % 50)) for i in range(3000)]
    for n in names:
        touch(os.path.join(d, n))
    for n in names[::4]:
        os.unlink(os.path.join(d, n))
    exp = sorted(set(names) - set(names[::4]))
    assert_eq(exp, listing(d), "grown directory")


def rename(top):
    d = os.path.join(top, "ren")
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    os.makedirs(a)
    os.makedirs(b)
    touch(os.path.join(a, "f1"), b"one")
    touch(os.path.join(a, "f2"), b"two")
    # Over an existing file: the target's inode loses its last link.
    os.rename(os.path.join(a, "f1"), os.path.join(a, "f2"))
    assert_eq(["f2"], listing(a), "rename over a file")
    assert_eq(b"one", open(os.path.join(a, "f2"), "rb").read(), "renamed contents")
    # Across directories, a directory: ".." and link counts follow.
    os.mkdir(os.path.join(a, "sd"))
    assert_eq(3, nlink(a), "a with sd")
    os.rename(os.path.join(a, "sd"), os.path.join(b, "sd"))
    assert_eq((2, 3), (nlink(a), nlink(b)), "links after moving sd")
    assert_eq(os.stat(b).st_ino, os.stat(os.path.join(b, "sd", "..")).st_ino, "sd/..")
    # A directory over an empty one, and over a non-empty one.
    os.mkdir(os.path.join(a, "e"))
    os.rename(os.path.join(b, "sd"), os.path.join(a, "e"))
    assert_eq((3, 2), (nlink(a), nlink(b)), "links after sd replaced e")
    os.mkdir(os.path.join(b, "full"))
    touch(os.path.join(b, "full", "x"))
    expect_errno(errno.ENOTEMPTY, os.rename, os.path.join(a, "e"), os.path.join(b, "full"))
    # RENAME_NOREPLACE.
    touch(os.path.join(b, "n1"))
    touch(os.path.join(b, "n2"))
    assert_eq(errno.EEXIST, renameat2(os.path.join(b, "n1"), os.path.join(b, "n2"),
                                      RENAME_NOREPLACE), "NOREPLACE over a file")
    assert_eq(0, renameat2(os.path.join(b, "n1"), os.path.join(b, "n3"), RENAME_NOREPLACE),
              "NOREPLACE to a new name")
    # RENAME_EXCHANGE of a file and a directory across directories.
    xa, xb = os.path.join(a, "e"), os.path.join(b, "n2")
    ia, ib = os.lstat(xa).st_ino, os.lstat(xb).st_ino
    assert_eq(0, renameat2(xa, xb, RENAME_EXCHANGE), "EXCHANGE")
    assert_eq((ib, ia), (os.lstat(xa).st_ino, os.lstat(xb).st_ino), "exchanged inodes")
    assert_eq(os.stat(b).st_ino, os.stat(os.path.join(xb, "..")).st_ino, "exchanged ..")
    assert_eq((2, 4), (nlink(a), nlink(b)), "links after EXCHANGE")
    assert_eq(errno.EINVAL, renameat2(os.path.join(b, "n3"), os.path.join(b, "n4"),
                                      RENAME_WHITEOUT), "WHITEOUT")
    # Many renames within one directory.
    for i in range(300):
        touch(os.path.join(a, "m%d" % i))
    for i in range(300):
        os.rename(os.path.join(a, "m%d" % i), os.path.join(a, "moved-%d" % i))
    assert_eq(sorted(["f2", "e"] + ["moved-%d" % i for i in range(300)]), listing(a),
              "after 300 renames")
    # O_TMPFILE, then linked in.
    try:
        fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError as x:
        if x.errno != errno.EOPNOTSUPP:
            raise
    else:
        os.write(fd, b"tmp")
        # os.link() does not follow the /proc magic link: linkat() does.
        r = libc.linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD,
                        os.path.join(d, "was-tmp").encode(), AT_SYMLINK_FOLLOW)
        assert_eq(0, 0 if r == 0 else ctypes.get_errno(), "linkat of a tmpfile")
        os.close(fd)
        assert_eq(1, nlink(os.path.join(d, "was-tmp")), "linked tmpfile")
        fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
        os.close(fd)


def record(top):
    # Relative paths by slicing and one json.dumps (the C encoder): relpath
    # and json.dump's Python encoder took most of the time under TCG.
    out, cut = {}, len(top.rstrip("/")) + 1
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(root, n)
            rel = p[cut:]
            if rel == "lost+found":
                continue
            st = os.lstat(p)
            e = {"mode": st.st_mode, "nlink": st.st_nlink, "ino": st.st_ino}
            if stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                e["size"] = st.st_size
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                e["rdev"] = st.st_rdev
            out[rel] = e
    sys.stdout.write(json.dumps(out, sort_keys=True))


def compare(a, b):
    x, y = json.load(open(a)), json.load(open(b))
    bad = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    for k in bad[:20]:
        print(f"{k}: {x.get(k)} vs {y.get(k)}")
    if bad:
        fail(f"{len(bad)} paths differ")


if __name__ == "__main__":
    cmd = sys.argv[1].replace("-", "_")
    globals()[cmd](*sys.argv[2:])
