// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the asynchronous read path.
 *
 * On a page-cache miss the device read is issued first, into fresh pages
 * from the lbio pool that are not in the page cache yet; inserting them
 * into the page cache and the LRU (with its memcg charge and accounting),
 * and refilling the pool, then overlap with the device's work instead of
 * preceding it.  The pages sit locked and not uptodate in the cache until
 * their read completes, so a concurrent reader waits on them as on any page
 * under read; a reader that lost the insertion race drops its own copy.
 * Once the pages are in, filemap_read() copies them out.
 *
 * Page faults take the same path.  The kernel's ->read_folio and
 * ->readahead (pages that a failed read left behind, holes) go through
 * lbio as well, completing in its callback.  Aligned O_DIRECT reads go to
 * the user's pages directly.
 */
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uio.h>
#include "aiosfs.h"

/* Reads one call keeps in flight: up to 512 KiB. */
#define AIOSFS_RD_BATCH		4

/* One lbio of a read, and which of its pages made it into the page cache. */
struct aiosfs_rd {
	struct aios_lbio lbio;
	pgoff_t index;			/* of pages[0] */
	u32 added;			/* bit i: pages[i] is in the page cache */
	atomic_t *dio_seq;		/* the inode's i_dio_seq ... */
	int dio_seen;			/* ... before the command went */
	/*
	 * A read ahead of the reader is not waited for: its completion and
	 * the end of the insertion each drop a count, the last one finishes.
	 */
	atomic_t pending;
};

/*
 * The pages of the first waited read of a request, still referenced once
 * published, so that the reader copies from them without looking them up
 * again.
 */
struct aiosfs_keep {
	pgoff_t index;			/* of pages[0], the request's first page */
	unsigned int nr;
	struct page *pages[AIOS_LBIO_MAX_PAGES];
};

struct aiosfs_rd_batch {
	struct aiosfs_keep *keep;	/* NULL: keep nothing */
	struct inode *inode;
	unsigned int nr;
	struct aiosfs_rd *rd[AIOSFS_RD_BATCH];
	struct aiosfs_rd *cur;		/* being filled, not submitted yet */
	u64 next_pblk;			/* where cur continues on the device */
	pgoff_t wait_end;		/* pages below this one are waited for */
	int dio_seen;			/* i_dio_seq before any command went */
	struct aiosfs_read_times *times;	/* NULL: not counted */
};

static struct aiosfs_rd *aiosfs_rd_alloc(struct inode *inode, pgoff_t index, u64 pblk,
					 gfp_t gfp)
{
	struct aiosfs_rd *rd = kmalloc(sizeof(*rd), gfp);

	if (!rd)
		return NULL;
	aios_lbio_init(&rd->lbio, AIOSFS_SB(inode->i_sb)->s_lbio,
		       pblk << (inode->i_blkbits - SECTOR_SHIFT), 0);
	rd->lbio.private = rd;
	rd->index = index;
	rd->added = 0;
	rd->dio_seq = &AIOSFS_I(inode)->i_dio_seq;
	return rd;
}

/*
 * Whether an O_DIRECT write ended since the read was sent: its pages may
 * hold what the write replaced, and its invalidation may have run before
 * they went in.  The barrier pairs with aiosfs_dio_write_end()'s: either
 * the invalidation finds our pages, or we see its count.  Such pages stay
 * in the cache not uptodate, and ->read_folio reads them again.
 */
static bool aiosfs_rd_stale(struct aiosfs_rd *rd)
{
	/* Our insertion before the count's read; pairs with aiosfs_dio_write_end(). */
	smp_mb();
	return atomic_read(rd->dio_seq) != rd->dio_seen;
}

/*
 * Publishes (or not) the pages of a finished read and lets go of them, or
 * hands them to @keep when all made it into the page cache.
 */
