// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: file sizes, freeing blocks, deleting inodes, and the orphan list.
 *
 * Freeing a large file takes several transactions.  So that a crash in
 * the middle leaves nothing that e2fsck must repair, the inode first goes
 * on the on-disk orphan list (superblock s_last_orphan, chained through
 * i_dtime) in the transaction that shrinks its size or drops its last
 * link, and leaves it in the one that frees its last block; the next mount
 * finishes what the crash interrupted.
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include "aiosfs.h"

/* Removing one extent and changing the inode, superblock and a neighbour. */
#define AIOSFS_CREDITS_TRUNCATE	(AIOSFS_CREDITS_EXTENT + 2 * AIOSFS_CREDITS_INODE + 1)

int aiosfs_orphan_add(struct aiosfs_handle *h, struct inode *inode)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(inode->i_sb);
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u32 old_dtime = ei->i_dtime;
	int err = 0;

	mutex_lock(&sbi->s_orphan_lock);
	if (!list_empty(&ei->i_orphan))
		goto out;
	err = aiosfs_journal_get_write_access(h, sbi->s_sbh);
	if (err)
		goto out;
	ei->i_dtime = le32_to_cpu(sbi->s_es->s_last_orphan);
	err = aiosfs_mark_inode_dirty(h, inode);
	if (err) {
		ei->i_dtime = old_dtime;
		goto out;
	}
	lock_buffer(sbi->s_sbh);
	sbi->s_es->s_last_orphan = cpu_to_le32(inode->i_ino);
	unlock_buffer(sbi->s_sbh);
	err = aiosfs_journal_dirty_super(h);
	list_add(&ei->i_orphan, &sbi->s_orphans);
out:
	mutex_unlock(&sbi->s_orphan_lock);
	return err;
}

/* The on-disk chain is the in-memory list: unlink from the one before. */
int aiosfs_orphan_del(struct aiosfs_handle *h, struct inode *inode)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(inode->i_sb);
	struct aiosfs_inode_info *ei = AIOSFS_I(inode), *prev;
	int err = 0;

	mutex_lock(&sbi->s_orphan_lock);
	if (list_empty(&ei->i_orphan))
		goto out;
	if (ei->i_orphan.prev == &sbi->s_orphans) {
		WARN_ON_ONCE(le32_to_cpu(sbi->s_es->s_last_orphan) != inode->i_ino);
		err = aiosfs_journal_get_write_access(h, sbi->s_sbh);
		if (err)
			goto out;
		lock_buffer(sbi->s_sbh);
		sbi->s_es->s_last_orphan = cpu_to_le32(ei->i_dtime);
		unlock_buffer(sbi->s_sbh);
		err = aiosfs_journal_dirty_super(h);
	} else {
		prev = list_entry(ei->i_orphan.prev, struct aiosfs_inode_info, i_orphan);
		WARN_ON_ONCE(prev->i_dtime != inode->i_ino);
		prev->i_dtime = ei->i_dtime;
		err = aiosfs_mark_inode_dirty(h, &prev->vfs_inode);
	}
	if (err)
		goto out;
	list_del_init(&ei->i_orphan);
	ei->i_dtime = 0;
	if (inode->i_nlink)
		err = aiosfs_mark_inode_dirty(h, inode);
out:
	mutex_unlock(&sbi->s_orphan_lock);
	if (err)
		aiosfs_error(inode->i_sb, "inode %lu: cannot update the orphan list: %d",
			     inode->i_ino, err);
	return err;
}

static bool aiosfs_has_blocks(struct inode *inode)
{
	if (!(AIOSFS_I(inode)->i_flags & AIOSFS_EXTENTS_FL))
		return false;
	return S_ISREG(inode->i_mode) || S_ISDIR(inode->i_mode) || S_ISLNK(inode->i_mode);
}

/* In one handle, which the tree code may restart between extents. */
static int aiosfs_free_blocks_from(struct aiosfs_handle *h, struct inode *inode, u32 from)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	int err;

	if (!aiosfs_has_blocks(inode))
		return 0;
	down_write(&ei->i_data_sem);
	err = aiosfs_ext_remove_range(h, inode, from, U32_MAX);
	up_write(&ei->i_data_sem);
	return err;
}

