// SPDX-License-Identifier: GPL-2.0
/*
 * Until the filesystem lands, every aiosfs mount fails with EOPNOTSUPP and
 * says why in the kernel log, whatever the source.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mount.h>
#include "kselftest_harness.h"
#include "aios_test.h"

FIXTURE(mnt) {
	char dir[32];
};

FIXTURE_SETUP(mnt)
{
	ASSERT_EQ(0, aios_test_load());
	strcpy(self->dir, "/tmp/aiosfs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(mnt)
{
	rmdir(self->dir);
}

TEST_F(mnt, without_source)
{
	ASSERT_EQ(-1, mount("none", self->dir, "aiosfs", 0, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_TRUE(aios_test_klog_has("aiosfs: mounting none is not supported yet"));
}

TEST_F(mnt, on_block_device)
{
	const char *dev = "/dev/nvme0n1";

	if (access(dev, F_OK))
		ASSERT_EQ(0, system("modprobe nvme && sleep 1"));
	ASSERT_EQ(0, access(dev, F_OK));
	ASSERT_EQ(-1, mount(dev, self->dir, "aiosfs", MS_RDONLY, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_TRUE(aios_test_klog_has("aiosfs: mounting /dev/nvme0n1 is not supported yet"));
}

TEST(listed_in_proc_filesystems)
{
	char line[128];
	int found = 0;
	FILE *f;

	ASSERT_EQ(0, aios_test_load());
	f = fopen("/proc/filesystems", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "nodev\taiosfs\n") || !strcmp(line, "\taiosfs\n"))
			found = 1;
	fclose(f);
	EXPECT_TRUE(found);
}

TEST_HARNESS_MAIN
