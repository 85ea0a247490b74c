// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the journal, written in jbd2's on-disk format so that e2fsck and
 * ext4 can replay it (and aiosfs replays theirs: recovery.c).
 *
 * The model is simpler than jbd2's.  Handles hold j_barrier for read; a
 * commit takes it for write for as long as it takes to copy every metadata
 * buffer of the running transaction into a private page ("frozen" copies),
 * then opens the next transaction.  So handles never wait for a buffer
 * under commit, and the commit writes exactly what its transaction made.
 * Metadata buffers are never dirty for the VM: after the commit block is
 * durable, the frozen copies are kept (newest per block) until a checkpoint
 * writes them home and moves the log tail; the buffers stay referenced
 * until then, so their pages cannot be reclaimed with unwritten changes.
 *
 * Ordered mode: inodes that got new data blocks are listed in the
 * transaction, and their dirty pages are written and waited for before the
 * commit block goes out.  Commits run in the caller's context (fsync,
 * sync, a handle that found the transaction full) or in the periodic
 * commit work, one at a time; whoever waits for a transaction that another
 * is committing gets it for free (group commit).
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/bio.h>
#include <linux/moduleparam.h>
#include <linux/blkdev.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/workqueue.h>
#include <linux/wait_bit.h>
#include <linux/writeback.h>
#include "aiosfs.h"

/* Set on a buffer while it is on the running transaction's list. */
#define BH_AiosfsJournaled	(BH_PrivateStart + 1)

/* Checkpoint once this many blocks wait to go home. */
#define AIOSFS_CKPT_MAX		8192

/*
 * Pages the commit writes before its commit block: the byte range of an
 * inode where its blocks newly allocated in the transaction lie (ordered
 * mode needs no other page of the file before the commit).
 */
struct aiosfs_ordered {
	struct inode *inode;		/* held with ihold() */
	loff_t start, end;		/* inclusive */
};

struct aiosfs_txn {
	u32 tid;
	int t_reserved;			/* credits of handles still running */
	int t_nr_buffers;
	struct list_head t_buffers;	/* through bh->b_assoc_buffers */
	struct xarray t_revoked;	/* home block -> 1 */
	u32 t_nr_revoked;
	struct list_head t_syncers;	/* struct aiosfs_fsync_ctx, whose data it waits for */
	struct aiosfs_ordered *t_ordered;
	u32 t_nr_ordered;
	u32 t_max_ordered;
	unsigned long t_start;		/* jiffies */
};

/* The newest committed copy of a block that is not yet home. */
struct aiosfs_ckpt {
	struct page *page;
	struct buffer_head *bh;		/* referenced */
};

struct aiosfs_journal {
	struct super_block *sb;
	struct rw_semaphore j_barrier;
	spinlock_t j_lock;		/* the running transaction's lists */
	struct mutex j_commit_mutex;	/* one commit or checkpoint at a time */
	struct aiosfs_txn *j_running;
	u32 j_commit_done;		/* the newest durable transaction */
	atomic_t j_freeing;		/* committed transactions not yet freed */
	bool j_aborted;
	struct aiosfs_jdisk *j_disk;	/* the log is [first, maxlen) there */
	u32 j_head;			/* the next block to write */
	u32 j_used;			/* blocks from the tail to the head */
	u32 j_max_txn;			/* blocks a transaction may take */
	struct xarray j_ckpt;		/* home block -> struct aiosfs_ckpt */
	u32 j_nr_ckpt;
	struct delayed_work j_work;	/* the periodic commit */
};

struct aiosfs_handle {
	struct aiosfs_journal *h_journal;
	struct aiosfs_txn *h_txn;
	int h_credits;
	int h_ref;
};

static struct aiosfs_journal *aiosfs_j(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_journal;
}

static struct aiosfs_txn *aiosfs_txn_new(u32 tid)
{
	struct aiosfs_txn *t = kzalloc(sizeof(*t), GFP_NOFS);

	if (!t)
		return NULL;
	t->tid = tid;
	INIT_LIST_HEAD(&t->t_buffers);
	INIT_LIST_HEAD(&t->t_syncers);
	xa_init(&t->t_revoked);
	t->t_start = jiffies;
	return t;
}

static void aiosfs_txn_free(struct aiosfs_txn *t)
{
	u32 i;

	for (i = 0; i < t->t_nr_ordered; i++)
		iput(t->t_ordered[i].inode);
	kvfree(t->t_ordered);
	xa_destroy(&t->t_revoked);
	kfree(t);
}

static bool aiosfs_txn_empty(struct aiosfs_txn *t)
{
	return !t->t_nr_buffers && !t->t_nr_revoked && !t->t_nr_ordered;
}

static u64 aiosfs_jpblk(struct aiosfs_journal *j, u32 lblk)
{
	return aiosfs_jdisk_pblk(j->j_disk, lblk);
}

/* Blocks of the log, which is circular. */
static u32 aiosfs_jlog_len(struct aiosfs_journal *j)
{
	return j->j_disk->maxlen - j->j_disk->first;
}

static u32 aiosfs_jnext(struct aiosfs_journal *j, u32 pos)
{
	return aiosfs_jdisk_wrap(j->j_disk, (u64)pos + 1);
}

/*
 * Block writes of one step, through lbio, waited for together: runs of
 * consecutive blocks share one command.
 */
struct aiosfs_jio {
	struct aios_lbio_batch batch;
	struct aiosfs_runs runs;
};

static void aiosfs_jio_end(struct aios_lbio *lbio)
{
	kfree(lbio);
}

static void aiosfs_jio_init(struct aiosfs_jio *io, struct super_block *sb)
{
	aios_lbio_batch_init(&io->batch, AIOSFS_SB(sb)->s_poll);
	aiosfs_runs_init(&io->runs, sb, &io->batch, aiosfs_jio_end, NULL);
}

