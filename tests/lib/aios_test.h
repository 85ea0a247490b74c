/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the C tests, which use the kernel's kselftest_harness.h (taken
 * from linux-source at build time).  They run inside the guest, where
 * guest-run has set AIOS_ROOT and AIOS_KO.
 */
#ifndef _AIOS_TEST_H
#define _AIOS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/wait.h>

/* Loads aios.ko (and what it depends on) unless it is loaded; 0 on success. */
static inline int aios_test_load(void)
{
	const char *root = getenv("AIOS_ROOT");
	char cmd[512];

	if (!root)
		return -1;
	snprintf(cmd, sizeof(cmd), ". '%s/tests/lib/common.sh' && aios_load", root);
	return system(cmd);
}

/*
 * Runs a shell command with tests/lib/common.sh sourced (aios_bind,
 * nvme_bdfs, ...); its first line of output goes to @out if given.
 * Returns the command's exit status, or -1.
 */
static inline int aios_test_sh(const char *cmd, char *out, size_t len)
{
	const char *root = getenv("AIOS_ROOT");
	char full[1024];
	FILE *p;
	int st;

	if (!root)
		return -1;
	snprintf(full, sizeof(full), ". '%s/tests/lib/common.sh' && %s", root, cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (out && len) {
		out[0] = '\0';
		if (fgets(out, len, p))
			out[strcspn(out, "\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/* Whether the kernel log holds a line containing @needle. */
static inline int aios_test_klog_has(const char *needle)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	int n, found;

	if (len <= 0)
		return 0;
	buf = malloc(len + 1);
	if (!buf)
		return 0;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	buf[n > 0 ? n : 0] = '\0';
	found = !!strstr(buf, needle);
	free(buf);
	return found;
}

#endif /* _AIOS_TEST_H */
