// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: fallocate.  Preallocation makes unwritten extents (they read as
 * zeroes until written, so no old data shows); PUNCH_HOLE frees whole
 * blocks and zeroes the partial ones at its edges through the page cache;
 * ZERO_RANGE does the same but turns whole blocks unwritten instead of
 * freeing them, so that the range stays allocated.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/pagemap.h>
#include "aiosfs.h"

#define AIOSFS_CREDITS_FALLOC	(AIOSFS_CREDITS_EXTENT + AIOSFS_CREDITS_INODE)

/* One handle per extent, so that a huge range never overflows one. */
static int aiosfs_alloc_range(struct inode *inode, loff_t off, loff_t len, bool keep_size)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	unsigned int bits = inode->i_blkbits;
	u64 lblk = off >> bits, last = (off + len - 1) >> bits;
	struct aiosfs_handle *h;
	struct aiosfs_map map;
	int err = 0, err2, retries = 0;

	while (lblk <= last) {
		h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_FALLOC);
		if (IS_ERR(h))
			return PTR_ERR(h);
		down_write(&ei->i_data_sem);
		err = aiosfs_ext_map_create(h, inode, lblk, min_t(u64, last - lblk + 1, U32_MAX),
					    AIOSFS_GET_CREATE | AIOSFS_GET_UNWRITTEN, &map);
		up_write(&ei->i_data_sem);
		if (!err) {
			loff_t end = min_t(loff_t, off + len, (loff_t)(lblk + map.m_len) << bits);

			lblk += map.m_len;
			if (!keep_size && end > i_size_read(inode)) {
				loff_t old = i_size_read(inode);

				i_size_write(inode, end);
				ei->i_disksize = end;
				pagecache_isize_extended(inode, old, end);
			}
			err = aiosfs_mark_inode_dirty(h, inode);
		}
		err2 = aiosfs_journal_stop(h);
		err = err ?: err2;
		if (err == -ENOSPC && aiosfs_retry_alloc(inode->i_sb, &retries))
			continue;
		if (err)
			break;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return err;
}

/* Zeroes the partial blocks at the edges of [off, end), inside the file. */
static int aiosfs_zero_edges(struct inode *inode, loff_t off, loff_t end)
{
	loff_t bs = inode->i_sb->s_blocksize, isize = i_size_read(inode);
	loff_t first_full = round_up(off, bs), last_full = round_down(end, bs);
	int err = 0;

	end = min(end, isize);
	if (off >= end)
		return 0;
	/* Inside one block, covering none whole. */
	if (first_full > last_full)
		return aiosfs_zero_partial(inode, off, end - off);
	if (off < first_full)
		err = aiosfs_zero_partial(inode, off, min(first_full, end) - off);
	if (!err && last_full < end)
		err = aiosfs_zero_partial(inode, last_full, end - last_full);
	return err;
}

/* The whole blocks of [off, off + len): first and end (exclusive). */
static bool aiosfs_whole_blocks(struct inode *inode, loff_t off, loff_t len, u64 *first,
				u64 *end)
{
	unsigned int bits = inode->i_blkbits;

	*first = DIV_ROUND_UP_ULL(off, 1U << bits);
	*end = min_t(u64, (u64)(off + len) >> bits, 1ULL << 32);
	return *first < *end;
}

static int aiosfs_punch(struct inode *inode, loff_t off, loff_t len)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_handle *h;
	u64 first, end;
	int err, err2;

	err = aiosfs_zero_edges(inode, off, off + len);
	if (err || !aiosfs_whole_blocks(inode, off, len, &first, &end))
		return err;
	truncate_pagecache_range(inode, first << inode->i_blkbits,
				 (end << inode->i_blkbits) - 1);
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_FALLOC);
	if (IS_ERR(h))
		return PTR_ERR(h);
	/* The zeroed edges reach the disk before the punch commits. */
	err = aiosfs_journal_add_ordered(h, inode, off, off + len - 1);
	if (err)
		goto out;
	down_write(&ei->i_data_sem);
	err = aiosfs_ext_remove_range(h, inode, first, end);
	up_write(&ei->i_data_sem);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, inode);
out:
	err2 = aiosfs_journal_stop(h);
	return err ?: err2;
}

static int aiosfs_zero_range(struct inode *inode, loff_t off, loff_t len, bool keep_size)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_handle *h;
	u64 first, end;
	int err, err2;

	err = aiosfs_zero_edges(inode, off, off + len);
	if (err)
		return err;
	if (aiosfs_whole_blocks(inode, off, len, &first, &end)) {
		truncate_pagecache_range(inode, first << inode->i_blkbits,
					 (end << inode->i_blkbits) - 1);
		h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_FALLOC);
		if (IS_ERR(h))
			return PTR_ERR(h);
		err = aiosfs_journal_add_ordered(h, inode, off, off + len - 1);
		if (!err) {
			down_write(&ei->i_data_sem);
			err = aiosfs_ext_mark_unwritten(h, inode, first, end - first);
			up_write(&ei->i_data_sem);
		}
		err2 = aiosfs_journal_stop(h);
		if (err || err2)
			return err ?: err2;
	}
	/* Holes in the range get unwritten blocks; the size may grow. */
	return aiosfs_alloc_range(inode, off, len, keep_size);
}

long aiosfs_fallocate(struct file *file, int mode, loff_t off, loff_t len)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = inode->i_mapping;
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	long err;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (!S_ISREG(inode->i_mode))
		return -EOPNOTSUPP;
	inode_lock(inode);
	err = inode_newsize_ok(inode, off + len);
	if (err && !(mode & FALLOC_FL_PUNCH_HOLE))
		goto out;
	err = file_modified(file);
	if (err)
		goto out;
	inode_dio_wait(inode);
	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) {
		err = aiosfs_alloc_range(inode, off, len, keep);
		goto out;
	}
	/* No page fault may map a block while it is freed or changed. */
	filemap_invalidate_lock(mapping);
	err = filemap_write_and_wait_range(mapping, off, off + len - 1);
	if (!err && (mode & FALLOC_FL_PUNCH_HOLE))
		err = aiosfs_punch(inode, off, len);
	else if (!err)
		err = aiosfs_zero_range(inode, off, len, keep);
	filemap_invalidate_unlock(mapping);
out:
	inode_unlock(inode);
	return err;
}