static void aiosfs_jio_write(struct aiosfs_jio *io, u64 pblk, struct page *page)
{
	aiosfs_runs_add(&io->runs, pblk, page);
}

static int aiosfs_jio_wait(struct aiosfs_jio *io)
{
	aiosfs_runs_submit(&io->runs);
	return aios_lbio_batch_wait(&io->batch);
}

static void aiosfs_journal_abort(struct aiosfs_journal *j, int err)
{
	if (j->j_aborted)
		return;
	j->j_aborted = true;
	aiosfs_error(j->sb, "journal aborted after error %d", err);
}

void aiosfs_journal_abort_fs(struct super_block *sb, int err)
{
	struct aiosfs_journal *j = aiosfs_j(sb);

	if (j && !j->j_aborted) {
		j->j_aborted = true;
		pr_crit("(%s): journal aborted after error %d\n", sb->s_id, err);
	}
}

/* The journal superblock, with FUA: it says where the log starts. */
static int aiosfs_jsb_write(struct aiosfs_journal *j, u32 start, u32 sequence)
{
	struct aiosfs_jbd_super *js = (void *)j->j_disk->sbh->b_data;
	int err;

	lock_buffer(j->j_disk->sbh);
	js->s_start = cpu_to_be32(start);
	js->s_sequence = cpu_to_be32(sequence);
	aiosfs_jdisk_sb_csum(j->j_disk);
	unlock_buffer(j->j_disk->sbh);
	mark_buffer_dirty(j->j_disk->sbh);
	err = __sync_dirty_buffer(j->j_disk->sbh, REQ_SYNC | REQ_PREFLUSH | REQ_FUA);
	if (err)
		aiosfs_journal_abort(j, err);
	return err;
}

/*
 * Writes every committed copy home, flushes, and empties the log, whose
 * next transaction will be tid.  Called with j_commit_mutex held, so no
 * commit changes the set meanwhile.
 */
static int aiosfs_checkpoint(struct aiosfs_journal *j, u32 tid)
{
	struct aiosfs_ckpt *c;
	struct aiosfs_jio io;
	unsigned long blk;
	int err;

	if (!j->j_used)
		return 0;
	aiosfs_jio_init(&io, j->sb);
	xa_for_each(&j->j_ckpt, blk, c)
		aiosfs_jio_write(&io, blk, c->page);
	err = aiosfs_jio_wait(&io);
	if (!err)
		err = aiosfs_dev_flush(j->sb);
	if (err) {
		aiosfs_journal_abort(j, err);
		return err;
	}
	xa_for_each(&j->j_ckpt, blk, c) {
		xa_erase(&j->j_ckpt, blk);
		__free_page(c->page);
		put_bh(c->bh);
		kfree(c);
	}
	j->j_nr_ckpt = 0;
	/* An empty log: it starts at the head, with the next transaction. */
	err = aiosfs_jsb_write(j, j->j_head, tid);
	if (!err)
		j->j_used = 0;
	return err;
}

/* A frozen copy, in the order the transaction logged it. */
struct aiosfs_frozen {
	struct buffer_head *bh;
	struct page *page;	/* the copy */
	struct page *log;	/* what the log gets: the copy, or it escaped */
};

/*
 * With the barrier held for write, no handle runs: copy the transaction's
 * buffers and take its lists, then open the next transaction.
 */
static int aiosfs_freeze(struct aiosfs_journal *j, struct aiosfs_txn *t,
			 struct aiosfs_frozen **out, u32 *nr)
{
	struct aiosfs_frozen *f;
	struct buffer_head *bh, *tmp;
	u32 n = 0;

	f = kvcalloc(max(t->t_nr_buffers, 1), sizeof(*f), GFP_NOFS);
	if (!f)
		return -ENOMEM;
	list_for_each_entry_safe(bh, tmp, &t->t_buffers, b_assoc_buffers) {
		list_del_init(&bh->b_assoc_buffers);
		clear_bit(BH_AiosfsJournaled, &bh->b_state);
		if (WARN_ON_ONCE(n >= t->t_nr_buffers)) {
			put_bh(bh);
			continue;
		}
		f[n].bh = bh;
		f[n].page = alloc_page(GFP_NOFS | __GFP_NOFAIL);
		memcpy(page_address(f[n].page), bh->b_data, bh->b_size);
		n++;
	}
	*out = f;
	*nr = n;
	return 0;
}

static void aiosfs_desc_csum(struct aiosfs_journal *j, void *block)
{
	struct aiosfs_jbd_tail *tail = block + aiosfs_jdisk_room(j->j_disk);

	if (j->j_disk->csum)
		tail->t_checksum = cpu_to_be32(aiosfs_jdisk_tail_csum(j->j_disk, block));
}

static void aiosfs_jhdr(void *block, u32 type, u32 tid)
{
	struct aiosfs_jbd_header *h = block;

	h->h_magic = cpu_to_be32(AIOSFS_JBD_MAGIC);
	h->h_blocktype = cpu_to_be32(type);
	h->h_sequence = cpu_to_be32(tid);
}

/* Pages written to the log in one commit; freed once it is done. */
struct aiosfs_logpages {
	struct page **p;
	u32 nr, max;
};

static struct page *aiosfs_logpage(struct aiosfs_logpages *lp)
{
	struct page *page = alloc_page(GFP_NOFS | __GFP_NOFAIL | __GFP_ZERO);

	if (WARN_ON_ONCE(lp->nr >= lp->max)) {
		__free_page(page);
		return NULL;
	}
	lp->p[lp->nr++] = page;
	return page;
}

/* Writes one block at the head and moves it on. */
static void aiosfs_log_block(struct aiosfs_journal *j, struct aiosfs_jio *io, struct page *page)
{
	aiosfs_jio_write(io, aiosfs_jpblk(j, j->j_head), page);
	j->j_head = aiosfs_jnext(j, j->j_head);
	j->j_used++;
}

