// SPDX-License-Identifier: GPL-2.0
/*
 * Every write-side operation of a read-write mount, with its error codes,
 * on the filesystem named by $FSTYPE (aiosfs by default).  Each test works
 * in its own directory; after each, the volume is unmounted, e2fsck -fn must
 * find it clean, and it is mounted again.  The last test reads the whole
 * tree back through ext4 and the reverse (tests/fsrw/helpers, fsrw_verify).
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include "kselftest_harness.h"
#include "fsrw.h"

/* The harness compares with the expected value's type: sizes, modes, links. */
#pragma GCC diagnostic ignored "-Wsign-compare"
/* An ASSERT ends in a for (;;) that takes the next statement; after "ASSERT();" it is empty. */
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
/* Paths are short; snprintf only guards. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define KiB 1024ULL
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

/* The call fails with errno @err. */
#define ASSERT_ERRNO(call, err) do { \
	long _r; int _e; \
	errno = 0; \
	_r = (long)(call); \
	_e = errno; \
	ASSERT_EQ(-1, _r) TH_LOG("%s succeeded; expected %s", #call, #err); \
	ASSERT_EQ(err, _e) TH_LOG("%s: %s; expected %s", #call, strerror(_e), #err); \
} while (0)

/* The call returns 0 (or a non-negative fd or count). */
#define ASSERT_OK(call) do { \
	long _r; \
	errno = 0; \
	_r = (long)(call); \
	ASSERT_LE(0, _r) TH_LOG("%s: %s", #call, strerror(errno)); \
} while (0)

/* [off, off + len) of fd holds the pattern of seed (0: zeroes). */
#define ASSERT_PAT(fd, seed, off, len) do { \
	unsigned long long _o = (off), _l = (len); \
	unsigned int _s = (seed); \
	long long _b = pat_check(fd, _s, _o, _l); \
	ASSERT_EQ(-1, _b) TH_LOG("%s: [%llu, +%llu) of seed %u: %s", __func__, _o, _l, _s, \
				 _b == -2 ? strerror(errno) : "differs (offset above)"); \
} while (0)

FIXTURE(ops) {
	char dir[256];
};

FIXTURE_SETUP(ops)
{
	umask(0);
	/* Line by line: a failed ASSERT abort()s, which would lose a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* 512 MiB: e2fsck after every test, and enospc fills the volume. */
	ASSERT_EQ(0, fsrw_ensure_mounted("512M"));
	snprintf(self->dir, sizeof(self->dir), "%s/%s", FSRW_MNT, _metadata->name);
	if (strcmp(_metadata->name, "verify"))
		ASSERT_EQ(0, mkdir(self->dir, 0755))
			TH_LOG("mkdir %s: %s", self->dir, strerror(errno));
}

/* Unmounted, e2fsck -fn clean, mounted again: after every test. */
FIXTURE_TEARDOWN(ops)
{
	if (!strcmp(_metadata->name, "verify"))
		return;
	/* Not EXPECT: after a failed ASSERT its handler would run regardless. */
	if (fsrw_sh("fs_umount && fsck_clean $(test_disk) 'after %s' && fs_mount $(test_disk)",
		    _metadata->name)) {
		TH_LOG("the volume is not clean after %s", _metadata->name);
		_metadata->passed = 0;
	}
}

static char *path_of(char *buf, const char *dir, const char *name)
{
	snprintf(buf, 4096, "%s/%s", dir, name);
	return buf;
}

static int remount(void)
{
	return fsrw_sh("fsrw_remount");
}

