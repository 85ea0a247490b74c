// SPDX-License-Identifier: GPL-2.0
/*
 * The asynchronous read path of aiosfs, on aiosnvme (direct lbio) and on
 * nvme.ko (the bio fallback): files written by ext4 read back exactly, cold
 * and warm, sequentially and at random, by two threads racing for the same
 * pages, through O_DIRECT (aligned, sector aligned, misaligned) and mmap,
 * over holes, unwritten extents and a file with too many extents for the
 * extent cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "kselftest_harness.h"
#include "aios_test.h"

#define DATA_SIZE	((96ULL << 20) + 1232)	/* not a whole number of pages */
#define SPARSE_SIZE	(8ULL << 20)
#define FRAG_SIZE	(16ULL << 20)
#define SEED		0x5eed0123456789abULL

/* The content every file should have: a word that names its offset. */
static unsigned long long word_at(unsigned long long off)
{
	return (off * 0x9E3779B97F4A7C15ULL) ^ SEED;
}

static void fill(void *buf, unsigned long long off, size_t len)
{
	unsigned long long *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = word_at(off + i * 8);
}

/* Whether buf holds the data at [off, off + len); zeroes if hole. */
static int check(const void *buf, unsigned long long off, size_t len, int hole)
{
	const unsigned long long *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		unsigned long long want = hole ? 0 : word_at(off + i * 8);

		if (w[i] != want) {
			printf("# mismatch at %llu: %#llx, want %#llx\n",
			       (off + i * 8), w[i],
			       want);
			return 0;
		}
	}
	return 1;
}

/* A block-aligned offset in [0, size) for a block size bs, from seed. */
static unsigned long long rnd_off(unsigned int *seed, unsigned long long size, size_t bs)
{
	return ((unsigned long long)rand_r(seed) % (size / bs)) * bs;
}

/* sparse: data at [0, 64K) and [4M, 4M + 64K); unwritten at [1M, 2M). */
static int sparse_hole(unsigned long long off)
{
	return !(off < 65536 || (off >= (4 << 20) && off < (4 << 20) + 65536));
}

/* frag: every other 4 KiB block punched out, for about 2048 extents. */
static int frag_hole(unsigned long long off)
{
	return (off >> 12) & 1;
}

static int sh(const char *cmd)
{
	int st = aios_test_sh(cmd, NULL, 0);

	if (st)
		printf("# '%s' failed: %d\n", cmd, st);
	return st;
}

static int write_file(const char *path, unsigned long long size)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	unsigned long long off;
	int fd, ok = 1;

	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || !buf)
		return 0;
	for (off = 0; off < size && ok; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		fill(buf, off, n);
		ok = pwrite(fd, buf, n, off) == (ssize_t)n;
	}
	free(buf);
	return close(fd) == 0 && ok;
}

static int make_sparse(const char *path)
{
	char *buf = malloc(65536);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int ok;

	if (fd < 0 || !buf)
		return 0;
	fill(buf, 0, 65536);
	ok = pwrite(fd, buf, 65536, 0) == 65536;
	fill(buf, 4 << 20, 65536);
	ok = ok && pwrite(fd, buf, 65536, 4 << 20) == 65536;
	ok = ok && !fallocate(fd, 0, 1 << 20, 1 << 20);
	ok = ok && !ftruncate(fd, SPARSE_SIZE);
	free(buf);
	return close(fd) == 0 && ok;
}

static int make_frag(const char *path)
{
	unsigned long long off;
	int fd, ok;

	if (!write_file(path, FRAG_SIZE))
		return 0;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return 0;
	ok = !fsync(fd);
	for (off = 4096; off < FRAG_SIZE && ok; off += 8192)
		ok = !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, 4096);
	return close(fd) == 0 && ok;
}

/*
 * Mounts an ext4-made volume with aiosfs at mnt, once per VM: the disk of
 * the first controller bound to aiosnvme, or the second's through nvme.ko.
 */