static void aiosfs_rd_finish(struct aiosfs_rd *rd, int err, struct aiosfs_keep *keep)
{
	unsigned int i;

	if (!err && rd->added && aiosfs_rd_stale(rd))
		err = -ESTALE;
	if (err || !keep || keep->nr || keep->index != rd->index ||
	    rd->added != GENMASK(rd->lbio.nr_pages - 1, 0))
		keep = NULL;
	for (i = 0; i < rd->lbio.nr_pages; i++) {
		struct page *page = rd->lbio.pages[i];

		if (rd->added & BIT(i)) {
			if (!err)
				folio_mark_uptodate(page_folio(page));
			folio_unlock(page_folio(page));
		}
		if (keep)
			keep->pages[keep->nr++] = page;
		else
			put_page(page);
	}
	kfree(rd);
}

static void aiosfs_rd_ahead_done(struct aios_lbio *lbio)
{
	struct aiosfs_rd *rd = lbio->private;

	if (atomic_dec_and_test(&rd->pending))
		aiosfs_rd_finish(rd, lbio->error, NULL);
}

/* Sends the run being built; a run past what the reader wants is not waited for. */
static void aiosfs_rd_close(struct aiosfs_rd_batch *b)
{
	struct aiosfs_rd *rd = b->cur;

	if (!rd)
		return;
	b->cur = NULL;
	/* No page for it (out of memory): nothing to read. */
	if (!rd->lbio.nr_pages) {
		kfree(rd);
		return;
	}
	if (rd->index >= b->wait_end) {
		rd->lbio.end_io = aiosfs_rd_ahead_done;
		atomic_set(&rd->pending, 2);
	}
	b->rd[b->nr++] = rd;
	aios_lbio_submit(&rd->lbio);
	aiosfs_stamp(b->times, AIOSFS_ST_INSERT);
}

/*
 * The CPU work of a miss, done while the device reads: page cache and LRU
 * insertion, the pool refill; then the wait (a poll on aiosnvme).
 */
static void aiosfs_rd_complete(struct aiosfs_rd_batch *b)
{
	struct address_space *mapping = b->inode->i_mapping;
	gfp_t gfp = readahead_gfp_mask(mapping);
	unsigned int i, j;

	aiosfs_rd_close(b);
	for (i = 0; i < b->nr; i++) {
		struct aiosfs_rd *rd = b->rd[i];

		for (j = 0; j < rd->lbio.nr_pages; j++) {
			struct folio *folio = page_folio(rd->lbio.pages[j]);

			__folio_set_locked(folio);
			if (!filemap_add_folio(mapping, folio, rd->index + j, gfp))
				rd->added |= BIT(j);
			else
				__folio_clear_locked(folio);
		}
	}
	aios_lbio_pool_refill();
	aiosfs_stamp(b->times, AIOSFS_ST_WAIT);
	for (i = 0; i < b->nr; i++) {
		struct aiosfs_rd *rd = b->rd[i];

		if (rd->lbio.end_io) {
			if (atomic_dec_and_test(&rd->pending))
				aiosfs_rd_finish(rd, rd->lbio.error, NULL);
		} else {
			aiosfs_rd_finish(rd, aios_lbio_wait(&rd->lbio), b->keep);
		}
	}
	b->nr = 0;
	aiosfs_stamp(b->times, AIOSFS_ST_COPY);
}

/* Adds page index, at device block pblk, to the run being built. */
static int aiosfs_rd_add(struct aiosfs_rd_batch *b, pgoff_t index, u64 pblk)
{
	struct page *page;

	if (b->cur && (!aiosfs_run_continues(&b->cur->lbio, b->next_pblk, pblk) ||
		       index == b->wait_end))
		aiosfs_rd_close(b);
	if (!b->cur) {
		if (b->nr == AIOSFS_RD_BATCH)
			aiosfs_rd_complete(b);
		b->cur = aiosfs_rd_alloc(b->inode, index, pblk, GFP_KERNEL);
		if (!b->cur)
			return -ENOMEM;
		b->cur->dio_seen = b->dio_seen;
	}
	page = aios_lbio_page_get();
	if (!page)
		return -ENOMEM;
	aios_lbio_add_page(&b->cur->lbio, page);
	b->next_pblk = pblk + 1;
	return 0;
}

static bool aiosfs_page_cached(struct address_space *mapping, pgoff_t index)
{
	void *entry;

	rcu_read_lock();
	entry = xa_load(&mapping->i_pages, index);
	rcu_read_unlock();
	return entry && !xa_is_value(entry);
}

