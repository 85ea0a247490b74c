#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The fsxattr tests' xattr calls: each prints "ok" or the errno's name.

Symbolic links are not followed.  Values are deterministic bytes made from (size, seed), so that a test can
set one in a step and check it in a later one (or on another filesystem).

  set PATH NAME SIZE SEED [create|replace]
  check PATH NAME SIZE SEED        ok, the errno, or what differs
  rm PATH NAME
  fill PATH PREFIX SIZE SEED       sets PREFIX000, PREFIX001 ... until one fails;
                                   prints "COUNT ERRNO"
  many PATH PREFIX FIRST LAST STEP SIZE SEED     sets each, stops at an error
  checkmany PATH PREFIX FIRST LAST STEP SIZE SEED
  rmmany PATH PREFIX FIRST LAST STEP
  list PATH                        the names, sorted
  ctime PATH                       st_ctime_ns
"""
import errno
import hashlib
import os
import sys


def value(size, seed):
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:size])


def call(fn, *args):
    try:
        fn(*args, follow_symlinks=False)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def check(path, name, size, seed):
    try:
        v = os.getxattr(path, name, follow_symlinks=False)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    if v != value(size, seed):
        return f"{name}: {len(v)} bytes, not the {size} set"
    return "ok"


def names(prefix, first, last, step):
    return [f"{prefix}{i:03d}" for i in range(int(first), int(last) + 1, int(step))]


def main(a):
    cmd, path = a[0], a[1]
    if cmd == "set":
        flags = {"create": os.XATTR_CREATE, "replace": os.XATTR_REPLACE}
        f = flags[a[5]] if len(a) > 5 else 0
        print(call(os.setxattr, path, a[2], value(int(a[3]), a[4]), f))
    elif cmd == "check":
        print(check(path, a[2], int(a[3]), a[4]))
    elif cmd == "rm":
        print(call(os.removexattr, path, a[2]))
    elif cmd == "fill":
        i = 0
        while True:
            r = call(os.setxattr, path, f"{a[2]}{i:03d}", value(int(a[3]), f"{a[4]}.{i}"))
            if r != "ok":
                print(i, r)
                return
            i += 1
    elif cmd == "many":
        for n in names(*a[2:6]):
            r = call(os.setxattr, path, n, value(int(a[6]), f"{a[7]}.{n}"))
            if r != "ok":
                print(n, r)
                return
        print("ok")
    elif cmd == "checkmany":
        for n in names(*a[2:6]):
            r = check(path, n, int(a[6]), f"{a[7]}.{n}")
            if r != "ok":
                print(n, r)
                return
        print("ok")
    elif cmd == "rmmany":
        for n in names(*a[2:6]):
            r = call(os.removexattr, path, n)
            if r != "ok":
                print(n, r)
                return
        print("ok")
    elif cmd == "list":
        print(" ".join(sorted(os.listxattr(path, follow_symlinks=False))))
    elif cmd == "ctime":
        print(os.stat(path).st_ctime_ns)
    else:
        sys.exit(f"xa.py: unknown command {cmd}")


main(sys.argv[1:])
