// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: where a file's data is, for lseek(SEEK_DATA/SEEK_HOLE) and FIEMAP,
 * as ext4 reports it.  The kernel's iomap helpers walk the file; we only
 * describe one run of blocks at a time from the extent tree.  Unwritten
 * extents are holes unless the page cache holds data over them (the
 * helpers look), so a program that skips holes (cp, tar, backup tools, our
 * own tree.py) never reads gigabytes of zeroes.
 */
#include <linux/fs.h>
#include <linux/iomap.h>
#include "aiosfs.h"

static int aiosfs_iomap_report_begin(struct inode *inode, loff_t pos, loff_t length,
				     unsigned int flags, struct iomap *iomap,
				     struct iomap *srcmap)
{
	unsigned int bits = inode->i_blkbits;
	u64 lblk = pos >> bits;
	u64 end = min_t(u64, DIV_ROUND_UP_ULL(pos + length, 1U << bits), 1ULL << 32);
	struct aiosfs_map map;
	int err;

	/* s_maxbytes keeps every position of a file below block 2^32. */
	if (WARN_ON_ONCE(lblk >= end))
		return -EFBIG;
	err = aiosfs_map_blocks(inode, lblk, min_t(u64, end - lblk, U32_MAX), &map);
	if (err)
		return err;
	iomap->offset = (u64)map.m_lblk << bits;
	iomap->length = (u64)map.m_len << bits;
	iomap->bdev = inode->i_sb->s_bdev;
	iomap->flags = 0;
	if (!map.m_pblk) {
		iomap->type = IOMAP_HOLE;
		iomap->addr = IOMAP_NULL_ADDR;
		return 0;
	}
	iomap->type = map.m_unwritten ? IOMAP_UNWRITTEN : IOMAP_MAPPED;
	iomap->addr = map.m_pblk << bits;
	return 0;
}

static const struct iomap_ops aiosfs_iomap_report_ops = {
	.iomap_begin = aiosfs_iomap_report_begin,
};

loff_t aiosfs_file_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file->f_mapping->host;

	switch (whence) {
	case SEEK_DATA:
		/* Shared: no write or truncate moves the end meanwhile. */
		inode_lock_shared(inode);
		offset = iomap_seek_data(inode, offset, &aiosfs_iomap_report_ops);
		inode_unlock_shared(inode);
		break;
	case SEEK_HOLE:
		inode_lock_shared(inode);
		offset = iomap_seek_hole(inode, offset, &aiosfs_iomap_report_ops);
		inode_unlock_shared(inode);
		break;
	default:
		return generic_file_llseek(file, offset, whence);
	}
	if (offset < 0)
		return offset;
	return vfs_setpos(file, offset, inode->i_sb->s_maxbytes);
}

int aiosfs_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 start, u64 len)
{
	/*
	 * FIEMAP_FLAG_XATTR is refused (-EBADR) by the helper: the xattr
	 * block is not mapped here yet.
	 */
	return iomap_fiemap(inode, fieinfo, start, len, &aiosfs_iomap_report_ops);
}