int aiosfs_truncate_blocks(struct inode *inode)
{
	u64 from = DIV_ROUND_UP_ULL(i_size_read(inode), inode->i_sb->s_blocksize);
	struct aiosfs_handle *h;
	int err, err2;

	if (!aiosfs_has_blocks(inode) || from >= (1ULL << 32))
		return 0;
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_TRUNCATE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_orphan_add(h, inode);
	if (!err)
		err = aiosfs_free_blocks_from(h, inode, from);
	/*
	 * After a failure the orphan entry stays, for the next mount to
	 * finish; so does that of a file unlinked while open, which only its
	 * last close (or recovery) may free.
	 */
	if (!err && inode->i_nlink)
		err = aiosfs_orphan_del(h, inode);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, inode);
	err2 = aiosfs_journal_stop(h);
	return err ?: err2;
}

int aiosfs_zero_partial(struct inode *inode, loff_t from, loff_t len)
{
	const struct address_space_operations *aops = inode->i_mapping->a_ops;
	aios_wb_page_t *page;
	void *fsdata;
	int err;

	if (len <= 0)
		return 0;
	err = aops->write_begin(NULL, inode->i_mapping, from, len, &page, &fsdata);
	if (err)
		return err;
	aios_wb_zero(page, from, len);
	err = aops->write_end(NULL, inode->i_mapping, from, len, len, page, fsdata);
	return err < 0 ? err : 0;
}

/*
 * What lies past the end inside the last block is only zero on the disk if
 * every writer kept it so, and a crash or another system may not have:
 * growing zeroes it in the page cache, written before the new size commits.
 */
static int aiosfs_grow(struct inode *inode, loff_t size)
{
	loff_t old = i_size_read(inode);
	struct aiosfs_handle *h;
	int err, err2;

	if (old & (inode->i_sb->s_blocksize - 1)) {
		err = block_truncate_page(inode->i_mapping, old, aiosfs_get_block);
		if (err)
			return err;
	}
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_INODE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	/* The zeroed tail, and data below the old size not yet under the disk's size. */
	err = aiosfs_journal_add_ordered(h, inode, min_t(loff_t, old, AIOSFS_I(inode)->i_disksize),
					 size - 1);
	if (err)
		goto out;
	truncate_setsize(inode, size);
	AIOSFS_I(inode)->i_disksize = size;
	err = aiosfs_mark_inode_dirty(h, inode);
out:
	err2 = aiosfs_journal_stop(h);
	return err ?: err2;
}

/*
 * The new size and the orphan entry are durable together, and not before
 * the zeroed rest of the new last block (ordered data); the blocks go
 * after the page cache, so no page of a freed block can be written back.
 */
static int aiosfs_shrink(struct inode *inode, loff_t size)
{
	struct address_space *mapping = inode->i_mapping;
	struct aiosfs_handle *h;
	int err, err2;

	/* The rest of the new last block must read as zeroes if the file grows. */
	err = block_truncate_page(mapping, size, aiosfs_get_block);
	if (err)
		return err;
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_INODE + 1);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_journal_add_ordered(h, inode, size, size | (inode->i_sb->s_blocksize - 1));
	if (!err)
		err = aiosfs_orphan_add(h, inode);
	if (!err) {
		i_size_write(inode, size);
		AIOSFS_I(inode)->i_disksize = size;
		err = aiosfs_mark_inode_dirty(h, inode);
	}
	err2 = aiosfs_journal_stop(h);
	if (err || err2)
		return err ?: err2;
	filemap_invalidate_lock(mapping);
	truncate_pagecache(inode, size);
	err = aiosfs_truncate_blocks(inode);
	filemap_invalidate_unlock(mapping);
	return err;
}

/*
 * A truncate to the size a file has frees what fallocate(KEEP_SIZE) left
 * past its end, as on ext4.  i_blocks says whether anything may be there:
 * an empty file truncated on every open(O_TRUNC) costs no transaction.
 */
static int aiosfs_trim_past_eof(struct inode *inode)
{
	u64 in_size = round_up(i_size_read(inode), inode->i_sb->s_blocksize) >> 9;
	int err;

	if (inode->i_blocks <= in_size)
		return 0;
	inode_dio_wait(inode);
	filemap_invalidate_lock(inode->i_mapping);
	err = aiosfs_truncate_blocks(inode);
	filemap_invalidate_unlock(inode->i_mapping);
	return err;
}

