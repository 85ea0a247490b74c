// SPDX-License-Identifier: GPL-2.0
/*
 * An LD_PRELOAD library for aios-bench's postmark run: Debian's postmark has
 * no fsync option, so this makes it behave like a mail server (Filebench's
 * varmail): a file that was written is fsync'd before it is closed.
 * Postmark must run unbuffered ("set buffering false"), so that its writes
 * and closes are the write(2) and close(2) wrapped here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 65536

static unsigned char written[MAX_FDS];

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real_write)(int, const void *, size_t);

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (fd >= 0 && fd < MAX_FDS)
		written[fd] = 1;
	return real_write(fd, buf, len);
}

int close(int fd)
{
	static int (*real_close)(int);
	struct stat st;
	int err = 0;

	if (!real_close)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd >= 0 && fd < MAX_FDS && written[fd]) {
		written[fd] = 0;
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && fsync(fd))
			err = errno;
	}
	if (real_close(fd))
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
