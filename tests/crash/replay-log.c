// SPDX-License-Identifier: GPL-2.0
/*
 * replay-log: reads the log that the device-mapper target log-writes keeps
 * of every write to a device, and replays it onto another device, up to a
 * chosen entry, so that a test can look at the device as it was at every
 * flush, FUA write or mark (tests/crash).
 *
 *   replay-log list LOG               one line per entry:
 *                                     INDEX FLAGS SECTOR COUNT [MARK]
 *   replay-log replay LOG DEV FROM TO applies entries FROM..TO-1 to DEV
 *
 * The log's format, as the kernel writes it: a superblock in the first
 * sector (le64 magic 0x6a736677736872, le64 version 1, le64 entry count,
 * le32 sector size), then for each entry one sector that starts with
 * { le64 sector, le64 sectors, le64 flags, le64 data_len } (a mark's name
 * follows, data_len bytes) and then, unless it is a discard, the data
 * written: sectors * sector size bytes.  Sectors count in the data
 * device's logical block size.  Flags: 1 flush, 2 FUA, 4 discard, 8 mark,
 * 16 metadata.  A discard is replayed as zeroes.
 *
 * Run without arguments (as a test of the fsrw group) it checks itself
 * against a log it builds.
 */
#include <getopt.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <linux/falloc.h>
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <sys/stat.h>

#define LW_MAGIC	0x6a736677736872ULL
#define LW_VERSION	1ULL
#define LW_FLUSH	0x01
#define LW_FUA		0x02
#define LW_DISCARD	0x04
#define LW_MARK		0x08
#define LW_METADATA	0x10
#define LW_KNOWN	0x1f
#define LW_HDR		32	/* the entry header's size, before a mark's name */

struct lw_entry {
	unsigned long long index, sector, nr_sectors, flags, data_len;
	unsigned long long pos;		/* where its data starts in the log */
	char mark[512];
};

struct lw_log {
	int fd;
	unsigned long long nr_entries, size;
	unsigned int sectorsize;
	unsigned long long next;		/* the log offset of the next entry */
	unsigned long long index;
	unsigned char *sector;
};

static unsigned long long le64_at(const unsigned char *p)
{
	unsigned long long v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static unsigned int le32_at(const unsigned char *p)
{
	unsigned int v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static int lw_open(struct lw_log *l, const char *path, char *err, size_t errlen)
{
	unsigned char sb[512];
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->fd = open(path, O_RDONLY);
	if (l->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(l->fd, &st) == 0)
		l->size = st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(l->fd, BLKGETSIZE64, &l->size))
		l->size = 0;
	if (pread(l->fd, sb, sizeof(sb), 0) != (ssize_t)sizeof(sb)) {
		snprintf(err, errlen, "%s: cannot read the log superblock", path);
		return -1;
	}
	if (le64_at(sb) != LW_MAGIC || le64_at(sb + 8) != LW_VERSION) {
		snprintf(err, errlen, "%s: not a log-writes log (magic %#llx, version %llu)",
			 path, le64_at(sb), le64_at(sb + 8));
		return -1;
	}
	l->nr_entries = le64_at(sb + 16);
	l->sectorsize = le32_at(sb + 24);
	if (l->sectorsize < 512 || l->sectorsize > 65536 || (l->sectorsize & (l->sectorsize - 1))) {
		snprintf(err, errlen, "%s: bad sector size %u", path, l->sectorsize);
		return -1;
	}
	l->sector = malloc(l->sectorsize);
	if (!l->sector) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->next = l->sectorsize;
	return 0;
}

static void lw_close(struct lw_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->sector);
	l->sector = NULL;
	l->fd = -1;
}

