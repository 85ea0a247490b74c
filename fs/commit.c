// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the commit, as in jbd2's commit.c.
 *
 * The running transaction's buffers are copied under j_barrier held for
 * write and the next transaction opened; then the log is written behind
 * the transaction's ordered data: revoke blocks, descriptor blocks with
 * the copies, and last the commit block, with a flush ahead of it and
 * FUA, once the data and the log are on the device.  The copies then go
 * to the checkpoint (checkpoint.c).  The ways in are here too: fsync
 * (commit_tid), sync (force_commit) and the periodic commit work.
 */
#include <linux/blkdev.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "aiosfs.h"
#include "journal.h"

static u64 aiosfs_jpblk(struct aiosfs_journal *j, u32 lblk)
{
	return aiosfs_jdisk_pblk(j->j_disk, lblk);
}

/* Blocks of the log, which is circular. */
u32 aiosfs_jlog_len(struct aiosfs_journal *j)
{
	return j->j_disk->maxlen - j->j_disk->first;
}

static u32 aiosfs_jnext(struct aiosfs_journal *j, u32 pos)
{
	return aiosfs_jdisk_wrap(j->j_disk, (u64)pos + 1);
}

static void aiosfs_jio_end(struct aios_lbio *lbio)
{
	kfree(lbio);
}

void aiosfs_jio_init(struct aiosfs_jio *io, struct super_block *sb)
{
	aios_lbio_batch_init(&io->batch, AIOSFS_SB(sb)->s_poll);
	aiosfs_runs_init(&io->runs, sb, &io->batch, aiosfs_jio_end, NULL);
}

void aiosfs_jio_write(struct aiosfs_jio *io, u64 pblk, struct page *page)
{
	aiosfs_runs_add(&io->runs, pblk, page);
}

int aiosfs_jio_wait(struct aiosfs_jio *io)
{
	aiosfs_runs_submit(&io->runs);
	return aios_lbio_batch_wait(&io->batch);
}

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
int aiosfs_commit_locked(struct aiosfs_journal *j, struct aiosfs_txn **done,
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
void aiosfs_txn_done(struct aiosfs_journal *j, struct aiosfs_txn *done)
{
	if (!done)
		return;
	aiosfs_txn_free(done);
	if (atomic_dec_and_test(&j->j_freeing))
		wake_up_var(&j->j_freeing);
}

/* Commits transaction tid unless it is durable already; see commit_tid. */
int aiosfs_commit(struct aiosfs_journal *j, u32 tid, bool any,
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

void aiosfs_commit_work(struct work_struct *work)
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