TEST_F_TIMEOUT(ops, create_open, 120)
{
	char p[4096], q[4096], name[300];
	struct stat st;
	int fd;

	path_of(p, self->dir, "a");
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0640);
	ASSERT_LE(0, fd) TH_LOG("create %s: %s", p, strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(0, st.st_size);
	ASSERT_EQ(1, st.st_nlink);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 10000));
	ASSERT_EQ(0, close(fd));

	ASSERT_ERRNO(open(p, O_CREAT | O_EXCL | O_WRONLY, 0640), EEXIST);
	ASSERT_ERRNO(open(path_of(q, self->dir, "missing"), O_RDONLY), ENOENT);
	ASSERT_ERRNO(open(path_of(q, self->dir, "nodir/x"), O_CREAT | O_WRONLY, 0644), ENOENT);
	ASSERT_ERRNO(open(path_of(q, self->dir, "a/x"), O_CREAT | O_WRONLY, 0644), ENOTDIR);
	ASSERT_ERRNO(open(self->dir, O_WRONLY), EISDIR);
	memset(name, 'n', 256);
	name[256] = '\0';
	ASSERT_ERRNO(open(path_of(q, self->dir, name), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	name[255] = '\0';
	fd = open(path_of(q, self->dir, name), O_CREAT | O_WRONLY, 0644);
	ASSERT_LE(0, fd) TH_LOG("a 255-byte name: %s", strerror(errno));
	close(fd);
	ASSERT_EQ(0, stat(q, &st));

	/* O_TRUNC drops the old data; what is written after is all there is. */
	fd = open(p, O_TRUNC | O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, st.st_size) TH_LOG("size after O_TRUNC");
	ASSERT_EQ(0, pat_write(fd, 2, 0, 100));
	ASSERT_EQ(0, close(fd));

	/* O_APPEND writes at the end wherever the offset is. */
	fd = open(p, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	{
		unsigned char buf[50];

		pat_fill(buf, 3, 0, sizeof(buf));
		ASSERT_EQ(50, write(fd, buf, 50));
		ASSERT_EQ(150, lseek(fd, 0, SEEK_CUR)) TH_LOG("offset after an O_APPEND write");
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	fd = open(p, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(150, st.st_size);
	ASSERT_PAT(fd, 2, 0, 100);
	{
		unsigned char buf[50];

		ASSERT_EQ(50, pread(fd, buf, 50, 100));
		ASSERT_EQ(-1, pat_diff(buf, 3, 0, 50)) TH_LOG("the appended bytes");
	}
	close(fd);
	/* Write on a read-only fd, read on a write-only one. */
	fd = open(p, O_RDONLY);
	ASSERT_ERRNO(write(fd, "x", 1), EBADF);
	close(fd);
}

TEST_F_TIMEOUT(ops, write_buffered, 120)
{
	static const size_t chunks[] = { 1, 4095, 4096, 4097, 12293, 65536, 300001 };
	unsigned long long off = 0, size = 3 * MiB + 777;
	char p[4096];
	unsigned int i = 0;
	int fd;

	fd = open(path_of(p, self->dir, "f"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	while (off < size) {
		size_t n = chunks[i++ % 7];

		if (n > size - off)
			n = size - off;
		ASSERT_EQ(0, pat_write(fd, 1, off, n));
		off += n;
	}
	ASSERT_PAT(fd, 1, 0, size);
	/* Overwrites that start and end inside blocks. */
	ASSERT_EQ(0, pat_write(fd, 2, 5000, 3000));
	ASSERT_EQ(0, pat_write(fd, 2, MiB - 7, 14));
	ASSERT_EQ(0, pat_write(fd, 2, size - 10, 10));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 1, 0, 5000);
	ASSERT_PAT(fd, 2, 5000, 3000);
	ASSERT_PAT(fd, 1, 8000, MiB - 7 - 8000);
	ASSERT_PAT(fd, 2, MiB - 7, 14);
	ASSERT_PAT(fd, 1, MiB + 7, size - 10 - MiB - 7);
	ASSERT_PAT(fd, 2, size - 10, 10);
	close(fd);
	ASSERT_EQ(0, remount());
	fd = open(p, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_PAT(fd, 2, 5000, 3000);
	ASSERT_PAT(fd, 1, MiB + 7, size - 10 - MiB - 7);
	close(fd);
}

TEST_F_TIMEOUT(ops, write_direct, 120)
{
	char p[4096];
	unsigned char *buf;
	struct stat st;
	int fd, bfd;

	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 2 * MiB));
	fd = open(path_of(p, self->dir, "d"), O_CREAT | O_RDWR | O_DIRECT, 0644);
	ASSERT_LE(0, fd) TH_LOG("O_DIRECT open: %s", strerror(errno));
	pat_fill(buf, 1, 0, MiB);
	ASSERT_EQ((ssize_t)MiB, pwrite(fd, buf, MiB, 0)) TH_LOG("%s", strerror(errno));
	/* Past EOF, leaving a hole. */
	pat_fill(buf, 1, 8 * MiB, 64 * KiB);
	ASSERT_EQ((ssize_t)(64 * KiB), pwrite(fd, buf, 64 * KiB, 8 * MiB));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(8 * MiB + 64 * KiB, st.st_size);
	/* An overwrite of one block, and one of one 512-byte sector. */
	pat_fill(buf, 2, 20480, 4096);
	ASSERT_EQ(4096, pwrite(fd, buf, 4096, 20480));
	pat_fill(buf, 3, 3 * 4096 + 512, 512);
	ASSERT_EQ(512, pwrite(fd, buf, 512, 3 * 4096 + 512))
		TH_LOG("a sector-aligned write: %s", strerror(errno));
	/* Misaligned memory or offset. */
	ASSERT_ERRNO(pwrite(fd, buf + 1, 4096, 0), EINVAL);
	ASSERT_ERRNO(pwrite(fd, buf, 4096, 100), EINVAL);
	ASSERT_EQ(0, fsync(fd));

	/* Buffered reads see it, cold and warm. */
	bfd = open(p, O_RDWR);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(bfd, 1, 0, 3 * 4096 + 512);
	ASSERT_PAT(bfd, 3, 3 * 4096 + 512, 512);
	ASSERT_PAT(bfd, 1, 4 * 4096, 20480 - 4 * 4096);
	ASSERT_PAT(bfd, 2, 20480, 4096);
	ASSERT_PAT(bfd, 1, 24576, MiB - 24576);
	ASSERT_PAT(bfd, 0, MiB, 7 * MiB);
	ASSERT_PAT(bfd, 1, 8 * MiB, 64 * KiB);
	/* A direct write over cached pages: the cache must not serve old data. */
	pat_fill(buf, 4, 0, 8192);
	ASSERT_EQ(8192, pwrite(fd, buf, 8192, 0));
	ASSERT_PAT(bfd, 4, 0, 8192);
	/* A buffered write, then a direct read of it. */
	ASSERT_EQ(0, pat_write(bfd, 5, 40960, 8192));
	ASSERT_EQ(8192, pread(fd, buf, 8192, 40960));
	ASSERT_EQ(-1, pat_diff(buf, 5, 40960, 8192)) TH_LOG("O_DIRECT read after a buffered write");
	/* A direct read of a hole. */
	ASSERT_EQ((ssize_t)MiB, pread(fd, buf, MiB, 2 * MiB));
	ASSERT_EQ(-1, pat_diff(buf, 0, 2 * MiB, MiB)) TH_LOG("O_DIRECT read of a hole");
	close(bfd);
	close(fd);
	free(buf);
}

TEST_F_TIMEOUT(ops, pwrite_holes, 120)
{
	char p[4096];
	struct stat st;
	int fd;

	fd = open(path_of(p, self->dir, "h"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 10 * MiB + 3, 100));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(10 * MiB + 103, st.st_size);
	/* A hole inside a block, and one past 4 GiB. */
	ASSERT_EQ(0, pat_write(fd, 2, 0, 1));
	ASSERT_EQ(0, pat_write(fd, 2, 3000, 1));
	ASSERT_EQ(0, pat_write(fd, 3, 5 * GiB + 11, 5000));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(5 * GiB + 5011, st.st_size);
	ASSERT_GT(200, st.st_blocks) TH_LOG("%lld sectors allocated for a sparse file",
					    (long long)st.st_blocks);
	ASSERT_PAT(fd, 2, 0, 1);
	ASSERT_PAT(fd, 0, 1, 2999);
	ASSERT_PAT(fd, 2, 3000, 1);
	ASSERT_PAT(fd, 0, 3001, 10 * MiB + 3 - 3001);
	ASSERT_PAT(fd, 1, 10 * MiB + 3, 100);
	ASSERT_PAT(fd, 0, 10 * MiB + 103, MiB);
	ASSERT_PAT(fd, 0, 4 * GiB - 4096, 8192);
	ASSERT_PAT(fd, 0, 5 * GiB, 11);
	ASSERT_PAT(fd, 3, 5 * GiB + 11, 5000);
	{
		char c;

		ASSERT_EQ(0, pread(fd, &c, 1, 5 * GiB + 5011)) TH_LOG("a read at EOF");
	}
	close(fd);
}

/*
 * lseek(fd, off, whence) gives want, or fails with ENXIO when want is -1;
 * any other failure counts as -2 - errno, which no want matches.
 */
#define ASSERT_SEEK(fd, off, whence, want) do { \
	off_t _o = (off), _r = lseek(fd, _o, whence); \
	long long _w = (want); \
	ASSERT_EQ(_w, _r >= 0 ? _r : errno == ENXIO ? -1 : -2 - errno) \
		TH_LOG("lseek(%lld, %s): %lld (%s), expected %lld", (long long)_o, \
		       #whence, (long long)_r, _r < 0 ? strerror(errno) : "ok", _w); \
} while (0)

/*
 * SEEK_DATA/SEEK_HOLE as ext4 answers them: holes, an unwritten range
 * (a hole until written), data past 4 GiB, and a tree of two leaves.
 */
TEST_F_TIMEOUT(ops, seek_data_hole, 120)
{
	char p[4096];
	int fd, i, pass;

	fd = open(path_of(p, self->dir, "empty"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_SEEK(fd, 0, SEEK_DATA, -1);
	ASSERT_SEEK(fd, 0, SEEK_HOLE, -1);
	close(fd);

	fd = open(path_of(p, self->dir, "s"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 4096));
	ASSERT_EQ(0, pat_write(fd, 2, MiB, 4096));
	ASSERT_EQ(0, fallocate(fd, 0, 2 * MiB, MiB));
	ASSERT_EQ(0, pat_write(fd, 3, 2 * MiB + 8192, 4096));
	ASSERT_EQ(0, pat_write(fd, 4, 5 * GiB, 4096));
	ASSERT_EQ(0, ftruncate(fd, 6 * GiB));
	for (pass = 0; pass < 2; pass++) {
		/* Then again from the disk, with no page cached. */
		if (pass) {
			ASSERT_EQ(0, fsync(fd));
			close(fd);
			ASSERT_EQ(0, remount());
			fd = open(p, O_RDWR);
			ASSERT_LE(0, fd);
		}
		ASSERT_SEEK(fd, 0, SEEK_DATA, 0);
		ASSERT_SEEK(fd, 100, SEEK_DATA, 100);
		ASSERT_SEEK(fd, 0, SEEK_HOLE, 4096);
		ASSERT_SEEK(fd, 4096, SEEK_DATA, MiB);
		ASSERT_SEEK(fd, 4096, SEEK_HOLE, 4096);
		ASSERT_SEEK(fd, MiB + 10, SEEK_HOLE, MiB + 4096);
		/* The unwritten range reads as zeroes: a hole but where written. */
		ASSERT_SEEK(fd, MiB + 4096, SEEK_DATA, 2 * MiB + 8192);
		ASSERT_SEEK(fd, 2 * MiB, SEEK_HOLE, 2 * MiB);
		ASSERT_SEEK(fd, 2 * MiB + 8192, SEEK_HOLE, 2 * MiB + 12288);
		ASSERT_SEEK(fd, 2 * MiB + 12288, SEEK_DATA, 5 * GiB);
		ASSERT_SEEK(fd, 5 * GiB + 4095, SEEK_DATA, 5 * GiB + 4095);
		ASSERT_SEEK(fd, 5 * GiB, SEEK_HOLE, 5 * GiB + 4096);
		ASSERT_SEEK(fd, 5 * GiB + 4096, SEEK_DATA, -1);
		ASSERT_SEEK(fd, 6 * GiB - 1, SEEK_HOLE, 6 * GiB - 1);
		ASSERT_SEEK(fd, 6 * GiB, SEEK_DATA, -1);
		ASSERT_SEEK(fd, 6 * GiB, SEEK_HOLE, -1);
		ASSERT_SEEK(fd, -1, SEEK_DATA, -1);
		/* The file offset moved to the answer. */
		ASSERT_SEEK(fd, 4096, SEEK_DATA, MiB);
		ASSERT_SEEK(fd, 0, SEEK_CUR, MiB);
	}
	close(fd);

	/* 400 extents: an index node over two leaves. */
	fd = open(path_of(p, self->dir, "tree"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	for (i = 0; i < 400; i++)
		ASSERT_EQ(0, pat_write(fd, i, (off_t)i * 65536, 4096));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(0, remount());
	fd = open(p, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 400; i++) {
		ASSERT_SEEK(fd, (off_t)i * 65536 + 1, SEEK_HOLE, (off_t)i * 65536 + 4096);
		ASSERT_SEEK(fd, (off_t)i * 65536 + 4096, SEEK_DATA,
			    i < 399 ? (off_t)(i + 1) * 65536 : -1);
	}
	close(fd);
}

/*
 * FIEMAP as ext4 reports it: each extent's offset, length and flags (the
 * physical blocks are the allocator's business), unwritten ranges flagged,
 * the last one too; from the cache and again from the disk.
 */
TEST_F_TIMEOUT(ops, fiemap_layout, 120)
{
	static const struct { long long off, len; unsigned int flags; } want[] = {
		{ 0, 4096, 0 },
		{ MiB, 4096, 0 },
		{ 2 * MiB, 8192, FIEMAP_EXTENT_UNWRITTEN },
		{ 2 * MiB + 8192, 4096, 0 },
		{ 2 * MiB + 12288, MiB - 12288, FIEMAP_EXTENT_UNWRITTEN },
		{ 5 * GiB, 4096, FIEMAP_EXTENT_LAST },
	};
	const int n = ARRAY_SIZE(want);
	struct fiemap *fm;
	char p[4096];
	int fd, i, pass;

	fm = calloc(1, sizeof(*fm) + 16 * sizeof(struct fiemap_extent));
	ASSERT_NE(NULL, fm);
	fd = open(path_of(p, self->dir, "m"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 4096));
	ASSERT_EQ(0, pat_write(fd, 2, MiB, 4096));
	ASSERT_EQ(0, fallocate(fd, 0, 2 * MiB, MiB));
	ASSERT_EQ(0, pat_write(fd, 3, 2 * MiB + 8192, 4096));
	ASSERT_EQ(0, pat_write(fd, 4, 5 * GiB, 4096));
	ASSERT_EQ(0, ftruncate(fd, 6 * GiB));
	for (pass = 0; pass < 2; pass++) {
		if (pass) {
			close(fd);
			ASSERT_EQ(0, remount());
			fd = open(p, O_RDONLY);
			ASSERT_LE(0, fd);
		}
		memset(fm, 0, sizeof(*fm));
		fm->fm_length = FIEMAP_MAX_OFFSET;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 16;
		ASSERT_EQ(0, ioctl(fd, FS_IOC_FIEMAP, fm)) TH_LOG("FIEMAP: %s", strerror(errno));
		for (i = 0; i < (int)fm->fm_mapped_extents; i++)
			TH_LOG("pass %d extent %d: %llu +%llu flags %#x", pass, i,
			       (unsigned long long)fm->fm_extents[i].fe_logical,
			       (unsigned long long)fm->fm_extents[i].fe_length,
			       fm->fm_extents[i].fe_flags);
		ASSERT_EQ(n, (int)fm->fm_mapped_extents);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(want[i].off, (long long)fm->fm_extents[i].fe_logical);
			ASSERT_EQ(want[i].len, (long long)fm->fm_extents[i].fe_length);
			ASSERT_EQ(want[i].flags, fm->fm_extents[i].fe_flags);
			ASSERT_NE(0, fm->fm_extents[i].fe_physical);
		}
		/* Only the extents from 1 MiB on, and only as many as asked. */
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = MiB;
		fm->fm_length = FIEMAP_MAX_OFFSET;
		fm->fm_extent_count = 2;
		ASSERT_EQ(0, ioctl(fd, FS_IOC_FIEMAP, fm));
		ASSERT_EQ(2, (int)fm->fm_mapped_extents);
		ASSERT_EQ(MiB, (long long)fm->fm_extents[0].fe_logical);
		ASSERT_EQ(2 * MiB, (long long)fm->fm_extents[1].fe_logical);
	}
	close(fd);
	free(fm);
}

TEST_F_TIMEOUT(ops, truncate, 120)
{
	char p[4096];
	struct stat st;
	int fd;

	fd = open(path_of(p, self->dir, "t"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 100000));
	ASSERT_EQ(0, fsync(fd));
	/* Down to the middle of a block, then up again: the tail is zero. */
	ASSERT_EQ(0, ftruncate(fd, 50001));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(50001, st.st_size);
	ASSERT_PAT(fd, 1, 0, 50001);
	ASSERT_EQ(0, ftruncate(fd, 200000));
	ASSERT_PAT(fd, 1, 0, 50001);
	ASSERT_PAT(fd, 0, 50001, 200000 - 50001);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 1, 0, 50001);
	ASSERT_PAT(fd, 0, 50001, 200000 - 50001);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_GE(13 * 8, st.st_blocks) TH_LOG("blocks past the truncation were kept: %lld sectors",
					       (long long)st.st_blocks);
	/* Written data past a truncation point, truncated away, stays away. */
	ASSERT_EQ(0, pat_write(fd, 2, 150000, 10000));
	ASSERT_EQ(0, ftruncate(fd, 150001));
	ASSERT_EQ(0, ftruncate(fd, 170000));
	ASSERT_PAT(fd, 2, 150000, 1);
	ASSERT_PAT(fd, 0, 150001, 19999);
	close(fd);
	/* Through the path; to zero; to a sparse 1 GiB. */
	ASSERT_EQ(0, truncate(p, 0));
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_EQ(0, st.st_size);
	ASSERT_EQ(0, st.st_blocks);
	ASSERT_EQ(0, truncate(p, GiB));
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_EQ(GiB, st.st_size);
	ASSERT_EQ(0, st.st_blocks);
	ASSERT_ERRNO(truncate(self->dir, 0), EISDIR);
	ASSERT_ERRNO(truncate(p, -1), EINVAL);
	fd = open(p, O_RDONLY);
	ASSERT_ERRNO(ftruncate(fd, 0), EINVAL);
	ASSERT_PAT(fd, 0, GiB - 4096, 4096);
	close(fd);
}

TEST_F_TIMEOUT(ops, fallocate, 120)
{
	char p[4096];
	struct stat st;
	blkcnt_t b0;
	int fd;

	/* Mode 0: allocated, size extended, reads as zeroes. */
	fd = open(path_of(p, self->dir, "falloc"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, MiB)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(MiB, st.st_size);
	ASSERT_LE(2048, st.st_blocks);
	ASSERT_PAT(fd, 0, 0, MiB);
	ASSERT_EQ(0, pat_write(fd, 1, 500000, 10));
	/* KEEP_SIZE: allocated past EOF, size unchanged. */
	b0 = st.st_blocks;
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, MiB, MiB));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(MiB, st.st_size);
	ASSERT_LE(b0 + 2048, st.st_blocks);
	/*
	 * A truncate to the same size frees what lies past EOF, as on ext4
	 * (xfstests generic/092), here and after a new mount.
	 */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * MiB, MiB));
	ASSERT_EQ(0, ftruncate(fd, MiB));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(MiB, st.st_size);
	ASSERT_EQ(b0, st.st_blocks) TH_LOG("%lld sectors past EOF after a truncate to the size",
					   (long long)(st.st_blocks - b0));
	close(fd);
	ASSERT_EQ(0, remount());
	fd = open(p, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(b0, st.st_blocks);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, MiB, MiB));
	ASSERT_EQ(0, ftruncate(fd, 2 * MiB));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 0, 0, 500000);
	ASSERT_PAT(fd, 1, 500000, 10);
	ASSERT_PAT(fd, 0, 500010, 2 * MiB - 500010);
	close(fd);

	/* Punching: zeroes inside, whole blocks freed, size unchanged. */
	fd = open(path_of(p, self->dir, "punch"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 2, 0, 256 * KiB));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fstat(fd, &st));
	b0 = st.st_blocks;
	ASSERT_ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 5000, 100000), EOPNOTSUPP);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5000, 100000));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(256 * KiB, st.st_size);
	ASSERT_GE(b0 - 23 * 8, st.st_blocks)
		TH_LOG("punching 23 whole blocks freed %lld sectors",
		       (long long)(b0 - st.st_blocks));
	ASSERT_PAT(fd, 2, 0, 5000);
	ASSERT_PAT(fd, 0, 5000, 100000);
	ASSERT_PAT(fd, 2, 105000, 256 * KiB - 105000);
	/* Past EOF: nothing happens. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB, MiB));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(256 * KiB, st.st_size);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 2, 0, 5000);
	ASSERT_PAT(fd, 0, 5000, 100000);
	ASSERT_PAT(fd, 2, 105000, 256 * KiB - 105000);
	close(fd);

	/* Zeroing a range, inside and then past EOF. */
	fd = open(path_of(p, self->dir, "zero"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 3, 0, 512 * KiB));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_ZERO_RANGE, 100, 300000))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(512 * KiB, st.st_size);
	ASSERT_PAT(fd, 3, 0, 100);
	ASSERT_PAT(fd, 0, 100, 300000);
	ASSERT_PAT(fd, 3, 300100, 512 * KiB - 300100);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_ZERO_RANGE, 500 * KiB, 100 * KiB));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(600 * KiB, st.st_size) TH_LOG("ZERO_RANGE past EOF extends the file");
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 700 * KiB, 4096));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(600 * KiB, st.st_size);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 3, 0, 100);
	ASSERT_PAT(fd, 0, 100, 300000);
	ASSERT_PAT(fd, 3, 300100, 500 * KiB - 300100);
	ASSERT_PAT(fd, 0, 500 * KiB, 100 * KiB);
	close(fd);
	fd = open(p, O_RDONLY);
	ASSERT_ERRNO(fallocate(fd, 0, 0, 4096), EBADF);
	close(fd);
}

