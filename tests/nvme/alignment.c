// SPDX-License-Identifier: GPL-2.0
/*
 * O_DIRECT requests that are unaligned, partial-sector or past the end are
 * treated by aiosnvme exactly as by nvme.ko: the same return value and the
 * same errno, case by case, on two identical controllers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "aios_test.h"

struct io_case {
	const char *what;
	int write;
	size_t buf_off;
	size_t len;
	long long off;		/* negative: from the end of the device */
};

static const struct io_case cases[] = {
	{ "aligned read",			0, 0,   4096, 0 },
	{ "offset not sector aligned",		0, 0,   4096, 100 },
	{ "length not a sector multiple",	0, 0,   100,  0 },
	{ "one sector",				0, 0,   512,  512 },
	{ "buffer off by 1 byte",		0, 1,   4096, 0 },
	{ "buffer off by 4 bytes",		0, 4,   4096, 0 },
	{ "buffer off by 512 bytes",		0, 512, 4096, 0 },
	{ "buffer off by 512, crossing pages",	0, 512, 8192, 0 },
	{ "read at the end",			0, 0,   4096, -1 },
	{ "read across the end",		0, 0,   8192, -4096 },
	{ "write at the end",			1, 0,   4096, -1 },
	{ "write across the end",		1, 0,   8192, -4096 },
	{ "unaligned write",			1, 0,   4096, 1000 },
};

struct outcome {
	ssize_t ret;
	int err;
};

static struct outcome run_case(int fd, unsigned long long size, char *buf,
			       const struct io_case *c)
{
	struct outcome o;
	long long off = c->off;

	if (off < 0)
		off = off == -1 ? (long long)size : (long long)size + off;
	errno = 0;
	if (c->write)
		o.ret = pwrite(fd, buf + c->buf_off, c->len, off);
	else
		o.ret = pread(fd, buf + c->buf_off, c->len, off);
	o.err = o.ret < 0 ? errno : 0;
	return o;
}

FIXTURE(align) {
	char aios[64], stock[64];
};

FIXTURE_SETUP(align)
{
	ASSERT_EQ(0, aios_test_load());
	ASSERT_EQ(0, aios_test_sh("modprobe nvme && aios_bind $(nvme_bdfs | head -n1)",
				  NULL, 0));
	ASSERT_EQ(0, aios_test_sh("wait_for_dev /dev/aiosnvme0n1", NULL, 0));
	strcpy(self->aios, "/dev/aiosnvme0n1");
	/* The second controller stays with nvme.ko. */
	ASSERT_EQ(0, aios_test_sh("stock_disk $(nvme_bdfs | sed -n 2p)",
				  self->stock, sizeof(self->stock)));
}

FIXTURE_TEARDOWN(align)
{
	aios_test_sh("aios-bind --reset $(nvme_bdfs | head -n1) >/dev/null", NULL, 0);
}

TEST_F(align, same_as_nvme_ko)
{
	unsigned long long size[2];
	const char *dev[2] = { self->stock, self->aios };
	char *buf;
	int fd[2], i, d;

	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 3 * 4096));
	memset(buf, 0x5a, 3 * 4096);
	for (d = 0; d < 2; d++) {
		fd[d] = open(dev[d], O_RDWR | O_DIRECT);
		ASSERT_LE(0, fd[d]) TH_LOG("cannot open %s", dev[d]);
		ASSERT_EQ(0, ioctl(fd[d], BLKGETSIZE64, &size[d]));
	}
	ASSERT_EQ(size[0], size[1]);
	for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		struct outcome o[2];

		for (d = 0; d < 2; d++)
			o[d] = run_case(fd[d], size[d], buf, &cases[i]);
		TH_LOG("%-36s nvme.ko %zd/%d, aiosnvme %zd/%d", cases[i].what,
		       o[0].ret, o[0].err, o[1].ret, o[1].err);
		EXPECT_EQ(o[0].ret, o[1].ret) TH_LOG("%s: return value", cases[i].what);
		EXPECT_EQ(o[0].err, o[1].err) TH_LOG("%s: errno", cases[i].what);
	}
	for (d = 0; d < 2; d++)
		close(fd[d]);
	free(buf);
}

TEST_HARNESS_MAIN
