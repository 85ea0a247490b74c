// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: block allocation.  Placeholder until the allocator lands.
 */
#include "aiosfs.h"

int aiosfs_new_blocks(struct aiosfs_handle *h, struct inode *inode, u64 goal, u32 *count,
		      u64 *pblk, unsigned int flags)
{
	return -ENOSPC;
}

void aiosfs_free_blocks(struct aiosfs_handle *h, struct inode *inode, u64 pblk, u32 count,
			unsigned int flags)
{
	WARN_ON_ONCE(1);
}

u64 aiosfs_inode_goal(struct inode *inode)
{
	return 0;
}

void aiosfs_release_busy(struct super_block *sb, u32 tid)
{
}

u64 aiosfs_count_free_blocks(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_free_blocks;
}

u64 aiosfs_count_free_inodes(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_free_inodes;
}

void aiosfs_sync_counts(struct super_block *sb)
{
}

int aiosfs_balloc_init(struct super_block *sb)
{
	return 0;
}

void aiosfs_balloc_exit(struct super_block *sb)
{
}