TEST_F_TIMEOUT(ops, mkdir_rmdir, 120)
{
	char a[4096], b[4096], f[4096];
	struct stat st, parent;
	int fd;

	ASSERT_EQ(0, stat(self->dir, &parent));
	ASSERT_EQ(2, parent.st_nlink);
	ASSERT_EQ(0, mkdir(path_of(a, self->dir, "a"), 0750));
	ASSERT_ERRNO(mkdir(a, 0750), EEXIST);
	ASSERT_EQ(0, stat(a, &st));
	ASSERT_EQ(S_IFDIR | 0750, st.st_mode);
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_EQ(4096, st.st_size);
	ASSERT_EQ(0, stat(self->dir, &parent));
	ASSERT_EQ(3, parent.st_nlink) TH_LOG("the parent's link count after mkdir");
	ASSERT_EQ(0, mkdir(path_of(b, a, "b"), 0700));
	ASSERT_EQ(0, stat(a, &st));
	ASSERT_EQ(3, st.st_nlink);
	ASSERT_ERRNO(rmdir(a), ENOTEMPTY);
	ASSERT_ERRNO(mkdir(path_of(f, self->dir, "missing/x"), 0755), ENOENT);
	fd = open(path_of(f, b, "file"), O_CREAT | O_WRONLY, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_ERRNO(rmdir(f), ENOTDIR);
	ASSERT_ERRNO(unlink(b), EISDIR);
	ASSERT_ERRNO(rmdir(b), ENOTEMPTY);
	ASSERT_EQ(0, unlink(f));
	{
		char dot[4096];

		snprintf(dot, sizeof(dot), "%s/.", b);
		ASSERT_ERRNO(rmdir(dot), EINVAL);
	}
	ASSERT_EQ(0, rmdir(b));
	ASSERT_ERRNO(stat(b, &st), ENOENT);
	ASSERT_EQ(0, stat(a, &st));
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_EQ(0, rmdir(a));
	ASSERT_EQ(0, stat(self->dir, &parent));
	ASSERT_EQ(2, parent.st_nlink) TH_LOG("the parent's link count after rmdir");
	/* A directory that stays, with an entry. */
	ASSERT_EQ(0, mkdir(path_of(a, self->dir, "kept"), 0755));
	ASSERT_EQ(0, mkdir(path_of(b, a, "inner"), 0755));
}

static unsigned long long free_blocks(const char *path)
{
	struct statfs sf;

	sync();
	if (statfs(path, &sf))
		return 0;
	return sf.f_bfree;
}

TEST_F_TIMEOUT(ops, unlink_open, 120)
{
	char p[4096];
	struct stat st;
	unsigned long long before, open_unlinked, after;
	int fd;

	before = free_blocks(FSRW_MNT);
	fd = open(path_of(p, self->dir, "u"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 4 * MiB));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, unlink(p));
	ASSERT_ERRNO(stat(p, &st), ENOENT);
	ASSERT_ERRNO(unlink(p), ENOENT);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, st.st_nlink);
	ASSERT_EQ(0, fsrw_drop_caches());
	ASSERT_PAT(fd, 1, 0, 4 * MiB);
	ASSERT_EQ(0, pat_write(fd, 2, 4 * MiB, MiB));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_PAT(fd, 2, 4 * MiB, MiB);
	open_unlinked = free_blocks(FSRW_MNT);
	ASSERT_GE(before - 1280, open_unlinked) TH_LOG("an open unlinked file's blocks were freed");
	ASSERT_EQ(0, close(fd));
	after = free_blocks(FSRW_MNT);
	ASSERT_LE(open_unlinked + 1280, after) TH_LOG("closing freed %lld blocks, not 1280",
						      (long long)(after - open_unlinked));
	ASSERT_GE(16, before > after ? before - after : after - before)
		TH_LOG("free blocks: %llu before, %llu after", (unsigned long long)before,
		       (unsigned long long)after);
}

