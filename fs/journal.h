/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aiosfs: the journal writer's own types, private to its four files,
 * split as jbd2's are: journal.c (the journal's life), transaction.c
 * (transactions and handles), commit.c and checkpoint.c.  The rest of fs/
 * sees only the API in aiosfs.h.
 */
#ifndef _AIOSFS_JOURNAL_H
#define _AIOSFS_JOURNAL_H

#include <linux/workqueue.h>
#include <linux/xarray.h>
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

/* A frozen copy, in the order the transaction logged it. */
struct aiosfs_frozen {
	struct buffer_head *bh;
	struct page *page;	/* the copy */
	struct page *log;	/* what the log gets: the copy, or it escaped */
};

/*
 * Block writes of one step, through lbio, waited for together: runs of
 * consecutive blocks share one command.
 */
struct aiosfs_jio {
	struct aios_lbio_batch batch;
	struct aiosfs_runs runs;
};

static inline struct aiosfs_journal *aiosfs_j(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_journal;
}

/* journal.c: the journal object's life, and its abort */
void aiosfs_journal_abort(struct aiosfs_journal *j, int err);

/* transaction.c: transactions and handles */
struct aiosfs_txn *aiosfs_txn_new(u32 tid);
void aiosfs_txn_free(struct aiosfs_txn *t);
bool aiosfs_txn_empty(struct aiosfs_txn *t);

/* commit.c: writing a transaction to the log */
u32 aiosfs_jlog_len(struct aiosfs_journal *j);
void aiosfs_jio_init(struct aiosfs_jio *io, struct super_block *sb);
void aiosfs_jio_write(struct aiosfs_jio *io, u64 pblk, struct page *page);
int aiosfs_jio_wait(struct aiosfs_jio *io);
/* With j_commit_mutex held; the caller frees *done after dropping it. */
int aiosfs_commit_locked(struct aiosfs_journal *j, struct aiosfs_txn **done,
			 struct aiosfs_fsync_ctx *fc);
void aiosfs_txn_done(struct aiosfs_journal *j, struct aiosfs_txn *done);
int aiosfs_commit(struct aiosfs_journal *j, u32 tid, bool any, struct aiosfs_fsync_ctx *fc);
void aiosfs_commit_work(struct work_struct *work);

/* checkpoint.c: writing committed copies home, and the log tail */
int aiosfs_jsb_write(struct aiosfs_journal *j, u32 start, u32 sequence);
/* With j_commit_mutex held. */
int aiosfs_checkpoint(struct aiosfs_journal *j, u32 tid);
void aiosfs_ckpt_free(struct aiosfs_ckpt *c);
void aiosfs_to_checkpoint(struct aiosfs_journal *j, struct aiosfs_txn *t,
			  struct aiosfs_frozen *f, u32 nr);

#endif /* _AIOSFS_JOURNAL_H */
