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
 *
 * The writer is split as jbd2 is: transactions and handles in
 * transaction.c, the commit in commit.c, the checkpoint in checkpoint.c,
 * their private types in journal.h.  This file holds the journal object's
 * life: set up at a read-write mount, aborted on errors, torn down at
 * unmount.
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "aiosfs.h"
#include "journal.h"

void aiosfs_journal_abort(struct aiosfs_journal *j, int err)
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