TEST_F_TIMEOUT(ops, link, 120)
{
	char a[4096], b[4096], c[4096], d[4096];
	struct stat sa, sb;
	int fd;

	fd = open(path_of(a, self->dir, "a"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 20000));
	close(fd);
	ASSERT_EQ(0, link(a, path_of(b, self->dir, "b")));
	ASSERT_EQ(0, stat(a, &sa));
	ASSERT_EQ(0, stat(b, &sb));
	ASSERT_EQ(sa.st_ino, sb.st_ino);
	ASSERT_EQ(2, sa.st_nlink);
	fd = open(b, O_WRONLY);
	ASSERT_EQ(0, pat_write(fd, 2, 0, 100));
	close(fd);
	fd = open(a, O_RDONLY);
	ASSERT_PAT(fd, 2, 0, 100);
	close(fd);
	ASSERT_ERRNO(link(a, b), EEXIST);
	ASSERT_ERRNO(link(self->dir, path_of(c, self->dir, "dirlink")), EPERM);
	ASSERT_ERRNO(link(path_of(c, self->dir, "missing"), path_of(d, self->dir, "x")), ENOENT);
	ASSERT_EQ(0, mkdir(path_of(c, self->dir, "sub"), 0755));
	ASSERT_EQ(0, link(a, path_of(d, c, "c")));
	ASSERT_EQ(0, stat(d, &sb));
	ASSERT_EQ(3, sb.st_nlink);
	ASSERT_EQ(0, unlink(a));
	ASSERT_EQ(0, stat(b, &sb));
	ASSERT_EQ(2, sb.st_nlink);
	ASSERT_EQ(0, remount());
	fd = open(d, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_PAT(fd, 2, 0, 100);
	ASSERT_PAT(fd, 1, 100, 19900);
	close(fd);
}

TEST_F_TIMEOUT(ops, symlink, 120)
{
	static const int lens[] = { 1, 58, 59, 60, 61, 200, 4095 };
	char p[4096], target[4097], got[4097];
	struct stat st;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 7; i++) {
		memset(target, 'a' + i, lens[i]);
		target[lens[i]] = '\0';
		snprintf(p, sizeof(p), "%s/l%d", self->dir, lens[i]);
		ASSERT_EQ(0, symlink(target, p))
			TH_LOG("a %d-byte target: %s", lens[i], strerror(errno));
	}
	ASSERT_ERRNO(symlink("x", p), EEXIST);
	memset(target, 'z', 4096);
	target[4096] = '\0';
	ASSERT_ERRNO(symlink(target, path_of(p, self->dir, "toolong")), ENAMETOOLONG);
	/* A link that resolves. */
	ASSERT_EQ(0, symlink("l1", path_of(p, self->dir, "tolink")));
	ASSERT_EQ(0, mkdir(path_of(p, self->dir, "d"), 0755));
	ASSERT_EQ(0, symlink("../symlink/d", path_of(p, self->dir, "todir")));
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));

	ASSERT_EQ(0, remount());
	for (i = 0; i < 7; i++) {
		memset(target, 'a' + i, lens[i]);
		target[lens[i]] = '\0';
		snprintf(p, sizeof(p), "%s/l%d", self->dir, lens[i]);
		ASSERT_EQ(0, lstat(p, &st));
		ASSERT_EQ(S_IFLNK | 0777, st.st_mode);
		ASSERT_EQ(lens[i], st.st_size);
		/* ext4's rule: under 60 bytes in the inode, from 60 in a block. */
		ASSERT_EQ(lens[i] < 60 ? 0 : 8, st.st_blocks)
			TH_LOG("a %d-byte target takes %lld sectors", lens[i],
			       (long long)st.st_blocks);
		n = readlink(p, got, sizeof(got));
		ASSERT_EQ(lens[i], n);
		ASSERT_EQ(0, memcmp(got, target, n))
			TH_LOG("the %d-byte target reads back wrong", lens[i]);
	}
	ASSERT_EQ(0, stat(path_of(p, self->dir, "todir"), &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_ERRNO(readlink(path_of(p, self->dir, "d"), got, sizeof(got)), EINVAL);
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static nlink_t nlink_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_nlink;
}

static int make_file(const char *path, unsigned int seed, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int err;

	if (fd < 0)
		return -errno;
	err = pat_write(fd, seed, 0, len);
	close(fd);
	return err;
}

static int rename2(const char *a, const char *b, unsigned int flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

TEST_F_TIMEOUT(ops, rename, 120)
{
	char a[4096], b[4096], d1[4096], d2[4096], x[4096], y[4096];
	struct stat st;
	ino_t ia;
	int fd, old;

	/* Over an existing file: the target's old inode goes when closed. */
	ASSERT_EQ(0, make_file(path_of(a, self->dir, "a"), 1, 5000));
	ASSERT_EQ(0, make_file(path_of(b, self->dir, "b"), 2, 7000));
	ia = ino_of(a);
	old = open(b, O_RDONLY);
	ASSERT_EQ(0, rename(a, b));
	ASSERT_ERRNO(stat(a, &st), ENOENT);
	ASSERT_EQ(ia, ino_of(b));
	ASSERT_EQ(0, fstat(old, &st));
	ASSERT_EQ(0, st.st_nlink) TH_LOG("the replaced inode still has links");
	ASSERT_PAT(old, 2, 0, 7000);
	close(old);
	fd = open(b, O_RDONLY);
	ASSERT_PAT(fd, 1, 0, 5000);
	close(fd);
	/* Onto itself, and between two names of one inode: nothing happens. */
	ASSERT_EQ(0, rename(b, b));
	ASSERT_EQ(0, link(b, a));
	ASSERT_EQ(0, rename(a, b));
	ASSERT_EQ(0, stat(a, &st));
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_EQ(0, unlink(a));

	/* Across directories: a file, and a directory whose '..' changes. */
	ASSERT_EQ(0, mkdir(path_of(d1, self->dir, "d1"), 0755));
	ASSERT_EQ(0, mkdir(path_of(d2, self->dir, "d2"), 0755));
	ASSERT_EQ(0, make_file(path_of(x, d1, "f"), 3, 100));
	ASSERT_EQ(0, rename(x, path_of(y, d2, "g")));
	ASSERT_EQ(0, mkdir(path_of(x, d1, "sub"), 0755));
	ASSERT_EQ(0, make_file(path_of(a, x, "inner"), 4, 10));
	ASSERT_EQ(3, nlink_of(d1));
	ASSERT_EQ(0, rename(x, path_of(y, d2, "sub")));
	ASSERT_EQ(2, nlink_of(d1)) TH_LOG("the old parent's link count");
	ASSERT_EQ(3, nlink_of(d2)) TH_LOG("the new parent's link count");
	snprintf(a, sizeof(a), "%s/sub/..", d2);
	ASSERT_EQ(ino_of(d2), ino_of(a)) TH_LOG("'..' of a moved directory");

	/* RENAME_NOREPLACE. */
	ASSERT_EQ(0, make_file(path_of(x, self->dir, "x"), 5, 50));
	ASSERT_EQ(0, make_file(path_of(y, self->dir, "y"), 6, 60));
	ASSERT_ERRNO(rename2(x, y, RENAME_NOREPLACE), EEXIST);
	ASSERT_EQ(0, rename2(x, path_of(a, self->dir, "x2"), RENAME_NOREPLACE));
	ASSERT_EQ(0, rename(a, x));

	/* RENAME_EXCHANGE: two files; then a file and a directory across parents. */
	ASSERT_EQ(0, rename2(x, y, RENAME_EXCHANGE));
	fd = open(x, O_RDONLY);
	ASSERT_PAT(fd, 6, 0, 60);
	close(fd);
	fd = open(y, O_RDONLY);
	ASSERT_PAT(fd, 5, 0, 50);
	close(fd);
	ASSERT_ERRNO(rename2(x, path_of(a, self->dir, "nothing"), RENAME_EXCHANGE), ENOENT);
	path_of(a, d1, "file");
	ASSERT_EQ(0, make_file(a, 7, 70));
	path_of(b, d2, "sub");
	ASSERT_EQ(0, rename2(a, b, RENAME_EXCHANGE));
	ASSERT_EQ(3, nlink_of(d1)) TH_LOG("d1 after it got a directory by exchange");
	ASSERT_EQ(2, nlink_of(d2)) TH_LOG("d2 after it gave a directory by exchange");
	snprintf(x, sizeof(x), "%s/file/..", d1);
	ASSERT_EQ(ino_of(d1), ino_of(x)) TH_LOG("'..' after an exchange");
	snprintf(x, sizeof(x), "%s/file/inner", d1);
	ASSERT_NE(0, ino_of(x));
	fd = open(b, O_RDONLY);
	ASSERT_PAT(fd, 7, 0, 70);
	close(fd);

	/* A directory into its own subtree; directories over other things. */
	snprintf(x, sizeof(x), "%s/file/deeper", d1);
	ASSERT_EQ(0, mkdir(x, 0755));
	snprintf(y, sizeof(y), "%s/file/deeper/moved", d1);
	path_of(a, d1, "file");
	ASSERT_ERRNO(rename(a, y), EINVAL);
	ASSERT_ERRNO(rename(a, d2), ENOTEMPTY);
	ASSERT_ERRNO(rename(a, b), ENOTDIR);
	ASSERT_ERRNO(rename(b, a), EISDIR);
	ASSERT_EQ(0, mkdir(path_of(y, self->dir, "empty"), 0755));
	ASSERT_EQ(0, rename(x, y)) TH_LOG("a directory over an empty one: %s", strerror(errno));
	ASSERT_ERRNO(stat(x, &st), ENOENT);
	/* d1, d2 and the moved directory. */
	ASSERT_EQ(5, nlink_of(self->dir)) TH_LOG("link count of the test directory");

	ASSERT_EQ(0, remount());
	ASSERT_EQ(0, stat(b, &st));
	ASSERT_TRUE(S_ISREG(st.st_mode)) TH_LOG("d2/sub is not the file it was exchanged for");
	snprintf(x, sizeof(x), "%s/file/..", d1);
	ASSERT_EQ(ino_of(d1), ino_of(x)) TH_LOG("'..' after a remount");
	snprintf(a, sizeof(a), "%s/g", d2);
	fd = open(a, O_RDONLY);
	ASSERT_PAT(fd, 3, 0, 100);
	close(fd);
}

TEST_F_TIMEOUT(ops, attributes, 120)
{
	struct timespec ts[2], before;
	char p[4096];
	struct stat st;

	ASSERT_EQ(0, make_file(path_of(p, self->dir, "f"), 1, 10));
	ASSERT_EQ(0, chown(p, 1234, 5678));
	ASSERT_EQ(0, chmod(p, 04751));
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_EQ(S_IFREG | 04751, st.st_mode);
	ASSERT_EQ(1234, st.st_uid);
	ASSERT_EQ(5678, st.st_gid);
	before = st.st_ctim;
	usleep(30000);
	/* chown by root drops set-user-ID. */
	ASSERT_EQ(0, chown(p, 4000000000U, 70000));
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_EQ(4000000000U, st.st_uid);
	ASSERT_EQ(70000, st.st_gid);
	ASSERT_EQ(S_IFREG | 0751, st.st_mode) TH_LOG("mode %o after chown", st.st_mode);
	ASSERT_TRUE(st.st_ctim.tv_sec > before.tv_sec ||
		    (st.st_ctim.tv_sec == before.tv_sec && st.st_ctim.tv_nsec > before.tv_nsec))
		TH_LOG("chown did not move ctime");
	ASSERT_ERRNO(chmod(path_of(p, self->dir, "missing"), 0644), ENOENT);

	/* Times with nanoseconds, before 1970 and after 2038. */
	static const struct { long long s; long ns; } t[] = {
		{ 1700000000, 123456789 }, { -12345, 999999999 }, { (1LL << 33) + 5, 7 },
		{ 0, 1 }, { (1LL << 31) + 17, 500000000 },
	};
	unsigned int i;

	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/t%u", self->dir, i);
		ASSERT_EQ(0, make_file(p, 2, 1));
		ts[0].tv_sec = t[(i + 1) % 5].s;
		ts[0].tv_nsec = t[(i + 1) % 5].ns;
		ts[1].tv_sec = t[i].s;
		ts[1].tv_nsec = t[i].ns;
		ASSERT_EQ(0, utimensat(AT_FDCWD, p, ts, 0));
	}
	/* UTIME_OMIT keeps one, UTIME_NOW sets one to now. */
	snprintf(p, sizeof(p), "%s/t0", self->dir);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	ASSERT_EQ(0, utimensat(AT_FDCWD, p, ts, 0));
	ASSERT_EQ(0, chmod(self->dir, 0711));

	ASSERT_EQ(0, remount());
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/t%u", self->dir, i);
		ASSERT_EQ(0, stat(p, &st));
		ASSERT_EQ(t[(i + 1) % 5].s, (long long)st.st_atim.tv_sec) TH_LOG("atime of t%u", i);
		ASSERT_EQ(t[(i + 1) % 5].ns, st.st_atim.tv_nsec) TH_LOG("atime ns of t%u", i);
		if (i == 0) {
			ASSERT_LT(1700000000, st.st_mtim.tv_sec) TH_LOG("UTIME_NOW");
			continue;
		}
		ASSERT_EQ(t[i].s, (long long)st.st_mtim.tv_sec) TH_LOG("mtime of t%u", i);
		ASSERT_EQ(t[i].ns, st.st_mtim.tv_nsec) TH_LOG("mtime ns of t%u", i);
	}
	ASSERT_EQ(0, stat(path_of(p, self->dir, "f"), &st));
	ASSERT_EQ(4000000000U, st.st_uid);
	ASSERT_EQ(S_IFREG | 0751, st.st_mode);
	ASSERT_EQ(0, stat(self->dir, &st));
	ASSERT_EQ(S_IFDIR | 0711, st.st_mode);
}

