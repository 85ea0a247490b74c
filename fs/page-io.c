// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: page I/O through lbio, for fsync, the journal and sync.
 *
 * Pages bound for consecutive device blocks are gathered into runs, one
 * lbio each, sent as they fill and waited for together in a batch by
 * whoever needs them on the device: fsync (the file's data), the commit
 * (ordered data, then the log blocks) and the checkpoint (blocks home).
 * The device flush that makes what completed durable is here too (fsync,
 * the checkpoint, sync_fs).  Background writeback still takes the
 * mpage path (file.c).
 */
#include <linux/buffer_head.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/slab.h>
#include <linux/writeback.h>
#include "aiosfs.h"

/* Runs are gathered as the pages come, in the order the caller finds them. */
void aiosfs_runs_init(struct aiosfs_runs *r, struct super_block *sb,
		      struct aios_lbio_batch *batch, aios_lbio_end_t end_io, void *private)
{
	*r = (struct aiosfs_runs){ .sb = sb, .batch = batch, .end_io = end_io,
				   .private = private };
}

void aiosfs_runs_submit(struct aiosfs_runs *r)
{
	if (r->cur) {
		aios_lbio_submit(r->cur);
		r->submitted++;
	}
	r->cur = NULL;
}

void aiosfs_runs_add(struct aiosfs_runs *r, u64 pblk, struct page *page)
{
	struct super_block *sb = r->sb;
	struct aios_lbio *lbio = r->cur;

	if (lbio && !aiosfs_run_continues(lbio, r->next, pblk)) {
		aiosfs_runs_submit(r);
		lbio = NULL;
	}
	if (!lbio) {
		lbio = kmalloc(sizeof(*lbio), GFP_NOFS | __GFP_NOFAIL);
		aios_lbio_init(lbio, AIOSFS_SB(sb)->s_lbio,
			       pblk << (sb->s_blocksize_bits - SECTOR_SHIFT), AIOS_LBIO_WRITE);
		lbio->end_io = r->end_io;
		lbio->private = r->private;
		aios_lbio_batch_add(r->batch, lbio);
		r->cur = lbio;
	}
	aios_lbio_add_page(lbio, page);
	r->next = pblk + 1;
	r->pages++;
}

/* In interrupt context.  The error goes in first: the last page may take the inode along. */
static void aiosfs_data_end(struct aios_lbio *lbio)
{
	unsigned int i;

	if (lbio->error)
		mapping_set_error(lbio->private, lbio->error);
	for (i = 0; i < lbio->nr_pages; i++)
		folio_end_writeback(page_folio(lbio->pages[i]));
	kfree(lbio);
}

/*
 * One dirty page, as WB_SYNC_ALL writeback would take it.  False when it
 * must go the ordinary way: every dirty page inside the file should have
 * a written block (allocated when it was dirtied), but the ordinary path
 * copes with whatever is not so.
 */
static bool aiosfs_send_folio(struct aiosfs_runs *r, struct inode *inode,
			      struct folio *folio)
{
	struct buffer_head *bh, *head;
	struct aiosfs_map map;
	loff_t size, pos;
	bool ok = true;

	folio_lock(folio);
	if (folio->mapping != inode->i_mapping || !folio_test_dirty(folio))
		goto unlock;
	if (folio_test_writeback(folio)) {
		/* Dirtied again while on its way: no unsent run of ours while we sleep. */
		aiosfs_runs_submit(r);
		folio_wait_writeback(folio);
	}
	size = i_size_read(inode);
	pos = folio_pos(folio);
	if (pos >= size)
		goto unlock;		/* a truncate is dropping it */
	if (folio_test_large(folio) || !folio_test_uptodate(folio) ||
	    aiosfs_map_blocks(inode, pos >> inode->i_blkbits, 1, &map) || !map.m_pblk ||
	    map.m_unwritten || (PAGE_SIZE >> inode->i_blkbits) != 1) {
		ok = false;
		goto unlock;
	}
	if (!folio_clear_dirty_for_io(folio))
		goto unlock;
	head = folio_buffers(folio);
	bh = head;
	if (bh) {
		do {
			clear_buffer_dirty(bh);
			bh = bh->b_this_page;
		} while (bh != head);
	}
	/* What mmap wrote past the end must not reach the disk. */
	if (size - pos < folio_size(folio))
		folio_zero_segment(folio, size - pos, folio_size(folio));
	folio_start_writeback(folio);
	folio_unlock(folio);
	aiosfs_runs_add(r, map.m_pblk, &folio->page);
	return true;

unlock:
	folio_unlock(folio);
	return ok;
}

/*
 * Sends the dirty pages of [start, end] through lbio in @batch, without
 * waiting; what it cannot send is written the ordinary way (not in the
 * batch).  Returns how many pages went in the batch.  With @fua, data that
 * fits one command goes as a FUA write, durable when it ends, and *fua
 * says whether it did.
 */
int aiosfs_send_data(struct inode *inode, loff_t start, loff_t end,
		     struct aios_lbio_batch *batch, bool *fua)
{
	struct address_space *mapping = inode->i_mapping;
	pgoff_t index = start >> PAGE_SHIFT, last = end >> PAGE_SHIFT;
	struct folio_batch fbatch;
	struct aiosfs_runs r;
	unsigned int i, nr;
	bool all = true;

	if (fua)
		*fua = false;
	if (!mapping_tagged(mapping, PAGECACHE_TAG_DIRTY))
		return 0;
	aiosfs_runs_init(&r, inode->i_sb, batch, aiosfs_data_end, mapping);
	folio_batch_init(&fbatch);
	while ((nr = filemap_get_folios_tag(mapping, &index, last,
					    PAGECACHE_TAG_DIRTY, &fbatch))) {
		for (i = 0; i < nr; i++)
			all &= aiosfs_send_folio(&r, inode, fbatch.folios[i]);
		folio_batch_release(&fbatch);
		cond_resched();
	}
	if (fua && r.cur && !r.submitted && all) {
		r.cur->flags |= AIOS_LBIO_FUA;
		*fua = true;
	}
	aiosfs_runs_submit(&r);
	if (!all)
		filemap_fdatawrite_range(mapping, start, end);
	return r.pages;
}

/* A cache flush, waited for as the poll option says. */
int aiosfs_dev_flush(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aios_lbio lbio;

	aios_lbio_init(&lbio, sbi->s_lbio, 0, AIOS_LBIO_WRITE | AIOS_LBIO_PREFLUSH |
		       (sbi->s_poll ? 0 : AIOS_LBIO_NOPOLL));
	aios_lbio_submit(&lbio);
	return aios_lbio_wait(&lbio);
}