static u32 aiosfs_revoke_per_block(struct aiosfs_journal *j)
{
	u32 room = aiosfs_jdisk_room(j->j_disk) - sizeof(struct aiosfs_jbd_revoke_header);

	return room / (j->j_disk->is64 ? 8 : 4);
}

static void aiosfs_log_revokes(struct aiosfs_journal *j, struct aiosfs_txn *t,
			       struct aiosfs_jio *io, struct aiosfs_logpages *lp)
{
	u32 per = aiosfs_revoke_per_block(j), in = 0, rec = j->j_disk->is64 ? 8 : 4;
	struct aiosfs_jbd_revoke_header *r = NULL;
	struct page *page = NULL;
	unsigned long blk;
	void *v;

	xa_for_each(&t->t_revoked, blk, v) {
		u8 *p;

		if (!page || in == per) {
			if (page) {
				aiosfs_desc_csum(j, r);
				aiosfs_log_block(j, io, page);
			}
			page = aiosfs_logpage(lp);
			if (!page)
				return;
			r = page_address(page);
			aiosfs_jhdr(r, AIOSFS_JBD_REVOKE, t->tid);
			in = 0;
		}
		p = (u8 *)(r + 1) + in * rec;
		if (j->j_disk->is64)
			put_unaligned_be64(blk, p);
		else
			put_unaligned_be32(blk, p);
		in++;
		r->r_count = cpu_to_be32(sizeof(*r) + in * rec);
	}
	if (page) {
		aiosfs_desc_csum(j, r);
		aiosfs_log_block(j, io, page);
	}
}

static void aiosfs_fill_tag(struct aiosfs_journal *j, void *tagp, u64 blk, u32 flags,
			    const void *data, u32 tid)
{
	if (j->j_disk->csum_v3) {
		struct aiosfs_jbd_tag3 *t = tagp;

		t->t_blocknr = cpu_to_be32(lower_32_bits(blk));
		t->t_blocknr_high = cpu_to_be32(upper_32_bits(blk));
		t->t_flags = cpu_to_be32(flags);
		t->t_checksum = cpu_to_be32(aiosfs_jdisk_block_csum(j->j_disk, tid, data));
	} else {
		struct aiosfs_jbd_tag *t = tagp;

		t->t_blocknr = cpu_to_be32(lower_32_bits(blk));
		if (j->j_disk->is64)
			t->t_blocknr_high = cpu_to_be32(upper_32_bits(blk));
		t->t_flags = cpu_to_be16(flags);
	}
}

/*
 * Descriptor blocks and the copies they describe.  A copy that starts
 * with the jbd2 magic is logged with its first word zeroed (ESCAPE); the
 * frozen page itself keeps the real content for the checkpoint.
 */
static struct page *aiosfs_log_copy(struct aiosfs_journal *j, struct aiosfs_frozen *f,
				    struct aiosfs_logpages *lp, u32 *flags)
{
	const u8 *data = page_address(f->page);
	struct page *copy;

	if (get_unaligned_be32(data) != AIOSFS_JBD_MAGIC)
		return f->page;
	copy = aiosfs_logpage(lp);
	if (!copy)
		return NULL;
	memcpy(page_address(copy) + 4, data + 4, j->sb->s_blocksize - 4);
	*flags |= AIOSFS_JBD_FLAG_ESCAPE;
	return copy;
}

static void aiosfs_last_tag(struct aiosfs_journal *j, void *tagp)
{
	if (j->j_disk->csum_v3)
		((struct aiosfs_jbd_tag3 *)tagp)->t_flags |= cpu_to_be32(AIOSFS_JBD_FLAG_LAST_TAG);
	else
		((struct aiosfs_jbd_tag *)tagp)->t_flags |= cpu_to_be16(AIOSFS_JBD_FLAG_LAST_TAG);
}

static int aiosfs_log_buffers(struct aiosfs_journal *j, struct aiosfs_txn *t,
			      struct aiosfs_frozen *f, u32 nr, struct aiosfs_jio *io,
			      struct aiosfs_logpages *lp)
{
	unsigned int end = aiosfs_jdisk_room(j->j_disk);
	u32 i = 0, first, k;

	while (i < nr) {
		struct page *dpage = aiosfs_logpage(lp);
		u8 *desc, *p, *last_tag = NULL;

		if (!dpage)
			return -ENOMEM;
		desc = page_address(dpage);
		aiosfs_jhdr(desc, AIOSFS_JBD_DESCRIPTOR, t->tid);
		p = desc + sizeof(struct aiosfs_jbd_header);
		first = i;
		/* Room for a tag, plus the uuid after the first one. */
		while (i < nr && p + j->j_disk->tag_bytes + (i == first ? 16 : 0) <= desc + end) {
			u32 flags = i == first ? 0 : AIOSFS_JBD_FLAG_SAME_UUID;

			f[i].log = aiosfs_log_copy(j, &f[i], lp, &flags);
			if (!f[i].log)
				return -ENOMEM;
			aiosfs_fill_tag(j, p, f[i].bh->b_blocknr, flags, page_address(f[i].log),
					t->tid);
			last_tag = p;
			p += j->j_disk->tag_bytes;
			if (i == first) {
				memcpy(p, AIOSFS_SB(j->sb)->s_es->s_uuid, 16);
				p += 16;
			}
			i++;
		}
		aiosfs_last_tag(j, last_tag);
		aiosfs_desc_csum(j, desc);
		aiosfs_log_block(j, io, dpage);
		for (k = first; k < i; k++)
			aiosfs_log_block(j, io, f[k].log);
	}
	return 0;
}