static int xattr_is(const char *path, const char *name, unsigned int seed, size_t len)
{
	unsigned char *buf = malloc(len + 16);
	ssize_t n;
	int ok;

	if (!buf)
		return 0;
	n = getxattr(path, name, buf, len + 16);
	ok = n == (ssize_t)len && pat_diff(buf, seed, 0, len) == -1;
	if (!ok)
		printf("# %s of %s: %zd bytes (%s), expected %zu of seed %u\n", name, path, n,
		       n < 0 ? strerror(errno) : "content", len, seed);
	free(buf);
	return ok;
}

static int set_xattr(const char *path, const char *name, unsigned int seed, size_t len, int flags)
{
	unsigned char *buf = malloc(len + 1);
	int r;

	if (!buf)
		return -1;
	pat_fill(buf, seed, 0, len);
	r = setxattr(path, name, buf, len, flags);
	free(buf);
	return r;
}

TEST_F_TIMEOUT(ops, xattrs, 120)
{
	char p[4096], d[4096], l[4096], list[8192], name[64], small[4];
	unsigned int i;
	ssize_t n;
	int e;

	ASSERT_EQ(0, make_file(path_of(p, self->dir, "f"), 1, 10));
	/* Small values: in the inode. */
	ASSERT_EQ(0, set_xattr(p, "user.a", 1, 1, 0));
	ASSERT_EQ(0, set_xattr(p, "user.empty", 1, 0, 0));
	ASSERT_EQ(0, set_xattr(p, "user.mid", 2, 40, XATTR_CREATE));
	ASSERT_TRUE(xattr_is(p, "user.a", 1, 1));
	ASSERT_TRUE(xattr_is(p, "user.empty", 1, 0));
	ASSERT_TRUE(xattr_is(p, "user.mid", 2, 40));
	ASSERT_EQ(40, getxattr(p, "user.mid", NULL, 0)) TH_LOG("the size of a value");
	ASSERT_ERRNO(getxattr(p, "user.mid", small, sizeof(small)), ERANGE);
	ASSERT_ERRNO(set_xattr(p, "user.mid", 3, 5, XATTR_CREATE), EEXIST);
	ASSERT_ERRNO(set_xattr(p, "user.none", 3, 5, XATTR_REPLACE), ENODATA);
	ASSERT_ERRNO(getxattr(p, "user.none", NULL, 0), ENODATA);
	ASSERT_ERRNO(removexattr(p, "user.none"), ENODATA);
	/* Large values: in the xattr block; one that fits nowhere. */
	ASSERT_EQ(0, set_xattr(p, "user.big1", 4, 1000, 0));
	ASSERT_EQ(0, set_xattr(p, "user.big2", 5, 2000, 0));
	errno = 0;
	ASSERT_EQ(-1, set_xattr(p, "user.huge", 6, 5000, 0)) TH_LOG("a 5000-byte value was set");
	e = errno;
	ASSERT_TRUE(e == ENOSPC || e == E2BIG) TH_LOG("a 5000-byte value: %s", strerror(e));
	ASSERT_ERRNO(getxattr(p, "user.huge", NULL, 0), ENODATA);
	ASSERT_TRUE(xattr_is(p, "user.big1", 4, 1000));
	ASSERT_TRUE(xattr_is(p, "user.big2", 5, 2000));
	/* Many small ones overflow the inode. */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "user.many%02u", i);
		ASSERT_EQ(0, set_xattr(p, name, 10 + i, 30, 0))
			TH_LOG("%s: %s", name, strerror(errno));
	}
	n = listxattr(p, list, sizeof(list));
	ASSERT_LT(0, n);
	{
		int count = 0;
		ssize_t off;

		for (off = 0; off < n; off += strlen(list + off) + 1)
			count++;
		ASSERT_EQ(15, count) TH_LOG("listxattr names");
	}
	/* Replace: big to small, small to big; remove. */
	ASSERT_EQ(0, set_xattr(p, "user.big1", 7, 3, XATTR_REPLACE));
	ASSERT_EQ(0, set_xattr(p, "user.a", 8, 800, XATTR_REPLACE)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, removexattr(p, "user.big2"));
	ASSERT_ERRNO(getxattr(p, "user.big2", NULL, 0), ENODATA);
	ASSERT_EQ(0, removexattr(p, "user.many05"));
	ASSERT_EQ(0, setxattr(p, "trusted.t", "trusted", 7, 0));
	ASSERT_EQ(0, setxattr(p, "security.s", "security", 8, 0));
	/* On a directory; user.* is refused on a symlink. */
	ASSERT_EQ(0, mkdir(path_of(d, self->dir, "d"), 0755));
	ASSERT_EQ(0, set_xattr(d, "user.dir", 9, 300, 0));
	ASSERT_EQ(0, symlink("f", path_of(l, self->dir, "l")));
	ASSERT_ERRNO(lsetxattr(l, "user.x", "x", 1, 0), EPERM);
	/* A file whose xattrs all go again. */
	ASSERT_EQ(0, make_file(path_of(l, self->dir, "g"), 1, 10));
	ASSERT_EQ(0, set_xattr(l, "user.gone", 9, 3000, 0));
	ASSERT_EQ(0, removexattr(l, "user.gone"));
	ASSERT_EQ(0, listxattr(l, list, sizeof(list)));

	ASSERT_EQ(0, remount());
	ASSERT_TRUE(xattr_is(p, "user.a", 8, 800));
	ASSERT_TRUE(xattr_is(p, "user.empty", 1, 0));
	ASSERT_TRUE(xattr_is(p, "user.mid", 2, 40));
	ASSERT_TRUE(xattr_is(p, "user.big1", 7, 3));
	ASSERT_ERRNO(getxattr(p, "user.big2", NULL, 0), ENODATA);
	ASSERT_ERRNO(getxattr(p, "user.many05", NULL, 0), ENODATA);
	for (i = 0; i < 10; i++) {
		if (i == 5)
			continue;
		snprintf(name, sizeof(name), "user.many%02u", i);
		ASSERT_TRUE(xattr_is(p, name, 10 + i, 30));
	}
	ASSERT_EQ(7, getxattr(p, "trusted.t", list, sizeof(list)));
	ASSERT_EQ(0, memcmp(list, "trusted", 7));
	ASSERT_TRUE(xattr_is(d, "user.dir", 9, 300));
	ASSERT_EQ(0, listxattr(l, list, sizeof(list)));
}

