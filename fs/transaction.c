// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: transactions and handles, as in jbd2's transaction.c.
 *
 * Every change to metadata runs inside a handle, which holds j_barrier
 * for read and credits in the running transaction: the blocks it may
 * still dirty.  The buffers it dirties, the blocks it revokes and the
 * inodes that got new data blocks join the transaction's lists here.  A
 * handle that finds the transaction full, or cannot top up its credits,
 * commits it (commit.c) and joins the next one.
 */
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "aiosfs.h"
#include "journal.h"

struct aiosfs_txn *aiosfs_txn_new(u32 tid)
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

void aiosfs_txn_free(struct aiosfs_txn *t)
{
	u32 i;

	for (i = 0; i < t->t_nr_ordered; i++)
		iput(t->t_ordered[i].inode);
	kvfree(t->t_ordered);
	xa_destroy(&t->t_revoked);
	kfree(t);
}

bool aiosfs_txn_empty(struct aiosfs_txn *t)
{
	return !t->t_nr_buffers && !t->t_nr_revoked && !t->t_nr_ordered;
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
