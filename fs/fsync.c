// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: fsync without serial waits, the second half of the paper.
 *
 * The file's dirty pages go to the device through lbio and nobody waits
 * for them yet; in the caller's own context (no journal thread) the
 * commit then closes the running transaction, sends its log blocks behind
 * the data and builds the commit block while both are in flight
 * (commit.c).  Only the commit block waits, for data and log together,
 * and goes with a flush ahead of it.  On aiosnvme every wait first spins
 * while the device is quick (the poll mount option).
 *
 * fdatasync of an overwrite whose inode change fdatasync need not keep
 * (timestamps) sends the data and one flush, or only the data as one FUA
 * write when it fits one command; an fsync that finds nothing to write and
 * nothing written since its last flush returns at once.
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include "aiosfs.h"

/*
 * The data goes first and is not waited for here: a commit waits for it
 * just before its commit block, with the log blocks already sent behind
 * it.  With the transaction durable already, the data needs a flush of
 * its own after it lands.
 */
int aiosfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct aiosfs_fsync_times times = {};
	struct aiosfs_fsync_ctx fc = {};
	struct aios_lbio_batch batch;
	int sent, ret, kind, err = 0;
	bool fua = false;
	u32 seq, tid;

	/* After an error nothing commits: nothing is durable (EIO, as ext4 of 6.12). */
	if (READ_ONCE(AIOSFS_SB(sb)->s_aborted))
		return -EIO;
	if (sb_rdonly(sb))
		return file_write_and_wait_range(file, start, end);
	if (static_branch_unlikely(&aiosfs_fsync_stats_key))
		fc.times = &times;
	seq = atomic_read(&ei->i_wb_seq);
	/* Writeback already in flight is not in the batch: it ends first (rarely any). */
	filemap_fdatawait_range_keep_errors(mapping, start, end);
	aios_lbio_batch_init(&batch, AIOSFS_SB(sb)->s_poll);
	fc.data = &batch;
	INIT_LIST_HEAD(&fc.node);
	aiosfs_fstamp(fc.times, AIOSFS_FS_DATA);
	tid = datasync ? READ_ONCE(ei->i_datasync_tid) : READ_ONCE(ei->i_sync_tid);
	/* No commit to come: a lone data write may as well be durable itself. */
	sent = aiosfs_send_data(inode, start, end, &batch,
				aiosfs_journal_tid_durable(sb, tid) ? &fua : NULL);
	ret = aiosfs_journal_commit_tid(sb, tid, &fc);
	if (fc.data)
		aios_lbio_batch_wait(fc.data);
	/* Other writeback since we looked (the flusher's, or the ordinary way). */
	if (atomic_read(&ei->i_wb_seq) != seq) {
		filemap_fdatawait_range_keep_errors(mapping, start, end);
		if (ret > 0)
			ret = 0;	/* the commit's flush may have gone before it ended */
	}
	if (ret < 0)
		return ret;
	kind = ret ? (times.t[AIOSFS_FS_NR] ? -1 : AIOSFS_FSYNC_JOINED) :
	       sent ? AIOSFS_FSYNC_FLUSH : AIOSFS_FSYNC_NOTHING;
	if (!ret && ((sent && !fua) || seq != READ_ONCE(ei->i_flushed_seq) ||
		     atomic_read(&ei->i_wb_seq) != seq)) {
		err = aiosfs_dev_flush(sb);
		kind = AIOSFS_FSYNC_FLUSH;
	}
	if (fc.times)
		aiosfs_fsync_stats_add(&times, kind);
	/* A whole-file fsync vouches for every writeback before it. */
	if (!err && start == 0 && end == LLONG_MAX)
		WRITE_ONCE(ei->i_flushed_seq, seq);
	return err ?: file_check_and_advance_wb_err(file);
}