TEST_F_TIMEOUT(ops, mmap_write, 120)
{
	char p[4096], q[4096];
	unsigned char *m;
	int fd;

	/* A sparse file: the stores allocate its blocks. */
	fd = open(path_of(p, self->dir, "m"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * MiB));
	m = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pat_fill(m, 1, 0, 4 * MiB);
	ASSERT_EQ(0, msync(m, 4 * MiB, MS_SYNC));
	/* The same pages through read(). */
	ASSERT_PAT(fd, 1, 0, 4 * MiB);
	pat_fill(m + 8192, 2, 8192, 100);
	ASSERT_EQ(0, munmap(m, 4 * MiB));
	close(fd);

	/* Preallocated (unwritten) blocks, and a last page past EOF. */
	fd = open(path_of(q, self->dir, "u"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, 10000));
	m = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pat_fill(m, 3, 0, 12288);
	ASSERT_EQ(0, msync(m, 12288, MS_SYNC));
	ASSERT_EQ(0, munmap(m, 12288));
	close(fd);

	ASSERT_EQ(0, remount());
	fd = open(p, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_PAT(fd, 1, 0, 8192);
	ASSERT_PAT(fd, 2, 8192, 100);
	ASSERT_PAT(fd, 1, 8292, 4 * MiB - 8292);
	close(fd);
	fd = open(q, O_RDWR);
	ASSERT_LE(0, fd);
	{
		struct stat st;

		ASSERT_EQ(0, fstat(fd, &st));
		ASSERT_EQ(10000, st.st_size) TH_LOG("stores past EOF changed the size");
	}
	ASSERT_PAT(fd, 3, 0, 10000);
	/* What was stored past EOF must not show when the file grows. */
	ASSERT_EQ(0, ftruncate(fd, 12288));
	ASSERT_PAT(fd, 0, 10000, 2288);
	close(fd);
}

TEST_F_TIMEOUT(ops, statfs, 120)
{
	struct statfs a, b, c;
	char p[4096];
	int fd;

	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &a));
	ASSERT_EQ(4096, a.f_bsize);
	ASSERT_EQ(255, a.f_namelen);
	ASSERT_LT(0, a.f_blocks);
	ASSERT_LE(a.f_bavail, a.f_bfree);
	fd = open(path_of(p, self->dir, "ten"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pat_write(fd, 1, 0, 10 * MiB));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &b));
	ASSERT_LE(a.f_bfree - 2560 - 64, b.f_bfree) TH_LOG("10 MiB took %lld blocks",
							   (long long)(a.f_bfree - b.f_bfree));
	ASSERT_GE(a.f_bfree - 2560, b.f_bfree) TH_LOG("10 MiB took %lld blocks",
						      (long long)(a.f_bfree - b.f_bfree));
	ASSERT_EQ(a.f_ffree - 1, b.f_ffree);
	ASSERT_EQ(a.f_blocks, b.f_blocks);
	ASSERT_EQ(0, unlink(p));
	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &c));
	ASSERT_GE(8, a.f_bfree > c.f_bfree ? a.f_bfree - c.f_bfree : c.f_bfree - a.f_bfree)
		TH_LOG("free blocks: %lld before, %lld after", (long long)a.f_bfree,
		       (long long)c.f_bfree);
	ASSERT_EQ(a.f_ffree, c.f_ffree);
}

