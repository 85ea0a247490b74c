/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points that module/main.c calls to bring up and tear down the two
 * halves of aios.  blk/ and fs/ never call each other through this header;
 * they meet only in lbio.h.
 */
#ifndef _AIOS_AIOS_H
#define _AIOS_AIOS_H

int aios_nvme_init(void);
void aios_nvme_exit(void);

int aiosfs_init(void);
void aiosfs_exit(void);

#endif /* _AIOS_AIOS_H */
