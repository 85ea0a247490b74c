// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the checkpoint, as in jbd2's checkpoint.c.
 *
 * Committed copies wait in j_ckpt, the newest per block, until a
 * checkpoint writes them all home, flushes, and empties the log: its tail
 * moves to the head in the journal superblock.  It runs under
 * j_commit_mutex, from a commit that finds the log too full or too many
 * copies waiting, and at unmount.
 */
#include <linux/blk_types.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include "aiosfs.h"
#include "journal.h"

/*
 * The journal superblock, with FUA: it says where the log starts.  Here,
 * as every write of it moves the log tail.
 */
int aiosfs_jsb_write(struct aiosfs_journal *j, u32 start, u32 sequence)
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
int aiosfs_checkpoint(struct aiosfs_journal *j, u32 tid)
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

void aiosfs_ckpt_free(struct aiosfs_ckpt *c)
{
	__free_page(c->page);
	put_bh(c->bh);
	kfree(c);
}

/* The copies become the newest home versions; revoked blocks lose theirs. */
void aiosfs_to_checkpoint(struct aiosfs_journal *j, struct aiosfs_txn *t,
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