/* Log blocks a transaction takes: revokes, descriptors, copies, commit. */
static u32 aiosfs_txn_blocks(struct aiosfs_journal *j, struct aiosfs_txn *t, u32 nr)
{
	unsigned int room = aiosfs_jdisk_room(j->j_disk) - sizeof(struct aiosfs_jbd_header) - 16;
	u32 per_desc = room / j->j_disk->tag_bytes;

	return DIV_ROUND_UP(t->t_nr_revoked, aiosfs_revoke_per_block(j)) +
	       DIV_ROUND_UP(nr, per_desc) + nr + 1;
}

/* Data under new blocks reaches the device before the commit block. */
static void aiosfs_send_ordered(struct aiosfs_txn *t, struct aios_lbio_batch *data)
{
	struct aiosfs_ordered *o;

	for (o = t->t_ordered; o < t->t_ordered + t->t_nr_ordered; o++)
		aiosfs_send_data(o->inode, o->start, o->end, data, NULL);
}

/*
 * The data of the fsyncs waiting for the transaction, then the other
 * ordered data, then what else was under writeback when that was sent
 * (the flusher's).  An error stays in the mapping for fsync to report,
 * as in ext4.
 */
static void aiosfs_wait_ordered(struct aiosfs_txn *t, struct aios_lbio_batch *data)
{
	struct aiosfs_fsync_ctx *fc, *tmp;
	struct aiosfs_ordered *o;

	list_for_each_entry_safe(fc, tmp, &t->t_syncers, node) {
		aios_lbio_batch_wait(fc->data);
		fc->data = NULL;
		list_del_init(&fc->node);
	}
	aios_lbio_batch_wait(data);
	for (o = t->t_ordered; o < t->t_ordered + t->t_nr_ordered; o++)
		filemap_fdatawait_range_keep_errors(o->inode->i_mapping, o->start, o->end);
}

/* A failed commit leaves every fsync to wait for its own data. */
static void aiosfs_drop_syncers(struct aiosfs_txn *t)
{
	struct aiosfs_fsync_ctx *fc, *tmp;

	list_for_each_entry_safe(fc, tmp, &t->t_syncers, node)
		list_del_init(&fc->node);
}

static void aiosfs_ckpt_free(struct aiosfs_ckpt *c)
{
	__free_page(c->page);
	put_bh(c->bh);
	kfree(c);
}

/* The copies become the newest home versions; revoked blocks lose theirs. */
static void aiosfs_to_checkpoint(struct aiosfs_journal *j, struct aiosfs_txn *t,
				 struct aiosfs_frozen *f, u32 nr)
{
	struct aiosfs_ckpt *c;
	unsigned long blk;
	void *v;
	u32 i;

	for (i = 0; i < nr; i++) {
		c = xa_load(&j->j_ckpt, f[i].bh->b_blocknr);
		if (c) {
			__free_page(c->page);
			put_bh(c->bh);
		} else {
			c = kmalloc(sizeof(*c), GFP_NOFS | __GFP_NOFAIL);
			xa_store(&j->j_ckpt, f[i].bh->b_blocknr, c, GFP_NOFS | __GFP_NOFAIL);
			j->j_nr_ckpt++;
		}
		c->page = f[i].page;
		c->bh = f[i].bh;
	}
	xa_for_each(&t->t_revoked, blk, v) {
		c = xa_erase(&j->j_ckpt, blk);
		if (c) {
			aiosfs_ckpt_free(c);
			j->j_nr_ckpt--;
		}
	}
}

static void aiosfs_logpages_free(struct aiosfs_logpages *lp)
{
	u32 i;

	for (i = 0; i < lp->nr; i++)
		__free_page(lp->p[i]);
	kvfree(lp->p);
}

static void aiosfs_frozen_free(struct aiosfs_frozen *f, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++) {
		__free_page(f[i].page);
		put_bh(f[i].bh);
	}
	kvfree(f);
}

/* The commit block, ready before the blocks it covers are on the device. */
static struct page *aiosfs_commit_block(struct aiosfs_journal *j, struct aiosfs_txn *t,
					struct aiosfs_logpages *lp)
{
	struct page *page = aiosfs_logpage(lp);
	struct aiosfs_jbd_commit *c;
	struct timespec64 now;

	if (!page)
		return NULL;
	c = page_address(page);
	aiosfs_jhdr(c, AIOSFS_JBD_COMMIT, t->tid);
	ktime_get_coarse_real_ts64(&now);
	c->h_commit_sec = cpu_to_be64(now.tv_sec);
	c->h_commit_nsec = cpu_to_be32(now.tv_nsec);
	if (j->j_disk->csum)
		c->h_chksum[0] = cpu_to_be32(aiosfs_jdisk_commit_csum(j->j_disk, c));
	return page;
}

/*
 * The log blocks go out at once, behind the data already in flight; the
 * commit block is built meanwhile.  It is sent only when both are on the
 * device, with a flush ahead of it (the data and log durable first) and
 * FUA (itself durable when it completes).
 */
static int aiosfs_write_log(struct aiosfs_journal *j, struct aiosfs_txn *t,
			    struct aiosfs_frozen *f, u32 nr, struct aiosfs_logpages *lp,
			    struct aios_lbio_batch *data, struct aiosfs_fsync_times *times)
{
	struct aios_lbio commit;
	struct aiosfs_jio io;
	struct page *page;
	int err, err2;

