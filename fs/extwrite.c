// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: changing extent trees.  Placeholder until it lands.
 */
#include "aiosfs.h"

int aiosfs_ext_map_create(struct aiosfs_handle *h, struct inode *inode, u32 lblk, u32 len,
			  unsigned int flags, struct aiosfs_map *map)
{
	return -EROFS;
}

int aiosfs_ext_remove_range(struct aiosfs_handle *h, struct inode *inode, u32 from, u32 to)
{
	return -EROFS;
}

int aiosfs_ext_mark_unwritten(struct aiosfs_handle *h, struct inode *inode, u32 lblk, u32 len)
{
	return -EROFS;
}

void aiosfs_ext_tree_init(struct inode *inode)
{
}