TEST_F_TIMEOUT(ops, enospc, 300)
{
	char p[4096], q[4096];
	struct statfs a, b;
	unsigned long long chunk = 256 * MiB, off = 0, wrote = 0;
	struct stat st;
	unsigned char *buf;
	int fd, fd2, e = 0;
	ssize_t n;

	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &a));
	/* More than there is: refused. */
	fd = open(path_of(p, self->dir, "big"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd);
	ASSERT_ERRNO(fallocate(fd, 0, 0, (a.f_bfree + 1000) * 4096), ENOSPC);
	/* Then fill it, in smaller and smaller pieces. */
	while (chunk >= 4096) {
		if (fallocate(fd, 0, off, chunk)) {
			ASSERT_EQ(ENOSPC, errno) TH_LOG("fallocate: %s", strerror(errno));
			ASSERT_EQ(0, fstat(fd, &st));
			off = st.st_size;
			chunk /= 4;
			continue;
		}
		off += chunk;
	}
	ASSERT_EQ(0, fsync(fd));
	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &b));
	/* What is left is the reserve only root's metadata may use. */
	ASSERT_EQ(0, b.f_bavail) TH_LOG("%lld blocks available when full", (long long)b.f_bavail);
	ASSERT_GE(a.f_bfree - a.f_bavail + 64, b.f_bfree)
		TH_LOG("%lld blocks free when full, %lld reserved", (long long)b.f_bfree,
		       (long long)(a.f_bfree - a.f_bavail));
	/* Buffered writes fail with ENOSPC, and what was written stays. */
	buf = malloc(MiB);
	ASSERT_NE(NULL, buf);
	fd2 = open(path_of(q, self->dir, "more"), O_CREAT | O_RDWR, 0644);
	ASSERT_LE(0, fd2) TH_LOG("create when full: %s", strerror(errno));
	for (;;) {
		pat_fill(buf, 1, wrote, MiB);
		n = write(fd2, buf, MiB);
		if (n < 0) {
			e = errno;
			break;
		}
		wrote += n;
		if (wrote > 2 * b.f_bfree * 4096 + 2 * MiB)
			break;
	}
	ASSERT_EQ(ENOSPC, e) TH_LOG("writing to a full volume: %s after %llu bytes",
				    e ? strerror(e) : "no error", (unsigned long long)wrote);
	n = fsync(fd2);
	e = errno;
	ASSERT_EQ(0, n) TH_LOG("fsync after ENOSPC: %s", strerror(e));
	ASSERT_EQ(0, fstat(fd2, &st));
	ASSERT_EQ(wrote, st.st_size);
	ASSERT_PAT(fd2, 1, 0, wrote);
	ASSERT_ERRNO(mkdir(path_of(q, self->dir, "dir"), 0755), ENOSPC);
	/* Freed, the space comes back and can be used. */
	close(fd);
	ASSERT_EQ(0, unlink(p));
	sync();
	ASSERT_EQ(0, statfs(FSRW_MNT, &b));
	ASSERT_LE(a.f_bfree - wrote / 4096 - 16, b.f_bfree)
		TH_LOG("%lld blocks free before, %lld after the delete", (long long)a.f_bfree,
		       (long long)b.f_bfree);
	ASSERT_EQ(0, pat_write(fd2, 2, wrote, 8 * MiB));
	ASSERT_EQ(0, fsync(fd2));
	close(fd2);
	ASSERT_EQ(0, mkdir(q, 0755));
	free(buf);
}