	aiosfs_jio_init(&io, j->sb);
	aiosfs_log_revokes(j, t, &io, lp);
	err = aiosfs_log_buffers(j, t, f, nr, &io, lp);
	aiosfs_runs_submit(&io.runs);
	page = err ? NULL : aiosfs_commit_block(j, t, lp);
	aiosfs_fstamp(times, AIOSFS_FS_WAIT);
	aiosfs_wait_ordered(t, data);
	err2 = aiosfs_jio_wait(&io);
	if (err || err2 || !page)
		return err ?: err2 ?: -ENOMEM;
	aios_lbio_init(&commit, AIOSFS_SB(j->sb)->s_lbio,
		       aiosfs_jpblk(j, j->j_head) << (j->sb->s_blocksize_bits - SECTOR_SHIFT),
		       AIOS_LBIO_WRITE | AIOS_LBIO_PREFLUSH | AIOS_LBIO_FUA |
		       (AIOSFS_SB(j->sb)->s_poll ? 0 : AIOS_LBIO_NOPOLL));
	aios_lbio_add_page(&commit, page);
	j->j_head = aiosfs_jnext(j, j->j_head);
	j->j_used++;
	aiosfs_fstamp(times, AIOSFS_FS_COMMIT);
	aios_lbio_submit(&commit);
	err = aios_lbio_wait(&commit);
	aiosfs_fstamp(times, AIOSFS_FS_NR);
	return err;
}

/*
 * Commits the running transaction.  Returns 1 when it did, 0 when there
 * was nothing to commit, or an error (the journal is then aborted).  The
 * committed transaction comes back in *done for the caller to free after
 * dropping j_commit_mutex: freeing it may drop the last reference to an
 * inode, whose eviction starts a handle.
 */
static int aiosfs_commit_locked(struct aiosfs_journal *j, struct aiosfs_txn **done,
				struct aiosfs_fsync_ctx *fc)
{
	struct aiosfs_fsync_times *times = fc ? fc->times : NULL;
	struct aiosfs_txn *t = j->j_running, *next;
	struct aiosfs_logpages lp = {};
	struct aios_lbio_batch own, *data;
	struct aiosfs_frozen *f;
	u32 nr, need;
	int err;

	if (j->j_aborted)
		return -EIO;
	if (aiosfs_txn_empty(t))
		return 0;
	next = aiosfs_txn_new(t->tid + 1);
	if (!next)
		return -ENOMEM;
	down_write(&j->j_barrier);
	/* No handle runs now: every credit of t was used or given back. */
	WARN_ON_ONCE(t->t_reserved);
	/* An error while we waited for the handles: theirs may be half done. */
	err = j->j_aborted ? -EIO : aiosfs_freeze(j, t, &f, &nr);
	if (!err) {
		/* From here on, fsyncs join next, and t's syncers are ours. */
		spin_lock(&j->j_lock);
		j->j_running = next;
		spin_unlock(&j->j_lock);
	}
	up_write(&j->j_barrier);
	if (err) {
		kfree(next);
		return err;
	}
	*done = t;
	atomic_inc(&j->j_freeing);
	aiosfs_fstamp(times, AIOSFS_FS_BUILD);
	data = &own;
	aios_lbio_batch_init(data, AIOSFS_SB(j->sb)->s_poll);
	aiosfs_send_ordered(t, data);
	need = aiosfs_txn_blocks(j, t, nr);
	if (WARN_ON_ONCE(need > aiosfs_jlog_len(j))) {
		err = -ENOSPC;
		goto fail;
	}
	if (j->j_used + need > aiosfs_jlog_len(j)) {
		/* t is closed but not logged: the log must expect it next. */
		err = aiosfs_checkpoint(j, t->tid);
		if (err)
			goto fail;
	}
	lp.max = need + nr + 1;
	lp.p = kvcalloc(lp.max, sizeof(*lp.p), GFP_NOFS);
	if (!lp.p) {
		err = -ENOMEM;
		goto fail;
	}
	err = aiosfs_write_log(j, t, f, nr, &lp, data, times);
	data = NULL;
	aiosfs_logpages_free(&lp);
	if (err)
		goto fail;
	WRITE_ONCE(j->j_commit_done, t->tid);
	aiosfs_to_checkpoint(j, t, f, nr);
	kvfree(f);
	aiosfs_release_busy(j->sb, t->tid);
	if (j->j_nr_ckpt > AIOSFS_CKPT_MAX || j->j_used > aiosfs_jlog_len(j) / 2)
		aiosfs_checkpoint(j, j->j_running->tid);
	return 1;

fail:
	/* What was sent must end before its batch goes. */
	if (data)
		aios_lbio_batch_wait(data);
	aiosfs_drop_syncers(t);
	aiosfs_journal_abort(j, err);
	aiosfs_frozen_free(f, nr);
	return err;
}

/* Freeing drops the ordered inodes' references: deleted files go then. */
static void aiosfs_txn_done(struct aiosfs_journal *j, struct aiosfs_txn *done)
{
	if (!done)
		return;
	aiosfs_txn_free(done);
	if (atomic_dec_and_test(&j->j_freeing))
		wake_up_var(&j->j_freeing);
}

/* Commits transaction tid unless it is durable already; see commit_tid. */
static int aiosfs_commit(struct aiosfs_journal *j, u32 tid, bool any,
			 struct aiosfs_fsync_ctx *fc)
{
	struct aiosfs_txn *done = NULL;
	int ret = 0;

	aiosfs_fstamp(fc ? fc->times : NULL, AIOSFS_FS_CLOSE);
	mutex_lock(&j->j_commit_mutex);
	if (any || !aiosfs_tid_before(tid, j->j_running->tid))
		ret = aiosfs_commit_locked(j, &done, fc);
	else if (aiosfs_tid_before(j->j_commit_done, tid))
		ret = -EIO;	/* an aborted commit left it behind */
	if (fc && !list_empty(&fc->node)) {
		/* Its transaction is still running, empty of what it waits for. */
		spin_lock(&j->j_lock);
		list_del_init(&fc->node);
		spin_unlock(&j->j_lock);
	}
	mutex_unlock(&j->j_commit_mutex);
	/* Another's commit waited for its data before the flush. */
	if (!ret && fc && !fc->data)
		ret = 1;
	aiosfs_txn_done(j, done);
	return ret;
}

/*
 * 1: a commit ran after the caller's data was written (its flush covers
 * that data); 0: tid was durable already (the caller flushes if it must).
 * The caller's data batch, if any, is waited for by a commit, which then
 * sets fc->data to NULL; any other way the caller still waits for it.
 */
