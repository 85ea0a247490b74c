// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: regular files.  Reads take the asynchronous read path (read.c).
 * Writes go through the page cache with buffer heads, blocks allocated when
 * a page is first written (no delayed allocation) inside the writer's
 * handle; the journal's ordered mode then writes the data of new blocks
 * before the transaction that maps them commits.  A write over blocks that
 * are already mapped and written starts no handle at all.
 */
#include <linux/fs.h>
#include <linux/mpage.h>
#include <linux/uio.h>
#include <linux/falloc.h>
#include <linux/pagemap.h>
#include "aiosfs.h"

/* Credits of a write that may allocate one block and change the inode. */
#define AIOSFS_CREDITS_WRITE	(AIOSFS_CREDITS_EXTENT + AIOSFS_CREDITS_INODE)

static int aiosfs_file_open(struct inode *inode, struct file *file)
{
	/* Mapping blocks must cost no I/O once the file is being read. */
	aiosfs_ext_cache_warm(inode);
	file->f_mode |= FMODE_CAN_ODIRECT;
	return generic_file_open(inode, file);
}

/*
 * get_block for the buffer-head helpers.  Holes and unwritten blocks read
 * as zeroes (unmapped); with create, the caller's handle maps them, and
 * set_buffer_new() makes the helpers zero what the write does not cover.
 */
static int aiosfs_get_block_common(struct inode *inode, sector_t iblock,
				   struct buffer_head *bh, int create)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	unsigned int bits = inode->i_blkbits;
	struct aiosfs_handle *h = current->journal_info;
	struct aiosfs_map map;
	u32 max;
	int err;

	if (iblock >= (1ULL << 32))
		return -EFBIG;
	max = clamp_t(u64, bh->b_size >> bits, 1, (1ULL << 32) - iblock);
	err = aiosfs_map_blocks(inode, iblock, max, &map);
	if (err)
		return err;
	if (map.m_pblk && !map.m_unwritten)
		goto mapped;
	if (!create)
		return 0;
	if (WARN_ON_ONCE(!h))
		return -EIO;
	down_write(&ei->i_data_sem);
	err = aiosfs_ext_map_create(h, inode, iblock, 1, AIOSFS_GET_CREATE | AIOSFS_GET_CONVERT,
				    &map);
	up_write(&ei->i_data_sem);
	if (err)
		return err;
	if (WARN_ON_ONCE(!map.m_pblk || map.m_unwritten))
		return -EIO;
	err = aiosfs_journal_order_blocks(h, inode, iblock, 1);
	if (err)
		return err;
	set_buffer_new(bh);
	map.m_len = 1;
mapped:
	map_bh(bh, inode->i_sb, map.m_pblk);
	bh->b_size = (size_t)map.m_len << bits;
	return 0;
}

int aiosfs_get_block(struct inode *inode, sector_t iblock, struct buffer_head *bh, int create)
{
	return aiosfs_get_block_common(inode, iblock, bh, create);
}

/* Writeback and O_DIRECT never allocate: write_begin and page_mkwrite did. */
static int aiosfs_get_block_noalloc(struct inode *inode, sector_t iblock,
				    struct buffer_head *bh, int create)
{
	int err = aiosfs_get_block_common(inode, iblock, bh, 0);

	if (!err && create && WARN_ON_ONCE(!buffer_mapped(bh)))
		return -EIO;
	return err;
}

/* Whether writing block lblk needs a handle: a hole or an unwritten extent. */
static bool aiosfs_needs_alloc(struct inode *inode, u64 lblk)
{
	struct aiosfs_map map;

	if (lblk >= (1ULL << 32))
		return false;
	if (aiosfs_map_blocks(inode, lblk, 1, &map))
		return true;	/* get_block will report it */
	return !map.m_pblk || map.m_unwritten;
}

bool aiosfs_retry_alloc(struct super_block *sb, int *retries)
{
	if (++*retries > 3 || !aiosfs_busy_pending(sb))
		return false;
	return aiosfs_journal_force_commit(sb) >= 0;
}

static int aiosfs_write_begin(struct file *file, struct address_space *mapping, loff_t pos,
			      unsigned int len, aios_wb_page_t **pagep, void **fsdata)
{
	struct inode *inode = mapping->host;
	struct aiosfs_handle *h;
	int err, retries = 0;

retry:
	h = NULL;
	/* Before the page lock: a handle may wait for a commit. */
	if (aiosfs_needs_alloc(inode, pos >> inode->i_blkbits)) {
		h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_WRITE);
		if (IS_ERR(h))
			return PTR_ERR(h);
	}
	err = block_write_begin(mapping, pos, len, pagep, aiosfs_get_block);
	if (err && h)
		aiosfs_journal_stop(h);
	if (err == -ENOSPC && h && aiosfs_retry_alloc(inode->i_sb, &retries))
		goto retry;
	*fsdata = err ? NULL : h;
	return err;
}

/* Blocks a failed or short write allocated past the end of the file go. */
static void aiosfs_trim_eof(struct inode *inode)
{
	int err;

	truncate_pagecache(inode, i_size_read(inode));
	err = aiosfs_truncate_blocks(inode);
	if (err)
		aiosfs_error(inode->i_sb, "inode %lu: cannot free blocks past its end: %d",
			     inode->i_ino, err);
}

static int aiosfs_write_end(struct file *file, struct address_space *mapping, loff_t pos,
			    unsigned int len, unsigned int copied, aios_wb_page_t *page,
			    void *fsdata)
{
	struct aiosfs_handle *h = fsdata;
	struct inode *inode = mapping->host;
	int ret, err = 0;

	/* It marks the inode dirty for a new size, inside our handle. */
	ret = generic_write_end(file, mapping, pos, len, copied, page, NULL);
	if (h)
		err = aiosfs_journal_stop(h);
	if (h && ret < len && pos + len > i_size_read(inode))
		aiosfs_trim_eof(inode);
	return err ?: ret;
}

