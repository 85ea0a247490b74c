/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for differences between the kernels aios builds against
 * (Debian 12's 6.1 and 6.12 from bookworm-backports).  Code elsewhere uses
 * the aios_* names defined here and never tests LINUX_VERSION_CODE itself.
 */
#ifndef _AIOS_COMPAT_H
#define _AIOS_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "aios needs Linux 6.1 or newer"
#endif

#endif /* _AIOS_COMPAT_H */
