// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: regular and special files.  Reads go through the page cache;
 * the mapping is read-only, so shared writable mmaps are refused.
 */
#include <linux/fs.h>
#include "aiosfs.h"

const struct file_operations aiosfs_file_operations = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
	.mmap		= generic_file_readonly_mmap,
	.splice_read	= aios_file_splice_read,
};

const struct inode_operations aiosfs_file_inode_operations = {
	.getattr	= aiosfs_getattr,
	.listxattr	= aiosfs_listxattr,
};

const struct inode_operations aiosfs_special_inode_operations = {
	.getattr	= aiosfs_getattr,
	.listxattr	= aiosfs_listxattr,
};