/*
 * Brings pages [index, end] into the page cache, device first; the reader
 * waits for those up to last, the rest is read ahead.  Reading ahead stops
 * at the first page already cached.
 */
static void aiosfs_fill_range(struct inode *inode, pgoff_t index, pgoff_t last, pgoff_t end,
			      struct aiosfs_read_times *times, struct aiosfs_keep *keep)
{
	struct address_space *mapping = inode->i_mapping;
	struct aiosfs_rd_batch b = {
		.inode = inode, .wait_end = last + 1, .times = times, .keep = keep,
		.dio_seen = atomic_read_acquire(&AIOSFS_I(inode)->i_dio_seq),
	};

	if (keep) {
		keep->index = index;
		keep->nr = 0;
	}
	struct aiosfs_map map = { .m_len = 0 };

	filemap_invalidate_lock_shared(mapping);
	for (; index <= end; index++) {
		if (aiosfs_page_cached(mapping, index)) {
			aiosfs_rd_close(&b);
			if (index > last)
				break;
			continue;
		}
		if (index < map.m_lblk || index - map.m_lblk >= map.m_len) {
			if (aiosfs_map_blocks(inode, index, min_t(u64, end - index + 1, U32_MAX),
					      &map))
				break;
		}
		/* Holes and unwritten extents: ->read_folio zeroes them. */
		if (!map.m_pblk || map.m_unwritten) {
			aiosfs_rd_close(&b);
			continue;
		}
		if (aiosfs_rd_add(&b, index, map.m_pblk + (index - map.m_lblk)))
			break;
	}
	aiosfs_rd_complete(&b);
	filemap_invalidate_unlock_shared(mapping);
}

/*
 * A sequential reader's window (f_ra.size) doubles up to the file's
 * readahead size; the part of it past what the reader asked for is read
 * ahead, not waited for, and f_ra.start/async_size remember where that part
 * lies: when the reader gets there, the next window is issued at once, so
 * that the device works ahead of it.
 */
static void aiosfs_seq_window(struct inode *inode, struct file_ra_state *ra, pgoff_t first,
			      pgoff_t last, pgoff_t eof, pgoff_t *end)
{
	unsigned int max = min_t(unsigned int, ra->ra_pages, AIOSFS_RD_BATCH * AIOS_LBIO_MAX_PAGES);
	pgoff_t next;

	ra->size = clamp_t(unsigned int, ra->size * 2, 4, max);
	if (!aiosfs_page_cached(inode->i_mapping, first)) {
		/* A miss: the reader waits anyway, for a window's worth more. */
		*end = min(eof, max_t(pgoff_t, last, first + ra->size - 1));
		ra->start = last + 1;
		ra->async_size = *end - last;
		return;
	}
	if (!ra->async_size || ra->start < first || ra->start > last)
		return;
	next = ra->start + ra->async_size;
	ra->async_size = 0;
	if (next > eof)
		return;
	ra->start = next;
	ra->async_size = min(eof, next + ra->size - 1) - next + 1;
	aiosfs_fill_range(inode, next, next - 1, next + ra->async_size - 1, NULL, NULL);
}

/* The pages of a buffered read, and for a sequential reader a window more. */
static void aiosfs_fill(struct kiocb *iocb, size_t count, struct aiosfs_read_times *times,
			struct aiosfs_keep *keep)
{
	struct file *file = iocb->ki_filp;
	struct file_ra_state *ra = &file->f_ra;
	struct inode *inode = file_inode(file);
	loff_t isize = i_size_read(inode);
	pgoff_t first, last, end, eof;

	if (iocb->ki_pos >= isize)
		return;
	eof = (isize - 1) >> PAGE_SHIFT;
	first = iocb->ki_pos >> PAGE_SHIFT;
	last = min_t(loff_t, isize - 1, iocb->ki_pos + count - 1) >> PAGE_SHIFT;
	end = last;
	if (!(file->f_mode & FMODE_RANDOM) && ra->ra_pages && iocb->ki_pos == ra->prev_pos) {
		aiosfs_seq_window(inode, ra, first, last, eof, &end);
	} else {
		ra->size = 0;
		ra->async_size = 0;
	}
	aiosfs_fill_range(inode, first, last, end, times, keep);
}

