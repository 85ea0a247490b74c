// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: symbolic links.  A short target lives in the inode's i_block
 * ("fast"); a longer one in a data block read through the page cache.
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include "aiosfs.h"

const struct inode_operations aiosfs_fast_symlink_inode_operations = {
	.get_link	= simple_get_link,
	.getattr	= aiosfs_getattr,
	.listxattr	= aiosfs_listxattr,
};

const struct inode_operations aiosfs_symlink_inode_operations = {
	.get_link	= page_get_link,
	.getattr	= aiosfs_getattr,
	.listxattr	= aiosfs_listxattr,
};