static int prepare(const char *mnt, int direct)
{
	char dev[64], cmd[512], path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data", mnt);
	if (!stat(path, &st))
		return 1;
	if (direct) {
		if (sh("aios_bind $(nvme_bdfs | head -n1) && wait_for_dev /dev/aiosnvme0n1"))
			return 0;
		strcpy(dev, "/dev/aiosnvme0n1");
	} else if (aios_test_sh("modprobe nvme && stock_disk $(nvme_bdfs | tail -n1)", dev,
				sizeof(dev)) || !dev[0]) {
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mkfs.ext4 -q -F %s && mount -t ext4 %s %s",
		 mnt, dev, dev, mnt);
	if (sh(cmd))
		return 0;
	snprintf(path, sizeof(path), "%s/data", mnt);
	if (!write_file(path, DATA_SIZE))
		return 0;
	snprintf(path, sizeof(path), "%s/sparse", mnt);
	if (!make_sparse(path))
		return 0;
	snprintf(path, sizeof(path), "%s/frag", mnt);
	if (!make_frag(path))
		return 0;
	snprintf(cmd, sizeof(cmd), "umount %s && e2fsck -fn %s >/dev/null", mnt, dev);
	if (sh(cmd))
		return 0;
	snprintf(cmd, sizeof(cmd), "aios_load && mount -t aiosfs -o ro %s %s", dev, mnt);
	if (sh(cmd))
		return 0;
	snprintf(cmd, sizeof(cmd), "grep -q ' %s aiosfs ro' /proc/mounts", mnt);
	return !sh(cmd);
}

static int open_cold(const char *mnt, const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	fd = open(path, flags);
	if (fd >= 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return fd;
}

FIXTURE(rd) {
	char mnt[64];
};

FIXTURE_VARIANT(rd) {
	int direct;
};

FIXTURE_VARIANT_ADD(rd, aiosnvme) {
	.direct = 1,
};

FIXTURE_VARIANT_ADD(rd, fallback) {
	.direct = 0,
};

FIXTURE_SETUP(rd)
{
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/fsaio.%s",
		 variant->direct ? "aiosnvme" : "fallback");
	ASSERT_TRUE(prepare(self->mnt, variant->direct));
}

FIXTURE_TEARDOWN(rd)
{
}

/* Sequential reads of several sizes, cold: the readahead window at work. */
TEST_F(rd, sequential)
{
	static const size_t sizes[] = { 4096, 1000, 65536, 1 << 20 };
	char *buf = malloc(1 << 20);
	unsigned int s;

	ASSERT_NE(NULL, buf);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		int fd = open_cold(self->mnt, "data", O_RDONLY);
		unsigned long long off = 0;
		ssize_t n;

		ASSERT_LE(0, fd);
		while ((n = read(fd, buf, sizes[s])) > 0) {
			/* Words only: check what a whole word covers. */
			if (off % 8 == 0)
				ASSERT_TRUE(check(buf, off, n & ~7UL, 0)) {
					printf("# size %zu at %llu\n", sizes[s], off);
				}
			off += n;
		}
		ASSERT_EQ(0, n);
		ASSERT_EQ(DATA_SIZE, off);
		close(fd);
	}
	free(buf);
}

struct rnd_arg {
	const char *mnt;
	unsigned int seed;
	size_t bs;
	int bad;
};

/* Random reads; both threads draw the same offsets, so they race for pages. */
static void *rnd_reader(void *p)
{
	struct rnd_arg *a = p;
	char *buf = malloc(a->bs);
	unsigned int seed = a->seed;
	int fd = open_cold(a->mnt, "data", O_RDONLY);
	int i;

	if (fd < 0 || !buf) {
		a->bad = -1;
		return NULL;
	}
	for (i = 0; i < 4000 && !a->bad; i++) {
		unsigned long long off = rnd_off(&seed, DATA_SIZE, a->bs);

		if (pread(fd, buf, a->bs, off) != (ssize_t)a->bs || !check(buf, off, a->bs, 0))
			a->bad = i + 1;
	}
	close(fd);
	free(buf);
	return NULL;
}