/*
 * A page fault on a page not in the cache takes the same path: the page
 * itself, and unless the mapping is marked random the pages after it,
 * read ahead.  filemap_fault() then finds them.
 */
static vm_fault_t aiosfs_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct inode *inode = file_inode(file);
	loff_t isize = i_size_read(inode);
	pgoff_t index = vmf->pgoff, end = index;

	if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT) && isize &&
	    index <= (isize - 1) >> PAGE_SHIFT &&
	    !aiosfs_page_cached(inode->i_mapping, index)) {
		if (!(vmf->vma->vm_flags & VM_RAND_READ) && file->f_ra.ra_pages)
			end = min_t(pgoff_t, (isize - 1) >> PAGE_SHIFT,
				    index + min_t(unsigned int, file->f_ra.ra_pages,
						  AIOS_LBIO_MAX_PAGES) - 1);
		aiosfs_fill_range(inode, index, index, end, NULL, NULL);
	}
	return filemap_fault(vmf);
}

static const struct vm_operations_struct aiosfs_file_vm_ops = {
	.fault		= aiosfs_fault,
	.map_pages	= filemap_map_pages,
	.page_mkwrite	= aiosfs_page_mkwrite,
};

int aiosfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &aiosfs_file_vm_ops;
	return 0;
}

/*
 * O_DIRECT reads aligned to pages go to the reader's pages; other sector
 * aligned ones take the page cache; anything else is refused, as by ext4.
 */
static ssize_t aiosfs_dio_read(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	unsigned int lbs = bdev_logical_block_size(inode->i_sb->s_bdev);
	unsigned long align = iocb->ki_pos | iov_iter_alignment(to);
	loff_t isize = i_size_read(inode);
	struct aiosfs_rd *rd = NULL;
	struct page *pages[AIOS_LBIO_MAX_PAGES];
	size_t count, len, done = 0, max;
	ssize_t ret = 0;

	if (align & (lbs - 1))
		return -EINVAL;
	if (align & (PAGE_SIZE - 1)) {
		iocb->ki_flags &= ~IOCB_DIRECT;
		aiosfs_fill(iocb, iov_iter_count(to), NULL, NULL);
		ret = generic_file_read_iter(iocb, to);
		iocb->ki_flags |= IOCB_DIRECT;
		return ret;
	}
	if (iocb->ki_pos >= isize)
		return 0;
	count = min_t(loff_t, iov_iter_count(to), isize - iocb->ki_pos);
	/* What buffered writes left in the cache must be on the device first. */
	ret = filemap_write_and_wait_range(inode->i_mapping, iocb->ki_pos,
					   iocb->ki_pos + count - 1);
	if (ret)
		return ret;
	/* Whole blocks; the buffer has room, its length being page aligned. */
	len = round_up(count, PAGE_SIZE);
	max = aios_lbio_dev_max_pages(AIOSFS_SB(inode->i_sb)->s_lbio);
	while (done < len) {
		pgoff_t index = (iocb->ki_pos + done) >> PAGE_SHIFT;
		struct aiosfs_map map;
		unsigned int i, n;
		ssize_t got;

		ret = aiosfs_map_blocks(inode, index,
					min_t(size_t, (len - done) >> PAGE_SHIFT, max), &map);
		if (ret)
			break;
		if (!map.m_pblk || map.m_unwritten) {
			size_t z = (size_t)map.m_len << PAGE_SHIFT;

			if (iov_iter_zero(z, to) != z) {
				ret = -EFAULT;
				break;
			}
			done += z;
			continue;
		}
		got = iov_iter_get_pages2(to, pages, (size_t)map.m_len << PAGE_SHIFT, map.m_len,
					  &(size_t){ 0 });
		if (got <= 0) {
			ret = got ?: -EFAULT;
			break;
		}
		n = DIV_ROUND_UP(got, PAGE_SIZE);
		rd = aiosfs_rd_alloc(inode, index, map.m_pblk, GFP_KERNEL);
		if (!rd) {
			ret = -ENOMEM;
		} else {
			for (i = 0; i < n; i++)
				aios_lbio_add_page(&rd->lbio, pages[i]);
			aios_lbio_submit(&rd->lbio);
			ret = aios_lbio_wait(&rd->lbio);
			kfree(rd);
		}
		for (i = 0; i < n; i++) {
			if (!ret && user_backed_iter(to))
				set_page_dirty_lock(pages[i]);
			put_page(pages[i]);
		}
		if (ret) {
			iov_iter_revert(to, got);
			break;
		}
		done += got;
	}
	if (done > count)
		iov_iter_revert(to, done - count);
	done = min(done, count);
	iocb->ki_pos += done;
	return done ?: ret;
}