int aiosfs_journal_commit_tid(struct super_block *sb, u32 tid, struct aiosfs_fsync_ctx *fc)
{
	struct aiosfs_journal *j = aiosfs_j(sb);

	if (!j)
		return 0;
	if (!aiosfs_tid_before(READ_ONCE(j->j_commit_done), tid))
		return 0;
	if (fc) {
		/* The commit of tid, whoever runs it, will wait for our data. */
		spin_lock(&j->j_lock);
		if (j->j_running->tid == tid)
			list_add_tail(&fc->node, &j->j_running->t_syncers);
		spin_unlock(&j->j_lock);
	}
	return aiosfs_commit(j, tid, false, fc);
}

u32 aiosfs_journal_running_tid(struct super_block *sb)
{
	struct aiosfs_journal *j = aiosfs_j(sb);
	u32 tid;

	if (!j)
		return 0;
	spin_lock(&j->j_lock);
	tid = j->j_running->tid;
	spin_unlock(&j->j_lock);
	return tid;
}

bool aiosfs_journal_tid_durable(struct super_block *sb, u32 tid)
{
	struct aiosfs_journal *j = aiosfs_j(sb);

	return !j || !aiosfs_tid_before(READ_ONCE(j->j_commit_done), tid);
}

int aiosfs_journal_force_commit(struct super_block *sb)
{
	struct aiosfs_journal *j = aiosfs_j(sb);
	int ret;

	if (!j)
		return 0;
	ret = aiosfs_commit(j, 0, true, NULL);
	/*
	 * Files deleted before a sync are freed when the transactions that
	 * wrote their data are freed, maybe by another committer: wait.
	 */
	wait_var_event(&j->j_freeing, !atomic_read(&j->j_freeing));
	return ret < 0 ? ret : !!ret;
}

static void aiosfs_commit_work(struct work_struct *work)
{
	struct aiosfs_journal *j = container_of(to_delayed_work(work), struct aiosfs_journal,
						j_work);
	u32 interval = AIOSFS_SB(j->sb)->s_commit_interval;
	struct aiosfs_txn *t;
	bool due;

	spin_lock(&j->j_lock);
	t = j->j_running;
	due = !aiosfs_txn_empty(t) && (time_after_eq(jiffies, t->t_start + interval) ||
				       t->t_nr_buffers > j->j_max_txn / 2);
	spin_unlock(&j->j_lock);
	if (due)
		aiosfs_commit(j, 0, true, NULL);
	if (!j->j_aborted)
		queue_delayed_work(system_long_wq, &j->j_work, interval);
}

/* Joins the running transaction with credits, committing it if it is full. */
static int aiosfs_handle_attach(struct aiosfs_journal *j, struct aiosfs_handle *h, int credits)
{
	struct aiosfs_txn *t;
	int err;

	for (;;) {
		if (j->j_aborted)
			return -EROFS;
		down_read(&j->j_barrier);
		spin_lock(&j->j_lock);
		t = j->j_running;
		if (t->t_nr_buffers + t->t_reserved + credits <= j->j_max_txn ||
		    (!t->t_reserved && !t->t_nr_buffers)) {
			t->t_reserved += credits;
			h->h_txn = t;
			h->h_credits = credits;
			spin_unlock(&j->j_lock);
			return 0;
		}
		spin_unlock(&j->j_lock);
		up_read(&j->j_barrier);
		err = aiosfs_commit(j, t->tid, false, NULL);
		if (err < 0)
			return err;
	}
}

static void aiosfs_handle_detach(struct aiosfs_handle *h)
{
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;
	bool full;

	spin_lock(&j->j_lock);
	t->t_reserved -= h->h_credits;
	full = t->t_nr_buffers > j->j_max_txn / 2;
	spin_unlock(&j->j_lock);
	up_read(&j->j_barrier);
	h->h_txn = NULL;
	if (full)
		mod_delayed_work(system_long_wq, &j->j_work, 0);
}

struct aiosfs_handle *aiosfs_journal_start(struct super_block *sb, int credits)
{
	struct aiosfs_journal *j = aiosfs_j(sb);
	struct aiosfs_handle *h = current->journal_info;
	int err;

	if (h) {
		if (WARN_ON_ONCE(h->h_journal != j))
			return ERR_PTR(-EINVAL);
		h->h_ref++;
		return h;
	}
	if (!j || sb_rdonly(sb))
		return ERR_PTR(-EROFS);
	h = kzalloc(sizeof(*h), GFP_NOFS);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->h_journal = j;
	h->h_ref = 1;
	err = aiosfs_handle_attach(j, h, credits);
	if (err) {
		kfree(h);
		return ERR_PTR(err);
	}
	current->journal_info = h;
	return h;
}

int aiosfs_journal_stop(struct aiosfs_handle *h)
{
	struct aiosfs_journal *j = h->h_journal;

	if (--h->h_ref)
		return 0;
	aiosfs_handle_detach(h);
	current->journal_info = NULL;
	kfree(h);
	return j->j_aborted ? -EIO : 0;
}

bool aiosfs_journal_try_extend(struct aiosfs_handle *h, int credits)
{
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;
	bool ok;

	if (h->h_credits >= credits)
		return true;
	spin_lock(&j->j_lock);
	ok = t->t_nr_buffers + t->t_reserved + credits - h->h_credits <= j->j_max_txn;
	if (ok) {
		t->t_reserved += credits - h->h_credits;
		h->h_credits = credits;
	}
	spin_unlock(&j->j_lock);
	return ok;
}

#ifdef AIOS_TEST
/*
 * Test hook: every top-up restarts its handle, as on a full transaction,
 * so that tests see what a restart commits (tests/fsdurable/create-restart).
 */
