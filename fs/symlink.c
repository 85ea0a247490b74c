// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: symbolic links.  A short target lives in the inode's i_block
 * ("fast"); a longer one in a block of its own.  That block is metadata,
 * as ext4 writes it (through the journal), so it is read through the
 * buffer cache, which holds its newest version, not the page cache.
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include "aiosfs.h"

static void aiosfs_free_link(void *bh)
{
	brelse(bh);
}

static const char *aiosfs_get_link(struct dentry *dentry, struct inode *inode,
				   struct delayed_call *done)
{
	struct aiosfs_map map;
	struct buffer_head *bh;
	char *link;
	int err;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	/* aiosfs_set_inode_ops() checked 0 < i_size < block size. */
	err = aiosfs_map_blocks(inode, 0, 1, &map);
	if (err)
		return ERR_PTR(err);
	if (!map.m_pblk || map.m_unwritten) {
		aiosfs_error(inode->i_sb, "symlink inode %lu has no target block", inode->i_ino);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	bh = aiosfs_bread(inode->i_sb, map.m_pblk, "symlink");
	if (IS_ERR(bh))
		return ERR_CAST(bh);
	/* ext4 stores a NUL after the target; without one, the size says where it ends. */
	if (!bh->b_data[inode->i_size]) {
		set_delayed_call(done, aiosfs_free_link, bh);
		return bh->b_data;
	}
	link = kmemdup_nul(bh->b_data, inode->i_size, GFP_NOFS);
	brelse(bh);
	if (!link)
		return ERR_PTR(-ENOMEM);
	set_delayed_call(done, kfree_link, link);
	return link;
}

const struct inode_operations aiosfs_fast_symlink_inode_operations = {
	.get_link	= simple_get_link,
	.getattr	= aiosfs_getattr,
	.setattr	= aiosfs_setattr,
	.listxattr	= aiosfs_listxattr,
};

const struct inode_operations aiosfs_symlink_inode_operations = {
	.get_link	= aiosfs_get_link,
	.getattr	= aiosfs_getattr,
	.setattr	= aiosfs_setattr,
	.listxattr	= aiosfs_listxattr,
};
