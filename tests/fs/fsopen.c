// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs through the new mount API (fsopen/fsconfig/fsmount), which reports
 * errors through the context's log rather than the kernel log: an unknown
 * parameter and a bad value say why there; read-only and read-write
 * mounts work end to end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include "kselftest_harness.h"
#include "aios_test.h"

#define DEV "/dev/nvme0n1"

/* Reads the context's log messages, showing them; whether @needle is among them. */
static int log_has(int fd, const char *needle)
{
	char buf[1024];
	int found = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		printf("# fs_context log: %s\n", buf);
		found |= !!strstr(buf, needle);
	}
	return found;
}

FIXTURE(fsopen) {
	char dir[32];
	int fd;
};

FIXTURE_SETUP(fsopen)
{
	ASSERT_EQ(0, aios_test_load());
	if (access(DEV, F_OK))
		ASSERT_EQ(0, system("modprobe nvme && sleep 1"));
	ASSERT_EQ(0, system("\"$AIOS_ROOT/tools/mkfs.aiosfs\" -q -F " DEV));
	strcpy(self->dir, "/tmp/aiosfs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->fd = fsopen("aiosfs", FSOPEN_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_SET_STRING, "source", DEV, 0));
}

FIXTURE_TEARDOWN(fsopen)
{
	close(self->fd);
	rmdir(self->dir);
}

TEST_F(fsopen, bad_values_refused_with_reason)
{
	ASSERT_EQ(-1, fsconfig(self->fd, FSCONFIG_SET_STRING, "errors", "sometimes", 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(log_has(self->fd, "errors"));
	ASSERT_EQ(-1, fsconfig(self->fd, FSCONFIG_SET_STRING, "commit", "100000", 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(log_has(self->fd, "commit=100000: at most a day"));
}

TEST_F(fsopen, read_write_mount)
{
	struct statfs st;
	int mfd;

	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_SET_STRING, "commit", "1", 0));
	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_SET_STRING, "errors", "remount-ro", 0));
	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	mfd = fsmount(self->fd, FSMOUNT_CLOEXEC, 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, move_mount(mfd, "", AT_FDCWD, self->dir, MOVE_MOUNT_F_EMPTY_PATH));
	close(mfd);
	ASSERT_EQ(0, statfs(self->dir, &st));
	EXPECT_EQ(0xEF53, st.f_type);
	EXPECT_EQ(0, st.f_flags & MS_RDONLY);
	EXPECT_EQ(0, umount(self->dir));
	EXPECT_EQ(0, system("e2fsck -fn " DEV " >/dev/null 2>&1"));
}

TEST_F(fsopen, unknown_parameter_refused)
{
	ASSERT_EQ(-1, fsconfig(self->fd, FSCONFIG_SET_FLAG, "no_such_option", NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(log_has(self->fd, "no_such_option"));
}

TEST_F(fsopen, read_only_mount)
{
	struct statfs st;
	int mfd;

	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_SET_FLAG, "ro", NULL, 0));
	ASSERT_EQ(0, fsconfig(self->fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	mfd = fsmount(self->fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, move_mount(mfd, "", AT_FDCWD, self->dir, MOVE_MOUNT_F_EMPTY_PATH));
	close(mfd);
	ASSERT_EQ(0, statfs(self->dir, &st));
	EXPECT_EQ(0xEF53, st.f_type);
	EXPECT_EQ(0, umount(self->dir));
}

TEST_HARNESS_MAIN
