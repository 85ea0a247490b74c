/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the fsrw C tests: shell helpers (tests/fsrw/helpers) run with
 * their output in the test's log, a data pattern that names its offset,
 * and whole-buffer reads and writes.
 */
#ifndef _FSRW_H
#define _FSRW_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FSRW_MNT "/tmp/fsrw.mnt"

/* Runs a shell command with common.sh and fsrw/helpers sourced; its status. */
static inline int fsrw_sh(const char *fmt, ...)
{
	const char *root = getenv("AIOS_ROOT");
	char cmd[2048], full[4096];
	va_list ap;
	pid_t pid;
	int st;

	if (!root)
		return -1;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full),
		 ". '%s/tests/lib/common.sh' && . '%s/tests/fsrw/helpers' && %s", root, root, cmd);
	fflush(stdout);
	fflush(stderr);
	/* bash, not system()'s sh: the helpers are bash. */
	pid = fork();
	if (pid == 0) {
		execl("/bin/bash", "bash", "-c", full, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st))
		printf("# '%s' exited %d\n", cmd, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/* Mounts a new volume at FSRW_MNT unless something is mounted there. */
static inline int fsrw_ensure_mounted(const char *mkfs_size)
{
	return fsrw_sh("mountpoint -q %s || fsrw_setup %s", FSRW_MNT, mkfs_size ? mkfs_size : "");
}

static inline int fsrw_drop_caches(void)
{
	int fd, ok;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, "3", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* The byte at offset @off of a file written with @seed. */
static inline unsigned char pat(unsigned int seed, unsigned long long off)
{
	unsigned long long s = (unsigned long long)seed << 32 | seed;
	unsigned long long x = (off + 1) * 0x9E3779B97F4A7C15ULL ^ s;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	return (unsigned char)(x >> 56);
}

static inline void pat_fill(unsigned char *buf, unsigned int seed, unsigned long long off,
			    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(seed, off + i);
}

/*
 * The first offset in [off, off + len) where @buf is not the pattern of
 * @seed (or zero if @seed is 0), or -1 if it all matches.
 */
static inline long long pat_diff(const unsigned char *buf, unsigned int seed,
				 unsigned long long off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (seed ? pat(seed, off + i) : 0))
			return off + i;
	return -1;
}

/* pwrite of the pattern; 0 or a negative errno. */
static inline int pat_write(int fd, unsigned int seed, unsigned long long off, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	pat_fill(buf, seed, off, len);
	n = pwrite(fd, buf, len, off);
	free(buf);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * Reads [off, off + len) and compares it with the pattern of @seed (0:
 * zeroes): -1 if it matches, the first bad offset, or -2 on a short read
 * (with the reason in errno).
 */
static inline long long pat_check(int fd, unsigned int seed, unsigned long long off, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	long long bad;
	ssize_t n;

	if (!buf)
		return -2;
	n = pread(fd, buf, len, off);
	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = EIO;
		free(buf);
		return -2;
	}
	bad = pat_diff(buf, seed, off, len);
	if (bad >= 0)
		printf("# at %lld: byte %#x, expected %#x (seed %u)\n", (long long)bad,
		       buf[bad - off], seed ? pat(seed, bad) : 0, seed);
	free(buf);
	return bad;
}

#endif /* _FSRW_H */