int aiosfs_setattr(AIOS_IDMAP_ARG idmap, struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct aiosfs_handle *h;
	int err, err2;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != i_size_read(inode)) {
		if (!S_ISREG(inode->i_mode))
			return -EINVAL;
		inode_dio_wait(inode);
		if (attr->ia_size > i_size_read(inode))
			err = aiosfs_grow(inode, attr->ia_size);
		else
			err = aiosfs_shrink(inode, attr->ia_size);
		if (err)
			return err;
	} else if ((attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode)) {
		err = aiosfs_trim_past_eof(inode);
		if (err)
			return err;
	}
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_INODE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	setattr_copy(idmap, inode, attr);
	err = aiosfs_mark_inode_dirty(h, inode);
	err2 = aiosfs_journal_stop(h);
	err = err ?: err2;
	/* The ACL's group class follows the new mode (the mask entry). */
	if (!err && (attr->ia_valid & ATTR_MODE))
		err = aios_posix_acl_chmod(idmap, dentry, inode->i_mode);
	return err;
}

/* The last link and the last user are gone: free everything it had. */
static void aiosfs_delete_inode(struct inode *inode)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_handle *h;
	int err;

	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_TRUNCATE + AIOSFS_CREDITS_NEWINODE);
	if (IS_ERR(h)) {
		aiosfs_error(inode->i_sb, "inode %lu: cannot free it: %ld (it stays an orphan)",
			     inode->i_ino, PTR_ERR(h));
		return;
	}
	i_size_write(inode, 0);
	ei->i_disksize = 0;
	err = aiosfs_free_blocks_from(h, inode, 0);
	if (!err)
		err = aiosfs_xattr_release_block(h, inode);
	if (!err)
		err = aiosfs_orphan_del(h, inode);
	if (!err) {
		ei->i_dtime = (u32)ktime_get_real_seconds();
		err = aiosfs_mark_inode_dirty(h, inode);
	}
	if (!err)
		aiosfs_free_inode(h, inode);
	else
		aiosfs_error(inode->i_sb, "inode %lu: cannot free it: %d (it stays an orphan)",
			     inode->i_ino, err);
	aiosfs_journal_stop(h);
}

void aiosfs_evict_inode(struct inode *inode)
{
	bool delete = !inode->i_nlink && !is_bad_inode(inode) && !sb_rdonly(inode->i_sb);

	truncate_inode_pages_final(&inode->i_data);
	if (delete) {
		sb_start_intwrite(inode->i_sb);
		aiosfs_delete_inode(inode);
		sb_end_intwrite(inode->i_sb);
	}
	invalidate_inode_buffers(inode);
	clear_inode(inode);
}

/*
 * At a read-write mount: finish what a crash left on the orphan list.  The
 * chain is read into the in-memory list first, in its order, so that
 * removing entries works as it does at run time.
 */
int aiosfs_orphan_recover(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 ino = le32_to_cpu(sbi->s_es->s_last_orphan), n = 0;
	struct aiosfs_inode_info *ei, *tmp;
	struct inode *inode;
	int err = 0;

	while (ino) {
		if (++n > sbi->s_inodes_count) {
			aiosfs_error(sb, "the orphan list loops; run e2fsck");
			err = -AIOSFS_EFSCORRUPTED;
			break;
		}
		inode = aiosfs_iget_orphan(sb, ino);
		if (IS_ERR(inode)) {
			err = PTR_ERR(inode);
			aiosfs_error(sb, "bad inode %u on the orphan list: %d; run e2fsck", ino,
				     err);
			break;
		}
		ei = AIOSFS_I(inode);
		if (!list_empty(&ei->i_orphan)) {
			aiosfs_error(sb, "inode %u is twice on the orphan list; run e2fsck", ino);
			iput(inode);
			err = -AIOSFS_EFSCORRUPTED;
			break;
		}
		list_add_tail(&ei->i_orphan, &sbi->s_orphans);
		ino = ei->i_dtime;
	}
	if (n)
		pr_info("aiosfs (%s): %u inodes on the orphan list\n", sb->s_id, n);
	list_for_each_entry_safe(ei, tmp, &sbi->s_orphans, i_orphan) {
		inode = &ei->vfs_inode;
		if (!err && inode->i_nlink) {
			inode_lock(inode);
			truncate_inode_pages(inode->i_mapping, 0);
			err = aiosfs_truncate_blocks(inode);
			inode_unlock(inode);
		}
		if (err) {
			/* Left for e2fsck or the next mount: iput must not free it. */
			list_del_init(&ei->i_orphan);
			make_bad_inode(inode);
		}
		iput(inode);	/* frees an inode with no links */
	}
	return err;
}
