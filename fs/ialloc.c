// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: inode allocation.  Placeholder until the allocator lands.
 */
#include "aiosfs.h"

struct inode *aiosfs_new_inode(struct aiosfs_handle *h, struct inode *dir, umode_t mode,
			       const struct qstr *name)
{
	return ERR_PTR(-ENOSPC);
}

void aiosfs_free_inode(struct aiosfs_handle *h, struct inode *inode)
{
	WARN_ON_ONCE(1);
}