TEST_F(rd, random_two_threads)
{
	static const size_t sizes[] = { 4096, 16384, 131072 };
	unsigned int s;

	for (s = 0; s < 3; s++) {
		struct rnd_arg a[2] = {
			{ self->mnt, 42 + s, sizes[s], 0 },
			{ self->mnt, 42 + s, sizes[s], 0 },
		};
		pthread_t t[2];

		ASSERT_EQ(0, pthread_create(&t[0], NULL, rnd_reader, &a[0]));
		ASSERT_EQ(0, pthread_create(&t[1], NULL, rnd_reader, &a[1]));
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		EXPECT_EQ(0, a[0].bad) printf("# bs %zu\n", sizes[s]);
		EXPECT_EQ(0, a[1].bad) printf("# bs %zu\n", sizes[s]);
	}
}

TEST_F(rd, direct)
{
	static const size_t sizes[] = { 4096, 16384, 131072, 1 << 20 };
	int fd = open_cold(self->mnt, "data", O_RDONLY | O_DIRECT);
	unsigned int seed = 7, s, i;
	char *buf;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, (1 << 20) + 4096));
	for (s = 0; s < 4; s++) {
		for (i = 0; i < 300; i++) {
			unsigned long long off = rnd_off(&seed, DATA_SIZE, sizes[s]);

			ASSERT_EQ((ssize_t)sizes[s], pread(fd, buf, sizes[s], off));
			ASSERT_TRUE(check(buf, off, sizes[s], 0));
		}
	}
	/* Sector aligned, not page aligned: served, correctly. */
	ASSERT_EQ(4096, pread(fd, buf + 512, 4096, 8192 + 512));
	ASSERT_TRUE(check(buf + 512, 8192 + 512, 4096, 0));
	/* Misaligned: refused as by ext4. */
	ASSERT_EQ(-1, pread(fd, buf + 1, 4096, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(fd, buf, 4096, 3));
	ASSERT_EQ(EINVAL, errno);
	/* Across the end of the file: short, and right. */
	ASSERT_EQ(1232, pread(fd, buf, 8192, DATA_SIZE - 1232));
	ASSERT_TRUE(check(buf, DATA_SIZE - 1232, 1232, 0));
	ASSERT_EQ(0, pread(fd, buf, 4096, (DATA_SIZE + 4095) & ~4095ULL));
	close(fd);
	free(buf);
}

TEST_F(rd, mmap_cold)
{
	int fd = open_cold(self->mnt, "data", O_RDONLY);
	unsigned int seed = 99, i;
	char *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, DATA_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 3000; i++) {
		unsigned long long off = rnd_off(&seed, DATA_SIZE, 4096);

		ASSERT_TRUE(check(p + off, off, 4096, 0));
	}
	ASSERT_TRUE(check(p, 0, DATA_SIZE & ~7ULL, 0));
	munmap(p, DATA_SIZE);
	close(fd);
}

/* A file of holes, data and unwritten extents; and one of 2048 extents. */
static void check_holes(struct __test_metadata *_metadata, const char *mnt, const char *name,
			unsigned long long size, int (*hole)(unsigned long long))
{
	int fd = open_cold(mnt, name, O_RDONLY);
	int dfd = open_cold(mnt, name, O_RDONLY | O_DIRECT);
	char *buf, *p;
	unsigned long long off;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 65536));
	for (off = 0; off < size; off += 65536) {
		unsigned long long b;

		ASSERT_EQ(65536, pread(fd, buf, 65536, off));
		for (b = 0; b < 65536; b += 4096)
			ASSERT_TRUE(check(buf + b, off + b, 4096, hole(off + b)));
		ASSERT_EQ(65536, pread(dfd, buf, 65536, off));
		for (b = 0; b < 65536; b += 4096)
			ASSERT_TRUE(check(buf + b, off + b, 4096, hole(off + b)));
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < size; off += 4096)
		ASSERT_TRUE(check(p + off, off, 4096, hole(off)));
	munmap(p, size);
	free(buf);
	close(dfd);
	close(fd);
}

TEST_F(rd, holes_and_extents)
{
	check_holes(_metadata, self->mnt, "sparse", SPARSE_SIZE, sparse_hole);
	check_holes(_metadata, self->mnt, "frag", FRAG_SIZE, frag_hole);
}

/* Last: the mounts go, and nothing complained. */
TEST_F(rd, unmount)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "umount %s", self->mnt);
	ASSERT_EQ(0, sh(cmd));
	ASSERT_FALSE(aios_test_klog_has("aiosfs: ("));
}

TEST_HARNESS_MAIN
