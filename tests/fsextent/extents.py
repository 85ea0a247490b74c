#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Extent tree changes through a mounted filesystem, checked against a model.

  extents.py ops MNT MODELDIR     runs the operations on files in MNT, checking
                                  every file after each phase, and leaves the
                                  expected contents in MODELDIR
  extents.py verify MNT MODELDIR  checks the files in MNT against MODELDIR

Files with thousands of extents (every other block written), holes punched,
truncates to many sizes, appends, and unwritten extents (fallocate, then
writes into them, ZERO_RANGE and KEEP_SIZE preallocation past the end).
"""
import ctypes
import os
import random
import struct
import sys

BS = 4096
KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE = 0x1, 0x2, 0x10
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def block(i, gen):
    return struct.pack('<QQ', i, gen) * (BS // 16)


class File:
    def __init__(self, mnt, name):
        self.name = name
        self.path = os.path.join(mnt, name)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.data = bytearray()

    def write(self, off, buf):
        if os.pwrite(self.fd, buf, off) != len(buf):
            raise SystemExit(f'{self.name}: short write at {off}')
        end = off + len(buf)
        if end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))
        self.data[off:end] = buf

    def write_blocks(self, first, n, gen):
        self.write(first * BS, b''.join(block(first + i, gen) for i in range(n)))

    def truncate(self, size):
        os.ftruncate(self.fd, size)
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))

    def fallocate(self, mode, off, length):
        if libc.fallocate(self.fd, mode, off, length):
            err = ctypes.get_errno()
            raise SystemExit(f'{self.name}: fallocate({mode:#x}, {off}, {length}): '
                             f'{os.strerror(err)}')
        end = off + length
        if mode & (PUNCH_HOLE | ZERO_RANGE):
            z = min(end, len(self.data))
            if z > off:
                self.data[off:z] = bytes(z - off)
        if not mode & KEEP_SIZE and end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))

    def check(self, what):
        st = os.fstat(self.fd)
        if st.st_size != len(self.data):
            raise SystemExit(f'{self.name} after {what}: size {st.st_size}, '
                             f'expected {len(self.data)}')
        got = os.pread(self.fd, len(self.data) + 1, 0)
        if got != self.data:
            bad = next(i for i in range(min(len(got), len(self.data)))
                       if got[i] != self.data[i]) if len(got) == len(self.data) else -1
            raise SystemExit(f'{self.name} after {what}: content differs (first at byte {bad})')
        print(f'{self.name}: {what}: ok, {st.st_size} bytes, {st.st_blocks // 8} blocks')


def sparse(mnt, rnd):
    """Every other block: thousands of extents; then holes filled, punched, truncated."""
    f = File(mnt, 'sparse')
    for i in range(0, 8000, 2):
        f.write_blocks(i, 1, 1)
    f.check('every other block of 8000')
    for i in range(3001, 5000, 2):
        f.write_blocks(i, 1, 2)
    f.check('holes 3001..4999 filled')
    for _ in range(300):
        off = rnd.randrange(8000) * BS
        if rnd.random() < 0.3:
            off += rnd.randrange(BS)
        f.fallocate(PUNCH_HOLE | KEEP_SIZE, off, rnd.choice([1, 2, 3, 7, 40]) * BS)
    f.check('300 holes punched')
    for i in range(1, 8000, 6):
        f.write_blocks(i, 2, 3)
    f.check('rewritten in pairs')
    size = len(f.data)
    while size > BS:
        size = size * rnd.choice([5, 7, 9]) // 10 + rnd.randrange(2) * rnd.randrange(BS)
        f.truncate(size)
        if rnd.random() < 0.2:
            f.truncate(size + rnd.randrange(40 * BS))
        f.check(f'truncate to {size}')
    for i in range(0, 3000, 2):
        f.write_blocks(i, 1, 4)
    f.check('every other block again')
    return f


def appends(mnt, rnd):
    f = File(mnt, 'appends')
    afd = os.open(f.path, os.O_WRONLY | os.O_APPEND)
    for gen in range(600):
        buf = bytes([gen & 0xff]) * rnd.choice([1, 100, BS - 1, BS, BS + 1, 3 * BS, 70000])
        os.write(afd, buf)
        f.data.extend(buf)
        if gen % 100 == 0:
            f.check(f'{gen} appends')
    os.close(afd)
    f.check('600 appends')
    return f


def unwritten(mnt, rnd):
    f = File(mnt, 'prealloc')
    f.fallocate(0, 0, 16384 * BS)
    f.check('fallocate 64 MiB (unwritten, reads as zeroes)')
    for _ in range(400):
        first = rnd.randrange(16384)
        f.write_blocks(first, rnd.choice([1, 1, 2, 5, 33]), 5)
    f.check('400 writes into unwritten extents')
    f.fallocate(KEEP_SIZE, 16384 * BS, 2000 * BS)
    f.check('KEEP_SIZE preallocation past the end')
    for _ in range(100):
        f.fallocate(ZERO_RANGE | KEEP_SIZE, rnd.randrange(16384) * BS,
                    rnd.choice([1, 3, 50]) * BS)
    f.check('100 ZERO_RANGEs')
    for _ in range(100):
        f.fallocate(PUNCH_HOLE | KEEP_SIZE, rnd.randrange(16384) * BS,
                    rnd.choice([1, 3, 50]) * BS)
    f.check('100 holes punched')
    for i in range(0, 16384, 2):
        f.write_blocks(i, 1, 6)
    f.check('every other block written')
    f.write_blocks(16384, 10, 7)
    f.check('appended into the KEEP_SIZE preallocation')
    f.truncate(5000 * BS + 123)
    f.check('truncated')
    return f


def ops(mnt, modeldir):
    rnd = random.Random(20240601)
    os.makedirs(modeldir, exist_ok=True)
    for make in (sparse, appends, unwritten):
        f = make(mnt, rnd)
        os.fsync(f.fd)
        os.close(f.fd)
        with open(os.path.join(modeldir, f.name), 'wb') as out:
            out.write(f.data)


def verify(mnt, modeldir):
    for name in sorted(os.listdir(modeldir)):
        with open(os.path.join(modeldir, name), 'rb') as m, open(os.path.join(mnt, name), 'rb') as f:
            want, got = m.read(), f.read()
        if want != got:
            raise SystemExit(f'{name}: {len(got)} bytes differ from the expected {len(want)}')
        print(f'{name}: ok, {len(got)} bytes')


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('ops', 'verify'):
        raise SystemExit(__doc__)
    (ops if sys.argv[1] == 'ops' else verify)(sys.argv[2], sys.argv[3])
