// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: adding and removing directory entries.  Placeholder until it lands.
 */
#include "aiosfs.h"

int aiosfs_add_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode)
{
	return -EROFS;
}

int aiosfs_delete_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			struct inode *inode)
{
	return -EROFS;
}

int aiosfs_set_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode)
{
	return -EROFS;
}

int aiosfs_make_empty(struct aiosfs_handle *h, struct inode *dir, struct inode *parent)
{
	return -EROFS;
}

int aiosfs_set_dotdot(struct aiosfs_handle *h, struct inode *dir, struct inode *parent)
{
	return -EROFS;
}

bool aiosfs_empty_dir(struct inode *dir)
{
	return false;
}
