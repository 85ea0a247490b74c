// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the journal.  Placeholder: metadata is written through the
 * buffer cache, with no crash safety, until the jbd2-format writer lands.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include "aiosfs.h"

struct aiosfs_handle {
	struct super_block *h_sb;
	int h_ref;
};

struct aiosfs_handle *aiosfs_journal_start(struct super_block *sb, int credits)
{
	struct aiosfs_handle *h = current->journal_info;

	if (h) {
		h->h_ref++;
		return h;
	}
	h = kzalloc(sizeof(*h), GFP_NOFS);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->h_sb = sb;
	h->h_ref = 1;
	current->journal_info = h;
	return h;
}

int aiosfs_journal_stop(struct aiosfs_handle *h)
{
	if (--h->h_ref)
		return 0;
	current->journal_info = NULL;
	kfree(h);
	return 0;
}

int aiosfs_journal_ensure_credits(struct aiosfs_handle *h, int credits)
{
	return 0;
}

bool aiosfs_journal_has_credits(struct aiosfs_handle *h, int credits)
{
	return true;
}

int aiosfs_journal_get_write_access(struct aiosfs_handle *h, struct buffer_head *bh)
{
	return 0;
}

int aiosfs_journal_get_create_access(struct aiosfs_handle *h, struct buffer_head *bh)
{
	return 0;
}

int aiosfs_journal_dirty_metadata(struct aiosfs_handle *h, struct buffer_head *bh)
{
	set_buffer_uptodate(bh);
	mark_buffer_dirty(bh);
	return 0;
}

int aiosfs_journal_revoke(struct aiosfs_handle *h, u64 blk)
{
	return 0;
}

int aiosfs_journal_add_ordered(struct aiosfs_handle *h, struct inode *inode)
{
	return 0;
}

u32 aiosfs_handle_tid(struct aiosfs_handle *h)
{
	return 0;
}

int aiosfs_journal_commit_tid(struct super_block *sb, u32 tid)
{
	return sync_blockdev(sb->s_bdev);
}

int aiosfs_journal_force_commit(struct super_block *sb)
{
	return sync_blockdev(sb->s_bdev);
}

int aiosfs_journal_load(struct super_block *sb)
{
	return 0;
}

void aiosfs_journal_destroy(struct super_block *sb)
{
}

int aiosfs_journal_dirty_super(struct aiosfs_handle *h)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(h->h_sb);

	aiosfs_sb_csum_set(sbi->s_es);
	return aiosfs_journal_dirty_metadata(h, sbi->s_sbh);
}
