// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: regular and special files.  Reads take the asynchronous read
 * path (read.c); the mapping is read-only, so shared writable mmaps are
 * refused.
 */
#include <linux/fs.h>
#include "aiosfs.h"

static int aiosfs_file_open(struct inode *inode, struct file *file)
{
	/* Mapping blocks must cost no I/O once the file is being read. */
	aiosfs_ext_cache_warm(inode);
	file->f_mode |= FMODE_CAN_ODIRECT;
	return generic_file_open(inode, file);
}

const struct file_operations aiosfs_file_operations = {
	.open		= aiosfs_file_open,
	.llseek		= generic_file_llseek,
	.read_iter	= aiosfs_file_read_iter,
	.mmap		= aiosfs_file_mmap,
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