TEST_F_TIMEOUT(ops, dir_growth, 300)
{
	char p[4096], name[128];
	struct stat st;
	struct dirent *de;
	unsigned int i, n;
	DIR *d;
	int fd;

	/* 3000 names of 40+ bytes: many blocks, so an htree. */
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%s/entry-with-a-long-name-for-growth-%06u",
			 self->dir, i);
		fd = open(name, O_CREAT | O_WRONLY, 0644);
		ASSERT_LE(0, fd) TH_LOG("create #%u: %s", i, strerror(errno));
		close(fd);
	}
	ASSERT_EQ(0, stat(self->dir, &st));
	ASSERT_LT(4096 * 20, st.st_size) TH_LOG("a directory of 3000 names is %lld bytes",
						(long long)st.st_size);
	for (i = 0; i < 3000; i += 2) {
		snprintf(name, sizeof(name), "%s/entry-with-a-long-name-for-growth-%06u",
			 self->dir, i);
		ASSERT_EQ(0, unlink(name)) TH_LOG("unlink #%u: %s", i, strerror(errno));
	}
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "%s/n%u", self->dir, i);
		ASSERT_EQ(0, mkdir(name, 0755));
	}
	ASSERT_EQ(0, remount());
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%s/entry-with-a-long-name-for-growth-%06u",
			 self->dir, i);
		if (!(i % 2)) {
			ASSERT_ERRNO(stat(name, &st), ENOENT);
			continue;
		}
		ASSERT_EQ(0, stat(name, &st)) TH_LOG("lookup #%u: %s", i, strerror(errno));
	}
	d = opendir(self->dir);
	ASSERT_NE(NULL, d);
	n = 0;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	ASSERT_EQ(1500 + 500 + 2, n) TH_LOG("readdir entries");
	ASSERT_EQ(502, nlink_of(self->dir));
	(void)p;
}

/* Last: the whole tree through ext4, and ext4's writes through FSTYPE. */
TEST_F_TIMEOUT(ops, verify, 600)
{
	ASSERT_EQ(0, fsrw_sh("fsrw_verify"));
}

TEST_HARNESS_MAIN