static bool aiosfs_fault_restart;
module_param_named(fault_journal_restart, aiosfs_fault_restart, bool, 0600);
MODULE_PARM_DESC(fault_journal_restart, "Testing only: every top-up of credits restarts the handle");

static bool aiosfs_restart_forced(void)
{
	return READ_ONCE(aiosfs_fault_restart);
}
#else
static bool aiosfs_restart_forced(void)
{
	return false;
}
#endif

int aiosfs_journal_ensure_credits(struct aiosfs_handle *h, int credits)
{
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;
	u32 tid = t->tid;
	int err;

	if (!aiosfs_restart_forced() && aiosfs_journal_try_extend(h, credits))
		return 0;
	/* Restart: what the handle did so far commits on its own. */
	aiosfs_handle_detach(h);
	current->journal_info = NULL;
	err = aiosfs_commit(j, tid, false, NULL);
	if (err >= 0)
		err = aiosfs_handle_attach(j, h, credits);
	current->journal_info = h;
	if (err < 0) {
		/* Stop must find a transaction: rejoin with nothing reserved. */
		down_read(&j->j_barrier);
		h->h_txn = j->j_running;
		h->h_credits = 0;
		return err;
	}
	return 0;
}

u32 aiosfs_handle_tid(struct aiosfs_handle *h)
{
	return h->h_txn->tid;
}

int aiosfs_journal_get_write_access(struct aiosfs_handle *h, struct buffer_head *bh)
{
	if (WARN_ON_ONCE(!h || !h->h_txn))
		return -EIO;
	return h->h_journal->j_aborted ? -EROFS : 0;
}

int aiosfs_journal_get_create_access(struct aiosfs_handle *h, struct buffer_head *bh)
{
	int err = aiosfs_journal_get_write_access(h, bh);

	if (!err)
		set_buffer_uptodate(bh);
	return err;
}

int aiosfs_journal_dirty_metadata(struct aiosfs_handle *h, struct buffer_head *bh)
{
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;

	if (WARN_ON_ONCE(!t))
		return -EIO;
	set_buffer_uptodate(bh);
	if (test_and_set_bit(BH_AiosfsJournaled, &bh->b_state))
		return 0;
	get_bh(bh);
	spin_lock(&j->j_lock);
	WARN_ON_ONCE(!list_empty(&bh->b_assoc_buffers));
	list_add_tail(&bh->b_assoc_buffers, &t->t_buffers);
	t->t_nr_buffers++;
	/* The credit turns into the buffer: t_reserved counts only the rest. */
	if (!WARN_ON_ONCE(h->h_credits <= 0)) {
		h->h_credits--;
		t->t_reserved--;
	}
	spin_unlock(&j->j_lock);
	return 0;
}

int aiosfs_journal_revoke(struct aiosfs_handle *h, u64 blk)
{
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;
	struct buffer_head *bh;
	int err;

	err = xa_insert(&t->t_revoked, blk, xa_mk_value(1), GFP_NOFS);
	if (err == -EBUSY)
		return 0;
	if (err)
		return err;
	spin_lock(&j->j_lock);
	t->t_nr_revoked++;
	spin_unlock(&j->j_lock);
	/* A freed block's changes in this transaction need not be logged. */
	bh = sb_find_get_block(j->sb, blk);
	if (!bh)
		return 0;
	if (test_and_clear_bit(BH_AiosfsJournaled, &bh->b_state)) {
		spin_lock(&j->j_lock);
		list_del_init(&bh->b_assoc_buffers);
		t->t_nr_buffers--;
		spin_unlock(&j->j_lock);
		put_bh(bh);
	}
	brelse(bh);
	return 0;
}

int aiosfs_journal_add_ordered(struct aiosfs_handle *h, struct inode *inode,
			       loff_t start, loff_t end)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_journal *j = h->h_journal;
	struct aiosfs_txn *t = h->h_txn;
	struct aiosfs_ordered *o, *grown = NULL;
	u32 max;

	if (WARN_ON_ONCE(start < 0 || end < start))
		return -EINVAL;
	for (;;) {
		spin_lock(&j->j_lock);
		if (ei->i_ordered && ei->i_ordered_tid == t->tid) {
			/* Once per transaction; later ranges widen the first. */
			o = &t->t_ordered[ei->i_ordered_idx];
			o->start = min(o->start, start);
			o->end = max(o->end, end);
			break;
		}
		if (t->t_nr_ordered < t->t_max_ordered) {
			ihold(inode);
			ei->i_ordered_idx = t->t_nr_ordered;
			o = &t->t_ordered[t->t_nr_ordered++];
			*o = (struct aiosfs_ordered){ inode, start, end };
			ei->i_ordered_tid = t->tid;
			ei->i_ordered = true;
			break;
		}
		if (grown && max > t->t_max_ordered) {
			memcpy(grown, t->t_ordered, t->t_nr_ordered * sizeof(*grown));
			swap(grown, t->t_ordered);
			t->t_max_ordered = max;
			spin_unlock(&j->j_lock);
			kvfree(grown);
			grown = NULL;
			continue;
		}
		max = max_t(u32, 16, 2 * t->t_max_ordered);
		spin_unlock(&j->j_lock);
		kvfree(grown);
		grown = kvmalloc_array(max, sizeof(*grown), GFP_NOFS);
		if (!grown)
			return -ENOMEM;
	}
	spin_unlock(&j->j_lock);
	kvfree(grown);
	return 0;
}

int aiosfs_journal_dirty_super(struct aiosfs_handle *h)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(h->h_journal->sb);

	lock_buffer(sbi->s_sbh);
	aiosfs_sb_csum_set(sbi->s_es);
	unlock_buffer(sbi->s_sbh);
	return aiosfs_journal_dirty_metadata(h, sbi->s_sbh);
}