/* The next entry; 1 if there is one, 0 at the end, -1 if the log is bad. */
static int lw_next(struct lw_log *l, struct lw_entry *e, char *err, size_t errlen)
{
	unsigned long long len;

	if (l->index >= l->nr_entries)
		return 0;
	if (l->size && l->next + l->sectorsize > l->size) {
		snprintf(err, errlen, "entry %llu at %llu is past the log's end",
			 l->index, l->next);
		return -1;
	}
	if (pread(l->fd, l->sector, l->sectorsize, l->next) != (ssize_t)l->sectorsize) {
		snprintf(err, errlen, "entry %llu: cannot read its header", l->index);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->index = l->index;
	e->sector = le64_at(l->sector);
	e->nr_sectors = le64_at(l->sector + 8);
	e->flags = le64_at(l->sector + 16);
	e->data_len = le64_at(l->sector + 24);
	e->pos = l->next + l->sectorsize;
	if (e->flags & ~(unsigned long long)LW_KNOWN) {
		snprintf(err, errlen, "entry %llu: unknown flags %#llx", e->index,
			 e->flags);
		return -1;
	}
	if (e->flags & LW_MARK) {
		if (e->data_len > l->sectorsize - LW_HDR || e->data_len >= sizeof(e->mark)) {
			snprintf(err, errlen, "entry %llu: a mark of %llu bytes",
				 e->index, e->data_len);
			return -1;
		}
		memcpy(e->mark, l->sector + LW_HDR, e->data_len);
		e->mark[e->data_len] = '\0';
	}
	len = e->flags & LW_DISCARD ? 0 : e->nr_sectors * l->sectorsize;
	if (e->nr_sectors > (1ULL << 40) / l->sectorsize ||
	    (l->size && e->pos + len > l->size)) {
		snprintf(err, errlen, "entry %llu: %llu sectors run past the log",
			 e->index, e->nr_sectors);
		return -1;
	}
	l->next = e->pos + len;
	l->index++;
	return 1;
}

static void lw_flags(unsigned long long flags, char *out)
{
	char *p = out;

	if (flags & LW_FLUSH)
		*p++ = 'F';
	if (flags & LW_FUA)
		*p++ = 'U';
	if (flags & LW_DISCARD)
		*p++ = 'D';
	if (flags & LW_MARK)
		*p++ = 'M';
	if (flags & LW_METADATA)
		*p++ = 'm';
	if (p == out)
		*p++ = 'W';
	*p = '\0';
}

static int lw_list(const char *log, FILE *out, char *err, size_t errlen)
{
	struct lw_log l;
	struct lw_entry e;
	char fl[8];
	int r;

	if (lw_open(&l, log, err, errlen)) {
		lw_close(&l);
		return -1;
	}
	fprintf(out, "# %llu entries, sector size %u\n", l.nr_entries, l.sectorsize);
	while ((r = lw_next(&l, &e, err, errlen)) > 0) {
		lw_flags(e.flags, fl);
		fprintf(out, "%llu %s %llu %llu%s%s\n", e.index, fl, e.sector,
			e.nr_sectors, e.mark[0] ? " " : "", e.mark);
	}
	lw_close(&l);
	return r;
}

/* Zeroes [off, off + len) of the target: a discard. */
static int zero_range(int fd, int is_blk, unsigned long long off, unsigned long long len)
{
	static unsigned char zero[1 << 16];
	unsigned long long range[2] = { off, len };

	if (is_blk && !ioctl(fd, BLKZEROOUT, range))
		return 0;
	if (!is_blk && !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);

		if (pwrite(fd, zero, n, off) != (ssize_t)n)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static int lw_replay(const char *log, const char *dev, unsigned long long from,
		     unsigned long long to, char *err, size_t errlen)
{
	size_t bufsize = 1 << 20;
	unsigned char *buf = malloc(bufsize);
	unsigned long long devsize = 0;
	struct lw_entry e;
	struct lw_log l;
	struct stat st;
	int fd, r = -1, more = 0, is_blk;

	fd = open(dev, O_RDWR);
	if (!buf || fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", dev, strerror(errno));
		goto out_free;
	}
	is_blk = S_ISBLK(st.st_mode);
	devsize = st.st_size;
	if (is_blk && ioctl(fd, BLKGETSIZE64, &devsize))
		devsize = 0;
	if (lw_open(&l, log, err, errlen))
		goto out;
	while (l.index < to && (more = lw_next(&l, &e, err, errlen)) > 0) {
		unsigned long long off = e.sector * l.sectorsize, pos;
		unsigned long long len = e.nr_sectors * l.sectorsize;

		if (e.index < from || (e.flags & LW_MARK) || !len)
			continue;
		if (off + len > devsize) {
			snprintf(err, errlen,
				 "entry %llu writes [%llu, +%llu) past the end of %s (%llu bytes)",
				 e.index, off, len, dev, devsize);
			goto out;
		}
		if (e.flags & LW_DISCARD) {
			if (zero_range(fd, is_blk, off, len)) {
				snprintf(err, errlen, "entry %llu: zeroing: %s", e.index,
					 strerror(errno));
				goto out;
			}
			continue;
		}
		for (pos = 0; pos < len; pos += bufsize) {
			size_t n = len - pos < bufsize ? len - pos : bufsize;

			if (pread(l.fd, buf, n, e.pos + pos) != (ssize_t)n) {
				snprintf(err, errlen, "entry %llu: short read of the log",
					 e.index);
				goto out;
			}
			if (pwrite(fd, buf, n, off + pos) != (ssize_t)n) {
				snprintf(err, errlen, "entry %llu: writing %s: %s", e.index,
					 dev, strerror(errno));
				goto out;
			}
		}
	}
	if (more < 0)
		goto out;
	if (to != ULLONG_MAX && l.index < to) {
		snprintf(err, errlen, "the log has %llu entries, not %llu",
			 l.nr_entries, to);
		goto out;
	}
	if (fsync(fd)) {
		snprintf(err, errlen, "fsync %s: %s", dev, strerror(errno));
		goto out;
	}
	r = 0;
out:
	lw_close(&l);
	close(fd);
out_free:
	free(buf);
	return r;
}

/* ---- the self-test: a log built here, replayed onto a file ---- */

struct builder {
	FILE *f;
	unsigned int ss;
	unsigned long long n;
};

static void put64(unsigned char *p, unsigned long long v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void b_entry(struct builder *b, unsigned long long sector, unsigned long long nr,
		    unsigned long long flags, const char *mark, unsigned char fill)
{
	unsigned char *s = calloc(1, b->ss);
	unsigned long long i;

	put64(s, sector);
	put64(s + 8, nr);
	put64(s + 16, flags);
	put64(s + 24, mark ? strlen(mark) : 0);
	if (mark)
		memcpy(s + LW_HDR, mark, strlen(mark));
	fwrite(s, b->ss, 1, b->f);
	if (!(flags & LW_DISCARD)) {
		memset(s, fill, b->ss);
		for (i = 0; i < nr; i++)
			fwrite(s, b->ss, 1, b->f);
	}
	free(s);
	b->n++;
}

static void b_super(struct builder *b, unsigned long long magic)
{
	unsigned char *s = calloc(1, b->ss);

	put64(s, magic);
	put64(s + 8, LW_VERSION);
	put64(s + 16, b->n);
	s[24] = b->ss & 0xff;
	s[25] = b->ss >> 8;
	fflush(b->f);
	if (pwrite(fileno(b->f), s, b->ss, 0) != b->ss)
		perror("b_super");
	free(s);
}

/* The built log: 10 entries; the device is 64 sectors of 0xee at first. */
static void build_log(const char *path, unsigned int ss, unsigned long long magic)
{
	struct builder b = { .f = fopen(path, "w+"), .ss = ss };
	unsigned char *s = calloc(1, ss);

	fwrite(s, ss, 1, b.f);				/* superblock, later */
	b_entry(&b, 8, 2, 0, NULL, 'a');		/* 0: sectors 8-9 = a */
	b_entry(&b, 0, 0, LW_FLUSH, NULL, 0);		/* 1: flush */
	b_entry(&b, 0, 0, LW_MARK, "first", 0);		/* 2 */
	b_entry(&b, 9, 3, LW_METADATA, NULL, 'b');	/* 3: 9-11 = b */
	b_entry(&b, 10, 1, LW_DISCARD, NULL, 0);	/* 4: 10 = 0 */
	b_entry(&b, 0, 0, LW_FLUSH, NULL, 0);		/* 5 */
	b_entry(&b, 63, 1, LW_FUA, NULL, 'c');		/* 6: 63 = c */
	b_entry(&b, 0, 0, LW_MARK, "second one", 0);	/* 7 */
	b_entry(&b, 0, 2, LW_FLUSH, NULL, 'd');		/* 8: a flush with data: 0-1 = d */
	b_entry(&b, 0, 0, LW_MARK, "dm-log-writes-end", 0);	/* 9 */
	b_super(&b, magic);
	fclose(b.f);
	free(s);
}

static void make_dev(const char *path, unsigned int ss, int sectors)
{
	unsigned char *s = malloc(sectors * ss);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	memset(s, 0xee, sectors * ss);
	if (write(fd, s, sectors * ss) != sectors * ss)
		perror("make_dev");
	close(fd);
	free(s);
}

/* The byte each sector of the device must hold: '.' 0xee, '0' zero. */
static int dev_is(const char *path, unsigned int ss, const char *want)
{
	unsigned char *s = malloc(64 * ss);
	int fd = open(path, O_RDONLY), i, ok = 1;
	unsigned int j;

	if (fd < 0 || !s || read(fd, s, 64 * ss) != 64 * ss)
		ok = 0;
	for (i = 0; ok && i < 64; i++) {
		unsigned char w = want[i] == '.' ? 0xee : want[i] == '0' ? 0 : want[i];

		for (j = 0; j < ss; j++) {
			if (s[i * ss + j] != w) {
				printf("# sector %d byte %u: %#x, expected %#x\n", i, j,
				       s[i * ss + j], w);
				ok = 0;
				break;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	free(s);
	return ok;
}

/* The expected device: 0xee but for the sectors named (sector, byte). */
static char *want(char *w, const char *pairs, int last)
{
	memset(w, '.', 64);
	w[64] = '\0';
	for (; *pairs; pairs += 2)
		w[pairs[0] - 'A'] = pairs[1];
	if (last)
		w[63] = last;
	return w;
}

FIXTURE(replay) {
	char log[64], dev[64], err[512];
};

FIXTURE_VARIANT(replay) {
	unsigned int ss;
};

FIXTURE_VARIANT_ADD(replay, s512) { .ss = 512 };
FIXTURE_VARIANT_ADD(replay, s4096) { .ss = 4096 };

FIXTURE_SETUP(replay)
{
	snprintf(self->log, sizeof(self->log), "/tmp/replay-log-test.%d.log", getpid());
	snprintf(self->dev, sizeof(self->dev), "/tmp/replay-log-test.%d.dev", getpid());
	build_log(self->log, variant->ss, LW_MAGIC);
	make_dev(self->dev, variant->ss, 64);
}

FIXTURE_TEARDOWN(replay)
{
	unlink(self->log);
	unlink(self->dev);
}

TEST_F(replay, list)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r = lw_list(self->log, m, self->err, sizeof(self->err));
	char expect[512];

	fclose(m);
	ASSERT_EQ(0, r) TH_LOG("%s", self->err);
	snprintf(expect, sizeof(expect), "# 10 entries, sector size %u\n"
		 "0 W 8 2\n1 F 0 0\n2 M 0 0 first\n3 m 9 3\n4 D 10 1\n5 F 0 0\n6 U 63 1\n"
		 "7 M 0 0 second one\n8 F 0 2\n9 M 0 0 dm-log-writes-end\n", variant->ss);
	ASSERT_STREQ(expect, buf);
	free(buf);
}

/* In steps, as tests/crash does it: each step starts where the last ended. */
TEST_F(replay, steps)
{
	char w[65];

	ASSERT_EQ(0, lw_replay(self->log, self->dev, 0, 2, self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	ASSERT_TRUE(dev_is(self->dev, variant->ss, want(w, "IaJa", 0)));
	ASSERT_EQ(0, lw_replay(self->log, self->dev, 2, 5, self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	ASSERT_TRUE(dev_is(self->dev, variant->ss, want(w, "IaJbK0Lb", 0)));
	ASSERT_EQ(0, lw_replay(self->log, self->dev, 5, 8, self->err, sizeof(self->err)));
	ASSERT_TRUE(dev_is(self->dev, variant->ss, want(w, "IaJbK0Lb", 'c')));
	ASSERT_EQ(0, lw_replay(self->log, self->dev, 8, ULLONG_MAX, self->err,
			       sizeof(self->err)));
	ASSERT_TRUE(dev_is(self->dev, variant->ss, want(w, "AdBdIaJbK0Lb", 'c')));
	/* Past the end of the log. */
	ASSERT_NE(0, lw_replay(self->log, self->dev, 0, 11, self->err, sizeof(self->err)));
	ASSERT_NE(NULL, strstr(self->err, "the log has 10 entries")) TH_LOG("%s", self->err);
}

TEST_F(replay, bad_logs)
{
	int fd;

	build_log(self->log, variant->ss, 0x1234);
	ASSERT_NE(0, lw_replay(self->log, self->dev, 0, 3, self->err, sizeof(self->err)));
	ASSERT_NE(NULL, strstr(self->err, "not a log-writes log")) TH_LOG("%s", self->err);
	/* A write past the end of the device. */
	build_log(self->log, variant->ss, LW_MAGIC);
	make_dev(self->dev, variant->ss, 32);
	ASSERT_NE(0, lw_replay(self->log, self->dev, 0, 10, self->err, sizeof(self->err)));
	ASSERT_NE(NULL, strstr(self->err, "entry 6 writes")) TH_LOG("%s", self->err);
	/* Entries that claim more data than the log holds. */
	make_dev(self->dev, variant->ss, 64);
	fd = open(self->log, O_WRONLY);
	ASSERT_EQ(0, ftruncate(fd, variant->ss * 4));
	close(fd);
	ASSERT_NE(0, lw_replay(self->log, self->dev, 0, 10, self->err, sizeof(self->err)));
	ASSERT_NE(NULL, strstr(self->err, "past the log")) TH_LOG("%s", self->err);
}

static int print_usage(void)
{
	fprintf(stderr, "usage: replay-log list LOG\n"
			"       replay-log replay LOG DEV FROM TO   (TO: an index or 'end')\n");
	return 2;
}

int main(int argc, char **argv)
{
	char err[512] = "";
	unsigned long long to;

	if (argc < 2 || argv[1][0] == '-')
		return test_harness_run(argc, argv);
	if (!strcmp(argv[1], "list") && argc == 3) {
		if (lw_list(argv[2], stdout, err, sizeof(err))) {
			fprintf(stderr, "replay-log: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "replay") && argc == 6) {
		to = strcmp(argv[5], "end") ? strtoull(argv[5], NULL, 0) : ULLONG_MAX;
		if (lw_replay(argv[2], argv[3], strtoull(argv[4], NULL, 0), to, err, sizeof(err))) {
			fprintf(stderr, "replay-log: %s\n", err);
			return 1;
		}
		return 0;
	}
	return print_usage();
}