/*
 * Copies out of the pages a miss just read, as filemap_read() would from
 * the page cache; then lets go of them.  Bytes copied, or -EFAULT.
 */
static ssize_t aiosfs_copy_kept(struct kiocb *iocb, struct iov_iter *to, struct aiosfs_keep *keep)
{
	struct file *file = iocb->ki_filp;
	loff_t isize = i_size_read(file_inode(file));
	ssize_t done = 0, err = 0;
	unsigned int i;

	for (i = 0; i < keep->nr; i++) {
		struct page *page = keep->pages[i];
		loff_t pos = iocb->ki_pos;
		size_t off = offset_in_page(pos), bytes, copied;

		if (!err && pos < isize && iov_iter_count(to) &&
		    pos >> PAGE_SHIFT == keep->index + i) {
			bytes = min3(PAGE_SIZE - off, (size_t)(isize - pos), iov_iter_count(to));
			folio_mark_accessed(page_folio(page));
			copied = copy_page_to_iter(page, off, bytes, to);
			iocb->ki_pos += copied;
			done += copied;
			if (copied < bytes)
				err = -EFAULT;
		}
		put_page(page);
	}
	keep->nr = 0;
	file->f_ra.prev_pos = iocb->ki_pos;
	if (done)
		file_accessed(file);
	return done ?: err;
}

/*
 * A read whose first and last pages are in the page cache, and that does
 * not reach the part of a sequential reader's window still to be issued,
 * takes the generic path at once: a hit costs no lookups of ours.  A page
 * missing in between is still read, through ->readahead.
 */
static bool aiosfs_read_hit(struct kiocb *iocb, size_t count)
{
	struct file *file = iocb->ki_filp;
	struct file_ra_state *ra = &file->f_ra;
	loff_t isize = i_size_read(file_inode(file));
	pgoff_t first, last;

	if (iocb->ki_pos >= isize)
		return true;
	first = iocb->ki_pos >> PAGE_SHIFT;
	last = min_t(loff_t, isize - 1, iocb->ki_pos + count - 1) >> PAGE_SHIFT;
	if (!aiosfs_page_cached(file->f_mapping, first) ||
	    (last != first && !aiosfs_page_cached(file->f_mapping, last)))
		return false;
	return !ra->async_size || ra->start < first || ra->start > last ||
	       iocb->ki_pos != ra->prev_pos || (file->f_mode & FMODE_RANDOM);
}

ssize_t aiosfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct aiosfs_read_times times = {}, *t = NULL;
	struct aiosfs_keep keep = { .nr = 0 };
	ssize_t ret = 0, more;

	if (!iov_iter_count(to))
		return 0;
	if (iocb->ki_flags & IOCB_DIRECT) {
		struct inode *inode = file_inode(iocb->ki_filp);
		ssize_t ret;

		/* Truncate and hole punching wait for O_DIRECT I/O in flight. */
		inode_lock_shared(inode);
		inode_dio_begin(inode);
		ret = aiosfs_dio_read(iocb, to);
		inode_dio_end(inode);
		inode_unlock_shared(inode);
		return ret;
	}
	if (aiosfs_read_hit(iocb, iov_iter_count(to)))
		return generic_file_read_iter(iocb, to);
	if (static_branch_unlikely(&aiosfs_stats_key)) {
		t = &times;
		aiosfs_stamp(t, AIOSFS_ST_SUBMIT);
	}
	/* NOWAIT readers must not wait for the device; the generic path says EAGAIN. */
	if (!(iocb->ki_flags & (IOCB_NOWAIT | IOCB_NOIO)))
		aiosfs_fill(iocb, iov_iter_count(to), t, &keep);
	if (keep.nr)
		ret = aiosfs_copy_kept(iocb, to, &keep);
	/* What the kept pages did not cover: the page cache has it, or gets it. */
	if (ret >= 0 && iov_iter_count(to) &&
	    iocb->ki_pos < i_size_read(file_inode(iocb->ki_filp))) {
		more = generic_file_read_iter(iocb, to);
		ret = more < 0 ? (ret ?: more) : ret + more;
	}
	if (t) {
		aiosfs_stamp(t, AIOSFS_ST_NR);
		aiosfs_stats_add(t);
	}
	return ret;
}