#define AIOSFS_JBD_WRITE_INCOMPAT					\
	(AIOSFS_JBD_INCOMPAT_REVOKE | AIOSFS_JBD_INCOMPAT_64BIT |	\
	 AIOSFS_JBD_INCOMPAT_CSUM_V3)

/* Beyond what any jbd2 journal must be (jdisk.c): what this writer can keep. */
static int aiosfs_jwrite_check(struct aiosfs_journal *j)
{
	struct aiosfs_jdisk *jd = j->j_disk;
	struct super_block *sb = j->sb;

	/* Another inode (an old tune2fs -j of a mounted volume) is also a user file. */
	if (jd->ino != AIOSFS_JOURNAL_INO) {
		pr_err("(%s): the journal is not inode %u (it is %u): not supported\n", sb->s_id,
		       AIOSFS_JOURNAL_INO, jd->ino);
		return -EOPNOTSUPP;
	}
	if (!jd->v2 || jd->maxlen < AIOSFS_JBD_MIN_BLOCKS || jd->first >= jd->maxlen - 16) {
		pr_err("(%s): an old (v1) journal superblock, or a log too small to write (%u blocks from %u)\n",
		       sb->s_id, jd->maxlen, jd->first);
		return -AIOSFS_EFSCORRUPTED;
	}
	if ((jd->incompat & ~AIOSFS_JBD_WRITE_INCOMPAT) || jd->crc32) {
		pr_err("(%s): journal features 0x%x/0x%x: aiosfs writes only revoke, 64bit and csum_v3\n",
		       sb->s_id, jd->compat, jd->incompat);
		return -EOPNOTSUPP;
	}
	if (jd->start) {
		pr_err("(%s): the journal is not empty but needs_recovery is clear; run e2fsck\n",
		       sb->s_id);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (!jd->is64 && AIOSFS_SB(sb)->s_blocks_count > U32_MAX) {
		pr_err("(%s): a journal without 64bit cannot log blocks past 2^32\n", sb->s_id);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int aiosfs_jwrite_open(struct aiosfs_journal *j)
{
	struct aiosfs_jdisk *jd = aiosfs_jdisk_get(j->sb);
	int err;

	if (IS_ERR(jd))
		return PTR_ERR(jd);
	j->j_disk = jd;
	err = aiosfs_jdisk_read_super(jd);
	return err ?: aiosfs_jwrite_check(j);
}

static void aiosfs_journal_free(struct aiosfs_journal *j)
{
	struct aiosfs_ckpt *c;
	unsigned long blk;

	xa_for_each(&j->j_ckpt, blk, c)
		aiosfs_ckpt_free(c);
	xa_destroy(&j->j_ckpt);
	if (j->j_running)
		aiosfs_txn_free(j->j_running);
	kfree(j);
}

/*
 * At a read-write mount, after recovery: the journal, and needs_recovery
 * set in the superblock, which the caller writes before it opens the log.
 */
int aiosfs_journal_load(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_journal *j;
	u32 tid;
	int err;

	j = kzalloc(sizeof(*j), GFP_KERNEL);
	if (!j)
		return -ENOMEM;
	j->sb = sb;
	init_rwsem(&j->j_barrier);
	spin_lock_init(&j->j_lock);
	mutex_init(&j->j_commit_mutex);
	xa_init(&j->j_ckpt);
	INIT_DELAYED_WORK(&j->j_work, aiosfs_commit_work);
	err = aiosfs_jwrite_open(j);
	if (err)
		goto fail;
	tid = j->j_disk->sequence;
	j->j_running = aiosfs_txn_new(tid);
	if (!j->j_running) {
		err = -ENOMEM;
		goto fail;
	}
	j->j_commit_done = tid - 1;
	j->j_head = j->j_disk->first;
	j->j_max_txn = aiosfs_jlog_len(j) / 4;
	sbi->s_es->s_feature_incompat |= cpu_to_le32(AIOSFS_FEATURE_INCOMPAT_RECOVER);
	sbi->s_journal = j;
	queue_delayed_work(system_long_wq, &j->j_work, sbi->s_commit_interval);
	return 0;

fail:
	pr_err("(%s): cannot start the journal: %d\n", sb->s_id, err);
	aiosfs_journal_free(j);
	return err;
}

/*
 * Opens the log at its first block, once the superblock that says
 * needs_recovery is written: the journal superblock's PREFLUSH puts that
 * write on media first, so no crash leaves a log that the superblock says
 * nothing of (the next mount would refuse it, as ext4 ignores it).
 */
int aiosfs_journal_open_log(struct super_block *sb)
{
	struct aiosfs_journal *j = AIOSFS_SB(sb)->s_journal;

	return aiosfs_jsb_write(j, j->j_disk->first, j->j_running->tid);
}

/*
 * At unmount or remount read-only: the last commit, everything home, the
 * log marked empty and needs_recovery cleared (the caller writes the
 * superblock).  An aborted journal stays as it is, for recovery.
 */
void aiosfs_journal_destroy(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_journal *j = sbi->s_journal;
	struct aiosfs_txn *done = NULL;
	int err = -EIO;

	if (!j)
		return;
	cancel_delayed_work_sync(&j->j_work);
	mutex_lock(&j->j_commit_mutex);
	if (!j->j_aborted) {
		err = aiosfs_commit_locked(j, &done, NULL);
		if (err >= 0)
			err = aiosfs_checkpoint(j, j->j_running->tid);
		if (!err)
			err = aiosfs_jsb_write(j, 0, j->j_running->tid);
	}
	mutex_unlock(&j->j_commit_mutex);
	aiosfs_txn_done(j, done);
	if (!err)
		sbi->s_es->s_feature_incompat &= cpu_to_le32(~AIOSFS_FEATURE_INCOMPAT_RECOVER);
	else
		pr_err("(%s): the journal could not be emptied (%d): it needs recovery\n",
		       sb->s_id, err);
	sbi->s_journal = NULL;
	aiosfs_journal_free(j);
}