static int aiosfs_writepages(struct address_space *mapping, struct writeback_control *wbc)
{
	/*
	 * The flusher calls here for a dirty inode even when none of its
	 * pages is: counting that would make the next fsync flush for
	 * nothing.  A page dirtied after the look waits for the next call.
	 */
	if (!mapping_tagged(mapping, PAGECACHE_TAG_DIRTY))
		return 0;
	/* Before anything is sent: see aiosfs_fsync(). */
	atomic_inc(&AIOSFS_I(mapping->host)->i_wb_seq);
	return mpage_writepages(mapping, wbc, aiosfs_get_block_noalloc);
}

static sector_t aiosfs_bmap(struct address_space *mapping, sector_t block)
{
	return generic_block_bmap(mapping, block, aiosfs_get_block_noalloc);
}

/*
 * The write is on the device, and the page cache is about to be cleared
 * of the range: a read of ours that fetched the old data and has not put
 * its pages in the cache yet must see this, and not publish them
 * (aiosfs_rd_stale()).
 */
static int aiosfs_dio_write_end(struct kiocb *iocb, loff_t offset, ssize_t size,
				void *private)
{
	atomic_inc(&AIOSFS_I(file_inode(iocb->ki_filp))->i_dio_seq);
	/* Before the invalidation looks for pages: see aiosfs_rd_stale(). */
	smp_mb__after_atomic();
	return 0;
}

/*
 * O_DIRECT writes go straight to the device only over blocks that are
 * mapped, written and inside the file: nothing then changes but the data.
 * Anything else returns 0, and the VFS writes it through the page cache
 * and flushes it, which keeps ordered mode's promise for new blocks.
 */
static ssize_t aiosfs_direct_IO(struct kiocb *iocb, struct iov_iter *iter)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	loff_t pos = iocb->ki_pos, end = pos + iov_iter_count(iter);
	unsigned int bits = inode->i_blkbits;
	u64 lblk = pos >> bits, last;
	struct aiosfs_map map;

	if (iov_iter_rw(iter) == READ || end > i_size_read(inode) || end <= pos)
		return 0;
	last = (end - 1) >> bits;
	while (lblk <= last) {
		if (aiosfs_map_blocks(inode, lblk, min_t(u64, last - lblk + 1, U32_MAX), &map) ||
		    !map.m_pblk || map.m_unwritten)
			return 0;
		lblk += map.m_len;
	}
	atomic_inc(&AIOSFS_I(inode)->i_wb_seq);
	return aios_blockdev_direct_IO(iocb, inode, iter, aiosfs_get_block_noalloc,
				       aiosfs_dio_write_end);
}

const struct address_space_operations aiosfs_aops = {
	.read_folio		= aiosfs_read_folio,
	.readahead		= aiosfs_readahead,
	.write_begin		= aiosfs_write_begin,
	.write_end		= aiosfs_write_end,
	.writepages		= aiosfs_writepages,
	.dirty_folio		= block_dirty_folio,
	.invalidate_folio	= block_invalidate_folio,
	.bmap			= aiosfs_bmap,
	.direct_IO		= aiosfs_direct_IO,
	.migrate_folio		= buffer_migrate_folio,
	.is_partially_uptodate	= block_is_partially_uptodate,
};

/* A shared mapping's page becomes writable: its block must exist first. */
vm_fault_t aiosfs_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct aiosfs_handle *h;
	int err, retries = 0;

	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	filemap_invalidate_lock_shared(inode->i_mapping);
retry:
	h = NULL;
	if (aiosfs_needs_alloc(inode, (u64)vmf->pgoff << (PAGE_SHIFT - inode->i_blkbits))) {
		h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_WRITE);
		if (IS_ERR(h)) {
			err = PTR_ERR(h);
			goto out;
		}
	}
	err = block_page_mkwrite(vmf->vma, vmf, aiosfs_get_block);
	if (h) {
		int err2 = aiosfs_journal_stop(h);

		if (!err)
			err = err2;
		if (err == -ENOSPC && aiosfs_retry_alloc(inode->i_sb, &retries))
			goto retry;
	}
out:
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return aios_vmf_fs_error(err);
}

static ssize_t aiosfs_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return generic_file_write_iter(iocb, from);
}

const struct file_operations aiosfs_file_operations = {
	.open		= aiosfs_file_open,
	.llseek		= aiosfs_file_llseek,
	.read_iter	= aiosfs_file_read_iter,
	.write_iter	= aiosfs_file_write_iter,
	.mmap		= aiosfs_file_mmap,
	.fsync		= aiosfs_fsync,
	.fallocate	= aiosfs_fallocate,
	.splice_read	= aios_file_splice_read,
	.splice_write	= iter_file_splice_write,
};

const struct inode_operations aiosfs_file_inode_operations = {
	.getattr	= aiosfs_getattr,
	.setattr	= aiosfs_setattr,
	.fiemap		= aiosfs_fiemap,
	.listxattr	= aiosfs_listxattr,
	AIOS_INODE_GET_ACL(aiosfs_get_acl),
	.set_acl	= aiosfs_set_acl,
};

const struct inode_operations aiosfs_special_inode_operations = {
	.getattr	= aiosfs_getattr,
	.setattr	= aiosfs_setattr,
	.listxattr	= aiosfs_listxattr,
	AIOS_INODE_GET_ACL(aiosfs_get_acl),
	.set_acl	= aiosfs_set_acl,
};
