// SPDX-License-Identifier: GPL-2.0
/*
 * An fsx-style tester: random reads, writes, truncates, fallocates (mode 0,
 * keep size, punch hole, zero range), mmap reads and writes, O_DIRECT reads
 * and writes, fsyncs and reopens of one file, against an in-memory model of
 * what the file must hold; every read is checked.  On a mismatch it prints
 * the seed, the bad bytes and the operations that led there, and fails.
 *
 * As a test (no arguments) it mounts a new volume with $FSTYPE, runs a
 * fixed seed and a random one, checks the file again after a remount, and
 * hands the volume to fsrw_verify (e2fsck, ext4 reads it back).  As a tool:
 *   fsx run [-S seed] [-N ops] [-l maxlen] [-d] FILE    (-d: no O_DIRECT ops)
 */
#include <getopt.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <time.h>
#include "kselftest_harness.h"
#include "fsrw.h"

#pragma GCC diagnostic ignored "-Wsign-compare"

enum op {
	OP_READ, OP_WRITE, OP_MAPREAD, OP_MAPWRITE, OP_TRUNCATE, OP_FALLOC, OP_FALLOC_KEEP,
	OP_PUNCH, OP_ZERO, OP_ZERO_KEEP, OP_DREAD, OP_DWRITE, OP_FSYNC, OP_FDATASYNC,
	OP_REOPEN, OP_DROP, OP_NR
};

static const char *const op_names[OP_NR] = {
	"read", "write", "mapread", "mapwrite", "truncate", "falloc", "falloc_keep", "punch",
	"zero", "zero_keep", "dread", "dwrite", "fsync", "fdatasync", "reopen", "drop_cache",
};

/* Relative weights of the operations. */
static const unsigned int op_weight[OP_NR] = {
	[OP_READ] = 20, [OP_WRITE] = 24, [OP_MAPREAD] = 6, [OP_MAPWRITE] = 6,
	[OP_TRUNCATE] = 6, [OP_FALLOC] = 3, [OP_FALLOC_KEEP] = 3, [OP_PUNCH] = 5,
	[OP_ZERO] = 3, [OP_ZERO_KEEP] = 2, [OP_DREAD] = 4, [OP_DWRITE] = 4,
	[OP_FSYNC] = 1, [OP_FDATASYNC] = 1, [OP_REOPEN] = 1, [OP_DROP] = 1,
};

struct logent {
	unsigned char op;
	unsigned long long off, len, size_before;
};

struct fsx {
	const char *path;
	int fd, dfd;		/* buffered and O_DIRECT descriptors */
	unsigned long long seed, rng;
	unsigned long long maxlen, size, nops, opno;
	int no_direct;
	unsigned char *good;		/* what the file must hold */
	unsigned char *buf;		/* page-aligned scratch */
	struct logent *log;
	int trouble;
	char why[256];
};