/* Completion of ->read_folio and ->readahead reads: the pages are the cache's. */
static void aiosfs_ra_done(struct aios_lbio *lbio)
{
	unsigned int i;

	for (i = 0; i < lbio->nr_pages; i++) {
		struct folio *folio = page_folio(lbio->pages[i]);

		if (!lbio->error)
			folio_mark_uptodate(folio);
		folio_unlock(folio);
	}
	kfree(lbio->private);
}

/* ->read_folio and ->readahead: a run of the cache's folios being built. */
struct aiosfs_ra {
	struct inode *inode;
	struct aiosfs_map map;
	struct aiosfs_rd *cur;		/* not submitted yet */
	u64 next_pblk;			/* where cur continues on the device */
};

static void aiosfs_ra_submit(struct aiosfs_ra *ra)
{
	if (ra->cur)
		aios_lbio_submit(&ra->cur->lbio);
	ra->cur = NULL;
}

/* A locked folio in the cache, not read: zeroes for a hole, else a read. */
static int aiosfs_ra_folio(struct aiosfs_ra *ra, struct folio *folio)
{
	struct aiosfs_map *map = &ra->map;
	pgoff_t index = folio->index;
	u64 pblk;
	int err;

	if (index < map->m_lblk || index - map->m_lblk >= map->m_len) {
		err = aiosfs_map_blocks(ra->inode, index, AIOS_LBIO_MAX_PAGES, map);
		if (err)
			return err;
	}
	if (!map->m_pblk || map->m_unwritten) {
		clear_highpage(folio_page(folio, 0));
		folio_mark_uptodate(folio);
		folio_unlock(folio);
		return 0;
	}
	pblk = map->m_pblk + (index - map->m_lblk);
	if (ra->cur && !aiosfs_run_continues(&ra->cur->lbio, ra->next_pblk, pblk))
		aiosfs_ra_submit(ra);
	if (!ra->cur) {
		ra->cur = aiosfs_rd_alloc(ra->inode, index, pblk,
					  mapping_gfp_constraint(folio->mapping, GFP_KERNEL));
		if (!ra->cur)
			return -ENOMEM;
		ra->cur->lbio.end_io = aiosfs_ra_done;
	}
	aios_lbio_add_page(&ra->cur->lbio, folio_page(folio, 0));
	ra->next_pblk = pblk + 1;
	return 0;
}

int aiosfs_read_folio(struct file *file, struct folio *folio)
{
	struct aiosfs_ra ra = { .inode = folio->mapping->host };
	int err;

	/*
	 * A folio with buffers may hold data newer than the disk (a dirty
	 * buffer, e.g. the zeroed tail truncate left): read only the buffers
	 * that are not up to date.
	 */
	if (folio_buffers(folio))
		return block_read_full_folio(folio, aiosfs_get_block);
	err = aiosfs_ra_folio(&ra, folio);
	if (err) {
		folio_unlock(folio);
		return err;
	}
	aiosfs_ra_submit(&ra);
	return 0;
}

void aiosfs_readahead(struct readahead_control *rac)
{
	struct aiosfs_ra ra = { .inode = rac->mapping->host };
	struct folio *folio;

	/* A folio left unread stays !uptodate: ->read_folio retries it. */
	while ((folio = readahead_folio(rac)))
		if (aiosfs_ra_folio(&ra, folio))
			folio_unlock(folio);
	aiosfs_ra_submit(&ra);
}