static unsigned long long rnd(struct fsx *f)
{
	/* splitmix64 */
	unsigned long long z = (f->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned long long below(struct fsx *f, unsigned long long n)
{
	return n ? rnd(f) % n : 0;
}

/* Lengths: mostly small, sometimes up to 128 KiB; offsets often block-aligned. */
static unsigned long long rnd_len(struct fsx *f)
{
	switch (below(f, 16)) {
	case 0:
	case 1:
		return 1 + below(f, 16);
	case 2:
	case 3:
		return 4096;
	case 4:
		return 1 + below(f, 128 * 1024);
	default:
		return 1 + below(f, 16384);
	}
}

static unsigned long long rnd_off(struct fsx *f, unsigned long long limit)
{
	unsigned long long off = below(f, limit);

	if (below(f, 3) == 0)
		off &= ~4095ULL;
	return off;
}

static void fsx_fail(struct fsx *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	f->trouble = 1;
}

static void dump_log(struct fsx *f, unsigned long long bad)
{
	unsigned long long i, first = f->opno > 60 ? f->opno - 60 : 0;
	int shown = 0;

	printf("# fsx: seed %llu, failed at operation %llu: %s\n", (unsigned long long)f->seed,
	       (unsigned long long)f->opno, f->why);
	printf("# operations that touched offset %llu (up to 40):\n", (unsigned long long)bad);
	for (i = 0; i <= f->opno && shown < 40; i++) {
		struct logent *l = &f->log[f->opno - i];
		int touches = bad >= l->off && bad < l->off + l->len;

		/* A truncate touches everything past its new size. */
		if (l->op == OP_TRUNCATE)
			touches = (bad >= l->len) != (bad >= l->size_before);
		if (!touches)
			continue;
		printf("#   %6llu %-11s off %#10llx len %#8llx (size was %#llx)\n",
		       (unsigned long long)(f->opno - i), op_names[l->op],
		       (unsigned long long)l->off, (unsigned long long)l->len,
		       (unsigned long long)l->size_before);
		shown++;
	}
	printf("# the last %llu operations:\n", (unsigned long long)(f->opno - first + 1));
	for (i = first; i <= f->opno; i++)
		printf("#   %6llu %-11s off %#10llx len %#8llx (size was %#llx)\n",
		       (unsigned long long)i, op_names[f->log[i].op],
		       (unsigned long long)f->log[i].off, (unsigned long long)f->log[i].len,
		       (unsigned long long)f->log[i].size_before);
	printf("# reproduce: fsx run -S %llu -N %llu -l %llu%s FILE\n", (unsigned long long)f->seed,
	       (unsigned long long)f->nops, (unsigned long long)f->maxlen,
	       f->no_direct ? " -d" : "");
}

/* Compares what was read at [off, off + len) with the model. */
static int check(struct fsx *f, const unsigned char *got, unsigned long long off,
		 unsigned long long len, const char *how)
{
	unsigned long long i, j;

	if (!memcmp(got, f->good + off, len))
		return 0;
	for (i = 0; i < len && got[i] == f->good[off + i]; i++)
		;
	fsx_fail(f, "%s at %#llx: byte 0x%02x, expected 0x%02x", how,
		 (unsigned long long)(off + i), got[i], f->good[off + i]);
	printf("# %-8s %-47s   %s\n", "offset", "read", "expected");
	for (j = i & ~15ULL; j < len && j < (i & ~15ULL) + 64; j += 16) {
		char a[64] = "", b[64] = "";
		unsigned long long k;

		for (k = j; k < j + 16 && k < len; k++) {
			sprintf(a + strlen(a), "%02x ", got[k]);
			sprintf(b + strlen(b), "%02x ", f->good[off + k]);
		}
		printf("# %08llx %-48s  %s\n", (unsigned long long)(off + j), a, b);
	}
	dump_log(f, off + i);
	return -1;
}

static int do_read(struct fsx *f, unsigned long long off, unsigned long long len)
{
	ssize_t n;

	if (off >= f->size) {
		n = pread(f->fd, f->buf, 1, f->size);
		if (n != 0)
			fsx_fail(f, "read at EOF %#llx returned %zd", f->size, n);
		return n ? -1 : 0;
	}
	if (len > f->size - off)
		len = f->size - off;
	n = pread(f->fd, f->buf, len, off);
	if (n != (ssize_t)len) {
		fsx_fail(f, "read %#llx+%#llx returned %zd (%s)", (unsigned long long)off,
			 (unsigned long long)len, n, n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return check(f, f->buf, off, len, "read");
}

static void fill_random(struct fsx *f, unsigned char *p, unsigned long long len)
{
	unsigned long long i, w = 0;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			w = rnd(f);
		p[i] = w >> ((i & 7) * 8);
	}
}

/* A write of f->buf's len bytes at off returned n: the model follows it. */
static int wrote(struct fsx *f, const char *what, unsigned long long off,
		 unsigned long long len, ssize_t n)
{
	if (n != (ssize_t)len) {
		fsx_fail(f, "%s %#llx+%#llx returned %zd (%s)", what, off, len, n,
			 n < 0 ? strerror(errno) : "short");
		return -1;
	}
	memcpy(f->good + off, f->buf, len);
	if (off + len > f->size)
		f->size = off + len;
	return 0;
}

static int do_write(struct fsx *f, unsigned long long off, unsigned long long len)
{
	fill_random(f, f->buf, len);
	return wrote(f, "write", off, len, pwrite(f->fd, f->buf, len, off));
}

static int do_mapread(struct fsx *f, unsigned long long off, unsigned long long len)
{
	unsigned long long pg = off & ~4095ULL;
	unsigned char *m;
	int r;

	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = f->size - off;
	m = mmap(NULL, off + len - pg, PROT_READ, MAP_SHARED, f->fd, pg);
	if (m == MAP_FAILED) {
		fsx_fail(f, "mmap for read: %s", strerror(errno));
		return -1;
	}
	r = check(f, m + (off - pg), off, len, "mapread");
	munmap(m, off + len - pg);
	return r;
}

static int do_mapwrite(struct fsx *f, unsigned long long off, unsigned long long len)
{
	unsigned long long pg = off & ~4095ULL;
	unsigned char *m;

	/* A store past EOF faults: extend first, as fsx does. */
	if (off + len > f->size) {
		if (ftruncate(f->fd, off + len)) {
			fsx_fail(f, "ftruncate before mapwrite: %s", strerror(errno));
			return -1;
		}
		f->size = off + len;
	}
	m = mmap(NULL, off + len - pg, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, pg);
	if (m == MAP_FAILED) {
		fsx_fail(f, "mmap for write: %s", strerror(errno));
		return -1;
	}
	fill_random(f, m + (off - pg), len);
	memcpy(f->good + off, m + (off - pg), len);
	if (below(f, 2) && msync(m, off + len - pg, MS_SYNC)) {
		fsx_fail(f, "msync: %s", strerror(errno));
		munmap(m, off + len - pg);
		return -1;
	}
	munmap(m, off + len - pg);
	return 0;
}

static int do_truncate(struct fsx *f, unsigned long long size)
{
	if (ftruncate(f->fd, size)) {
		fsx_fail(f, "ftruncate %#llx: %s", (unsigned long long)size, strerror(errno));
		return -1;
	}
	if (size < f->size)
		memset(f->good + size, 0, f->size - size);
	f->size = size;
	return 0;
}

static int do_falloc(struct fsx *f, enum op which, unsigned long long off,
		     unsigned long long len)
{
	int mode = 0;

	switch (which) {
	case OP_FALLOC_KEEP:
		mode = FALLOC_FL_KEEP_SIZE;
		break;
	case OP_PUNCH:
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		break;
	case OP_ZERO:
		mode = FALLOC_FL_ZERO_RANGE;
		break;
	case OP_ZERO_KEEP:
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		break;
	default:
		break;
	}
	if (fallocate(f->fd, mode, off, len)) {
		fsx_fail(f, "fallocate(%s) %#llx+%#llx: %s", op_names[which], off, len,
			 strerror(errno));
		return -1;
	}
	if ((which == OP_PUNCH || which == OP_ZERO || which == OP_ZERO_KEEP) && off < f->size)
		memset(f->good + off, 0, (off + len < f->size ? off + len : f->size) - off);
	if ((which == OP_FALLOC || which == OP_ZERO) && off + len > f->size)
		f->size = off + len;
	return 0;
}

/* O_DIRECT: block-aligned, and never past the model's buffer. */
static int do_dread(struct fsx *f, unsigned long long off, unsigned long long len)
{
	unsigned long long want;
	ssize_t n;

	off &= ~4095ULL;
	len = (len + 4095) & ~4095ULL;
	if (off >= f->size)
		return 0;
	want = f->size - off < len ? f->size - off : len;
	n = pread(f->dfd, f->buf, len, off);
	if (n != (ssize_t)want) {
		fsx_fail(f, "direct read %#llx+%#llx returned %zd, expected %llu (%s)",
			 (unsigned long long)off, (unsigned long long)len, n,
			 (unsigned long long)want, n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return check(f, f->buf, off, want, "dread");
}

static int do_dwrite(struct fsx *f, unsigned long long off, unsigned long long len)
{
	off &= ~4095ULL;
	len = (len + 4095) & ~4095ULL;
	if (off + len > f->maxlen)
		len = f->maxlen - off;
	if (!len)
		return 0;
	fill_random(f, f->buf, len);
	return wrote(f, "direct write", off, len, pwrite(f->dfd, f->buf, len, off));
}

static int fsx_open(struct fsx *f, int create)
{
	f->fd = open(f->path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (f->fd < 0) {
		fsx_fail(f, "open %s: %s", f->path, strerror(errno));
		return -1;
	}
	f->dfd = -1;
	if (f->no_direct)
		return 0;
	f->dfd = open(f->path, O_RDWR | O_DIRECT);
	if (f->dfd < 0) {
		fsx_fail(f, "open %s O_DIRECT: %s", f->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void fsx_close(struct fsx *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dfd >= 0)
		close(f->dfd);
	f->fd = -1;
	f->dfd = -1;
}

static int do_reopen(struct fsx *f)
{
	fsx_close(f);
	return fsx_open(f, 0);
}

static int do_drop(struct fsx *f)
{
	/* Written back and dropped: the next reads come from the device. */
	if (fsync(f->fd) || posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED)) {
		fsx_fail(f, "fsync/fadvise: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static enum op pick(struct fsx *f)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < OP_NR; i++)
		if (!(f->no_direct && (i == OP_DREAD || i == OP_DWRITE)))
			total += op_weight[i];
	r = below(f, total);
	for (i = 0; i < OP_NR; i++) {
		if (f->no_direct && (i == OP_DREAD || i == OP_DWRITE))
			continue;
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_READ;
}

static int fsx_step(struct fsx *f)
{
	enum op op = pick(f);
	unsigned long long off, len;
	struct logent *l = &f->log[f->opno];

	len = rnd_len(f);
	off = rnd_off(f, f->maxlen);
	if (off + len > f->maxlen)
		len = f->maxlen - off;
	if (!len)
		len = 1, off = f->maxlen - 1;
	/* Reads mostly inside the file. */
	if ((op == OP_READ || op == OP_MAPREAD || op == OP_DREAD) && f->size && below(f, 8))
		off = rnd_off(f, f->size);
	if (op == OP_TRUNCATE) {
		off = 0;
		len = below(f, 4) ? rnd_off(f, f->maxlen + 1) : below(f, f->size + 1);
	}
	*l = (struct logent){ .op = op, .off = off, .len = len, .size_before = f->size };
	switch (op) {
	case OP_READ:
		return do_read(f, off, len);
	case OP_WRITE:
		return do_write(f, off, len);
	case OP_MAPREAD:
		return do_mapread(f, off, len);
	case OP_MAPWRITE:
		return do_mapwrite(f, off, len);
	case OP_TRUNCATE:
		return do_truncate(f, len);
	case OP_FALLOC:
	case OP_FALLOC_KEEP:
	case OP_PUNCH:
	case OP_ZERO:
	case OP_ZERO_KEEP:
		return do_falloc(f, op, off, len);
	case OP_DREAD:
		return do_dread(f, off, len);
	case OP_DWRITE:
		return do_dwrite(f, off, len);
	case OP_FSYNC:
		return fsync(f->fd) ? (fsx_fail(f, "fsync: %s", strerror(errno)), -1) : 0;
	case OP_FDATASYNC:
		return fdatasync(f->fd) ? (fsx_fail(f, "fdatasync: %s", strerror(errno)), -1) : 0;
	case OP_REOPEN:
		return do_reopen(f);
	case OP_DROP:
		return do_drop(f);
	default:
		return 0;
	}
}

/* The whole file against the model, and its size. */
static int fsx_check_all(struct fsx *f)
{
	struct stat st;

	f->log[f->opno] = (struct logent){ .op = OP_READ, .len = f->size,
					   .size_before = f->size };
	if (fstat(f->fd, &st)) {
		fsx_fail(f, "fstat: %s", strerror(errno));
		return -1;
	}
	if ((unsigned long long)st.st_size != f->size) {
		fsx_fail(f, "size %lld, expected %llu", (long long)st.st_size,
			 (unsigned long long)f->size);
		dump_log(f, f->size);
		return -1;
	}
	return do_read(f, 0, f->size);
}

static int fsx_init(struct fsx *f, const char *path, unsigned long long seed,
		    unsigned long long nops,
		    unsigned long long maxlen, int no_direct)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->seed = seed;
	f->rng = seed;
	f->nops = nops;
	f->maxlen = maxlen;
	f->no_direct = no_direct;
	f->fd = -1;
	f->dfd = -1;
	f->good = calloc(1, maxlen);
	f->log = calloc(nops + 2, sizeof(*f->log));
	if (!f->good || !f->log || posix_memalign((void **)&f->buf, 4096, maxlen + 4096))
		return -1;
	return fsx_open(f, 1);
}

static void fsx_free(struct fsx *f)
{
	if (!f->path)
		return;
	fsx_close(f);
	free(f->good);
	free(f->log);
	free(f->buf);
}

/* Runs the operations, then checks the whole file; 0 if all matched. */
static int fsx_run(struct fsx *f)
{
	time_t t0 = time(NULL);

	printf("# fsx: %s, seed %llu, %llu operations, files up to %llu bytes%s\n", f->path,
	       (unsigned long long)f->seed, (unsigned long long)f->nops,
	       (unsigned long long)f->maxlen, f->no_direct ? ", no O_DIRECT" : "");
	for (f->opno = 0; f->opno < f->nops; f->opno++) {
		if (f->opno && !(f->opno % 20000))
			printf("# fsx: %llu operations, %ld s\n", f->opno, (long)(time(NULL) - t0));
		if (fsx_step(f)) {
			if (f->trouble && !strstr(f->why, " at 0x"))
				dump_log(f, f->log[f->opno].off);
			return -1;
		}
	}
	if (fsx_check_all(f))
		return -1;
	printf("# fsx: %llu operations in %ld s, final size %llu\n", (unsigned long long)f->nops,
	       (long)(time(NULL) - t0), (unsigned long long)f->size);
	return 0;
}

FIXTURE(fsx) {
	struct fsx f;
	char path[256];
};

FIXTURE_SETUP(fsx)
{
	/* Line by line: a failed ASSERT abort()s, which would lose a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ASSERT_EQ(0, fsrw_ensure_mounted(NULL));
	snprintf(self->path, sizeof(self->path), "%s/%s", FSRW_MNT, _metadata->name);
}

FIXTURE_TEARDOWN(fsx)
{
	fsx_free(&self->f);
}

/* Runs, then checks the file again from a fresh mount. */
static int run_and_remount(struct fsx *f)
{
	if (fsx_run(f))
		return -1;
	fsx_close(f);
	if (fsrw_sh("fsrw_remount"))
		return -1;
	if (fsx_open(f, 0))
		return -1;
	if (fsx_check_all(f))
		return -1;
	printf("# fsx: the file reads back right after a remount\n");
	return 0;
}

static unsigned long long env_u64(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* A fixed seed (or $FSX_SEED): the same operations every run. */
TEST_F_TIMEOUT(fsx, fixed_seed, 400)
{
	ASSERT_EQ(0, fsx_init(&self->f, self->path, env_u64("FSX_SEED", 1),
			      env_u64("FSX_OPS", 100000), 2 << 20, 0));
	ASSERT_EQ(0, run_and_remount(&self->f)) TH_LOG("fsx: %s", self->f.why);
}

/* A new seed each run (printed above, to reproduce a failure). */
TEST_F_TIMEOUT(fsx, random_seed, 400)
{
	unsigned long long seed = (unsigned long long)time(NULL) * 1000003 + getpid();

	seed = env_u64("FSX_SEED2", seed);

	ASSERT_EQ(0, fsx_init(&self->f, self->path, seed, env_u64("FSX_OPS2", 20000),
			      1 << 20, 0));
	ASSERT_EQ(0, run_and_remount(&self->f)) TH_LOG("fsx: %s", self->f.why);
}

TEST_F_TIMEOUT(fsx, verify, 600)
{
	ASSERT_EQ(0, fsrw_sh("fsrw_verify"));
}

static int tool_main(int argc, char **argv)
{
	unsigned long long seed = time(NULL), nops = 100000, maxlen = 4 << 20;
	int no_direct = 0, c, r;
	struct fsx f;

	optind = 2;
	while ((c = getopt(argc, argv, "S:N:l:d")) != -1) {
		switch (c) {
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'N':
			nops = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			maxlen = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			no_direct = 1;
			break;
		default:
			fprintf(stderr, "usage: %s run [-S seed] [-N ops] [-l maxlen] [-d] FILE\n",
				argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s run [-S seed] [-N ops] [-l maxlen] [-d] FILE\n",
			argv[0]);
		return 2;
	}
	if (fsx_init(&f, argv[optind], seed, nops, maxlen, no_direct)) {
		fprintf(stderr, "fsx: cannot start: %s\n", f.why[0] ? f.why : "out of memory");
		return 1;
	}
	r = fsx_run(&f);
	if (r)
		fprintf(stderr, "fsx: FAILED: %s\n", f.why);
	fsx_free(&f);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "run"))
		return tool_main(argc, argv);
	return test_harness_run(argc, argv);
}
