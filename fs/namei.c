// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the namespace operations of directories.  Each runs in one
 * journal handle: the new or changed entries, the inodes whose link counts
 * or times change, and the orphan list for an inode that lost its last
 * link (evict frees it once its last user is gone).  The VFS holds the
 * directories' i_rwsem (and the victims') and has checked permissions,
 * existence, loops and read-only mounts.
 *
 * A directory's link count is 2 plus its subdirectories; past
 * AIOSFS_LINK_MAX it becomes 1, which means "many" (dir_nlink), and stays
 * so.
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/kdev_t.h>
#include "aiosfs.h"

/* A new inode and its entry; the directory's inode and the new one. */
#define AIOSFS_CREDITS_CREATE	(AIOSFS_CREDITS_NEWINODE + AIOSFS_CREDITS_DIRENT + \
				 2 * AIOSFS_CREDITS_INODE)
/* ... and one block of its own, and the superblock (dir_nlink). */
#define AIOSFS_CREDITS_MKDIR	(AIOSFS_CREDITS_CREATE + AIOSFS_CREDITS_EXTENT + 2)
#define AIOSFS_CREDITS_UNLINK	(AIOSFS_CREDITS_DIRENT + 2 * AIOSFS_CREDITS_INODE + \
				 AIOSFS_CREDITS_ORPHAN + 1)
/* Two entries, "..", four inodes, the target on the orphan list, dir_nlink. */
#define AIOSFS_CREDITS_RENAME	(2 * AIOSFS_CREDITS_DIRENT + 1 + 4 * AIOSFS_CREDITS_INODE + \
				 AIOSFS_CREDITS_ORPHAN + 1)

static struct dentry *aiosfs_lookup(struct inode *dir, struct dentry *dentry,
				    unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	struct inode *inode = NULL;
	long ino;

	if (dentry->d_name.len > AIOSFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	ino = aiosfs_find_entry(dir, &dentry->d_name, NULL);
	if (ino < 0)
		return ERR_PTR(ino);
	if (ino) {
		if (ino < AIOSFS_SB(sb)->s_first_ino && ino != AIOSFS_ROOT_INO) {
			aiosfs_error(sb,
				     "directory inode %lu: entry '%pd' names reserved inode %ld",
				     dir->i_ino, dentry, ino);
			return ERR_PTR(-AIOSFS_EFSCORRUPTED);
		}
		inode = aiosfs_iget(sb, ino);
		if (inode == ERR_PTR(-ESTALE))
			return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	return d_splice_alias(inode, dentry);
}

static int aiosfs_stop(struct aiosfs_handle *h, int err)
{
	int err2 = aiosfs_journal_stop(h);

	return err ? err : err2;
}

/*
 * A handle for an operation that adds name to dir, with the room for the
 * name made first (aiosfs_dir_make_room() says why).
 */
static struct aiosfs_handle *aiosfs_start_adding(struct inode *dir, const struct qstr *name,
						 int credits)
{
	struct aiosfs_handle *h = aiosfs_journal_start(dir->i_sb, credits);
	int err;

	if (IS_ERR(h))
		return h;
	err = aiosfs_dir_make_room(h, dir, name, credits);
	if (err)
		return ERR_PTR(aiosfs_stop(h, err));
	return h;
}

/*
 * The new inode of a create, mknod, symlink or mkdir, in the handle *hp
 * that will link it as dentry in dir; on error, no handle is left open.
 */
static struct inode *aiosfs_start_new(struct inode *dir, struct dentry *dentry, umode_t mode,
				      int credits, struct aiosfs_handle **hp)
{
	struct aiosfs_handle *h = aiosfs_start_adding(dir, &dentry->d_name, credits);
	struct inode *inode;

	if (IS_ERR(h))
		return ERR_CAST(h);
	inode = aiosfs_new_inode(h, dir, mode, &dentry->d_name);
	if (IS_ERR(inode))
		return ERR_PTR(aiosfs_stop(h, PTR_ERR(inode)));
	*hp = h;
	return inode;
}

/* The first error of two. */
static int aiosfs_first(int err, int err2)
{
	return err ? err : err2;
}

/* The superblock says that directories may count "many" links as 1. */
static int aiosfs_set_dir_nlink(struct aiosfs_handle *h, struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	int err;

	if (sbi->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_DIR_NLINK)
		return 0;
	err = aiosfs_journal_get_write_access(h, sbi->s_sbh);
	if (err)
		return err;
	sbi->s_es->s_feature_ro_compat |= cpu_to_le32(AIOSFS_FEATURE_RO_COMPAT_DIR_NLINK);
	sbi->s_ro_compat |= AIOSFS_FEATURE_RO_COMPAT_DIR_NLINK;
	return aiosfs_journal_dirty_super(h);
}

/* dir gained a subdirectory. */
static int aiosfs_inc_dir_count(struct aiosfs_handle *h, struct inode *dir)
{
	inc_nlink(dir);
	/* 2 after an increment: it was 1, "many", and stays so. */
	if (dir->i_nlink <= AIOSFS_LINK_MAX && dir->i_nlink != 2)
		return 0;
	set_nlink(dir, 1);
	return aiosfs_set_dir_nlink(h, dir->i_sb);
}

/* dir lost a subdirectory; "many" stays "many". */
static void aiosfs_dec_dir_count(struct inode *dir)
{
	if (dir->i_nlink > 2)
		drop_nlink(dir);
}

/* inode lost a name (all of them, for a directory). */
static int aiosfs_drop_link(struct aiosfs_handle *h, struct inode *inode)
{
	int err;

	if (S_ISDIR(inode->i_mode)) {
		clear_nlink(inode);
	} else {
		if (!inode->i_nlink) {
			aiosfs_error(inode->i_sb, "inode %lu: removing a name of an unlinked inode",
				     inode->i_ino);
			set_nlink(inode, 1);
		}
		drop_nlink(inode);
	}
	aios_inode_set_ctime_current(inode);
	if (!inode->i_nlink) {
		err = aiosfs_orphan_add(h, inode);
		if (err)
			return err;
	}
	return aiosfs_mark_inode_dirty(h, inode);
}

/* dir's entries changed: its times (and size, if it grew) go to disk. */
static int aiosfs_dir_changed(struct aiosfs_handle *h, struct inode *dir)
{
	aios_inode_set_cmtime_current(dir);
	return aiosfs_mark_inode_dirty(h, dir);
}

/* A new inode that will not be linked after all: evict frees it. */
static void aiosfs_discard_new(struct aiosfs_handle *h, struct inode *inode)
{
	clear_nlink(inode);
	aiosfs_mark_inode_dirty(h, inode);
	unlock_new_inode(inode);
	iput(inode);
}

/*
 * How every creation ends: the new inode's entry (unless err says it is
 * not to be linked), the parent's times and count, the dentry; and the
 * handle.
 */
static int aiosfs_link_new(struct aiosfs_handle *h, struct inode *dir, struct dentry *dentry,
			   struct inode *inode, int err)
{
	if (!err)
		err = aiosfs_add_entry(h, dir, &dentry->d_name, inode);
	if (err) {
		aiosfs_discard_new(h, inode);
		return aiosfs_stop(h, err);
	}
	/* Linked on disk now: whatever fails below, the dentry shows it. */
	if (S_ISDIR(inode->i_mode))
		err = aiosfs_inc_dir_count(h, dir);
	err = aiosfs_first(err, aiosfs_dir_changed(h, dir));
	d_instantiate_new(dentry, inode);
	return aiosfs_stop(h, err);
}

/* Device numbers live in i_block, like ext4: the old 16-bit form if it fits. */
static void aiosfs_set_rdev(struct inode *inode, dev_t rdev)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);

	/* No extent tree for special files (e2fsck insists). */
	ei->i_flags &= ~AIOSFS_EXTENTS_FL;
	memset(ei->i_data, 0, sizeof(ei->i_data));
	if (old_valid_dev(rdev))
		ei->i_data[0] = cpu_to_le32(old_encode_dev(rdev));
	else
		ei->i_data[1] = cpu_to_le32(new_encode_dev(rdev));
}

static int aiosfs_new_nondir(struct inode *dir, struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct aiosfs_handle *h;
	struct inode *inode;
	int err;

	inode = aiosfs_start_new(dir, dentry, mode, AIOSFS_CREDITS_CREATE, &h);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	if (!S_ISREG(mode))
		aiosfs_set_rdev(inode, rdev);
	err = aiosfs_set_inode_ops(inode, rdev);
	if (!err && !S_ISREG(mode))
		err = aiosfs_mark_inode_dirty(h, inode);
	return aiosfs_link_new(h, dir, dentry, inode, err);
}

static int aiosfs_create(AIOS_IDMAP_ARG idmap, struct inode *dir, struct dentry *dentry,
			 umode_t mode, bool excl)
{
	return aiosfs_new_nondir(dir, dentry, mode, 0);
}

static int aiosfs_mknod(AIOS_IDMAP_ARG idmap, struct inode *dir, struct dentry *dentry,
			umode_t mode, dev_t rdev)
{
	return aiosfs_new_nondir(dir, dentry, mode, rdev);
}

static int aiosfs_tmpfile(AIOS_IDMAP_ARG idmap, struct inode *dir, struct file *file,
			  umode_t mode)
{
	struct aiosfs_handle *h;
	struct inode *inode;
	int err;

	h = aiosfs_journal_start(dir->i_sb, AIOSFS_CREDITS_NEWINODE + AIOSFS_CREDITS_ORPHAN +
				 AIOSFS_CREDITS_INODE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	inode = aiosfs_new_inode(h, dir, mode, NULL);
	if (IS_ERR(inode))
		return aiosfs_stop(h, PTR_ERR(inode));
	err = aiosfs_set_inode_ops(inode, 0);
	if (err) {
		aiosfs_discard_new(h, inode);
		return aiosfs_stop(h, err);
	}
	/* Its link count drops to 0: on the orphan list until linked or closed. */
	d_tmpfile(file, inode);
	err = aiosfs_orphan_add(h, inode);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, inode);
	unlock_new_inode(inode);
	err = aiosfs_stop(h, err);
	return finish_open_simple(file, err);
}

static int aiosfs_fast_symlink(struct inode *inode, const char *target, unsigned int len)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);

	ei->i_flags &= ~AIOSFS_EXTENTS_FL;
	memset(ei->i_data, 0, sizeof(ei->i_data));
	memcpy(ei->i_data, target, len);
	i_size_write(inode, len);
	ei->i_disksize = len;
	return 0;
}

/* A long target goes to a block of its own, journaled like ext4's. */
static int aiosfs_slow_symlink(struct aiosfs_handle *h, struct inode *inode, const char *target,
			       unsigned int len)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_map map;
	struct buffer_head *bh;
	int err;

	if (!(ei->i_flags & AIOSFS_EXTENTS_FL)) {
		ei->i_flags |= AIOSFS_EXTENTS_FL;
		aiosfs_ext_tree_init(inode);
	}
	down_write(&ei->i_data_sem);
	err = aiosfs_ext_map_create(h, inode, 0, 1, AIOSFS_GET_CREATE, &map);
	up_write(&ei->i_data_sem);
	if (err)
		return err;
	if (WARN_ON_ONCE(!map.m_pblk || map.m_unwritten))
		return -EIO;
	bh = sb_getblk(inode->i_sb, map.m_pblk);
	if (!bh)
		return -ENOMEM;
	err = aiosfs_journal_get_create_access(h, bh);
	if (!err) {
		lock_buffer(bh);
		memset(bh->b_data, 0, bh->b_size);
		memcpy(bh->b_data, target, len);
		set_buffer_uptodate(bh);
		unlock_buffer(bh);
		err = aiosfs_journal_dirty_metadata(h, bh);
	}
	brelse(bh);
	if (err)
		return err;
	i_size_write(inode, len);
	ei->i_disksize = len;
	return 0;
}

static int aiosfs_symlink(AIOS_IDMAP_ARG idmap, struct inode *dir, struct dentry *dentry,
			  const char *target)
{
	size_t len = strlen(target);
	bool fast = len < AIOSFS_N_BLOCKS * 4;
	struct aiosfs_handle *h;
	struct inode *inode;
	int err;

	/* The block keeps a NUL after the target. */
	if (len >= dir->i_sb->s_blocksize)
		return -ENAMETOOLONG;
	inode = aiosfs_start_new(dir, dentry, S_IFLNK | 0777, AIOSFS_CREDITS_CREATE +
				 (fast ? 0 : AIOSFS_CREDITS_EXTENT + 1), &h);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	if (fast)
		err = aiosfs_fast_symlink(inode, target, len);
	else
		err = aiosfs_slow_symlink(h, inode, target, len);
	if (!err)
		err = aiosfs_set_inode_ops(inode, 0);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, inode);
	return aiosfs_link_new(h, dir, dentry, inode, err);
}

static int aiosfs_mkdir(AIOS_IDMAP_ARG idmap, struct inode *dir, struct dentry *dentry,
			umode_t mode)
{
	struct aiosfs_handle *h;
	struct inode *inode;
	int err;

	inode = aiosfs_start_new(dir, dentry, S_IFDIR | mode, AIOSFS_CREDITS_MKDIR, &h);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	err = aiosfs_set_inode_ops(inode, 0);
	if (!err) {
		/* "." and its entry in dir; make_empty() writes the inode. */
		set_nlink(inode, 2);
		err = aiosfs_make_empty(h, inode, dir);
	}
	return aiosfs_link_new(h, dir, dentry, inode, err);
}

static int aiosfs_link(struct dentry *old_dentry, struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	struct aiosfs_handle *h;
	int err;

	if (inode->i_nlink >= AIOSFS_LINK_MAX)
		return -EMLINK;
	h = aiosfs_start_adding(dir, &dentry->d_name, AIOSFS_CREDITS_DIRENT +
				2 * AIOSFS_CREDITS_INODE + AIOSFS_CREDITS_ORPHAN);
	if (IS_ERR(h))
		return PTR_ERR(h);
	aios_inode_set_ctime_current(inode);
	inc_nlink(inode);
	ihold(inode);
	err = aiosfs_add_entry(h, dir, &dentry->d_name, inode);
	if (err) {
		drop_nlink(inode);
		iput(inode);
		return aiosfs_stop(h, err);
	}
	err = aiosfs_dir_changed(h, dir);
	err = aiosfs_first(err, aiosfs_mark_inode_dirty(h, inode));
	/* An O_TMPFILE inode's first name: off the orphan list. */
	if (inode->i_nlink == 1)
		err = aiosfs_first(err, aiosfs_orphan_del(h, inode));
	d_instantiate(dentry, inode);
	return aiosfs_stop(h, err);
}

static int aiosfs_unlink(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	struct aiosfs_handle *h;
	int err;

	h = aiosfs_journal_start(dir->i_sb, AIOSFS_CREDITS_UNLINK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_delete_entry(h, dir, &dentry->d_name, inode);
	if (err)
		return aiosfs_stop(h, err);
	err = aiosfs_dir_changed(h, dir);
	err = aiosfs_first(err, aiosfs_drop_link(h, inode));
	return aiosfs_stop(h, err);
}

static int aiosfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	struct aiosfs_handle *h;
	int err;

	if (!aiosfs_empty_dir(inode))
		return -ENOTEMPTY;
	h = aiosfs_journal_start(dir->i_sb, AIOSFS_CREDITS_UNLINK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_delete_entry(h, dir, &dentry->d_name, inode);
	if (err)
		return aiosfs_stop(h, err);
	err = aiosfs_drop_link(h, inode);
	aiosfs_dec_dir_count(dir);
	err = aiosfs_first(err, aiosfs_dir_changed(h, dir));
	return aiosfs_stop(h, err);
}

/* old_dentry's inode takes new_dentry's name, replacing what it named. */
static int aiosfs_move(struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
		       struct dentry *new_dentry)
{
	struct inode *inode = d_inode(old_dentry), *target = d_inode(new_dentry);
	bool is_dir = S_ISDIR(inode->i_mode);
	struct aiosfs_handle *h;
	int err;

	if (target && is_dir && !aiosfs_empty_dir(target))
		return -ENOTEMPTY;
	if (target)
		h = aiosfs_journal_start(old_dir->i_sb, AIOSFS_CREDITS_RENAME);
	else
		h = aiosfs_start_adding(new_dir, &new_dentry->d_name, AIOSFS_CREDITS_RENAME);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (target)
		err = aiosfs_set_entry(h, new_dir, &new_dentry->d_name, inode);
	else
		err = aiosfs_add_entry(h, new_dir, &new_dentry->d_name, inode);
	if (err)
		return aiosfs_stop(h, err);
	/* The new name is in: finish the rest whatever fails, keeping the first error. */
	err = aiosfs_delete_entry(h, old_dir, &old_dentry->d_name, inode);
	if (is_dir && old_dir != new_dir) {
		err = aiosfs_first(err, aiosfs_set_dotdot(h, inode, new_dir));
		aiosfs_dec_dir_count(old_dir);
		/* Replacing a directory, it takes over that one's link. */
		if (!target)
			err = aiosfs_first(err, aiosfs_inc_dir_count(h, new_dir));
	} else if (is_dir && target) {
		aiosfs_dec_dir_count(new_dir);
	}
	if (target)
		err = aiosfs_first(err, aiosfs_drop_link(h, target));
	aios_inode_set_ctime_current(inode);
	err = aiosfs_first(err, aiosfs_mark_inode_dirty(h, inode));
	err = aiosfs_first(err, aiosfs_dir_changed(h, old_dir));
	if (new_dir != old_dir)
		err = aiosfs_first(err, aiosfs_dir_changed(h, new_dir));
	return aiosfs_stop(h, err);
}

/* RENAME_EXCHANGE: the two names swap inodes. */
static int aiosfs_exchange(struct inode *old_dir, struct dentry *old_dentry,
			   struct inode *new_dir, struct dentry *new_dentry)
{
	struct inode *a = d_inode(old_dentry), *b = d_inode(new_dentry);
	bool a_dir = S_ISDIR(a->i_mode), b_dir = S_ISDIR(b->i_mode);
	struct aiosfs_handle *h;
	int err;

	h = aiosfs_journal_start(old_dir->i_sb, AIOSFS_CREDITS_RENAME + 1);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_set_entry(h, new_dir, &new_dentry->d_name, a);
	if (err)
		return aiosfs_stop(h, err);
	err = aiosfs_set_entry(h, old_dir, &old_dentry->d_name, b);
	if (old_dir != new_dir) {
		if (a_dir)
			err = aiosfs_first(err, aiosfs_set_dotdot(h, a, new_dir));
		if (b_dir)
			err = aiosfs_first(err, aiosfs_set_dotdot(h, b, old_dir));
		/* A subdirectory changed sides. */
		if (a_dir && !b_dir) {
			aiosfs_dec_dir_count(old_dir);
			err = aiosfs_first(err, aiosfs_inc_dir_count(h, new_dir));
		} else if (b_dir && !a_dir) {
			aiosfs_dec_dir_count(new_dir);
			err = aiosfs_first(err, aiosfs_inc_dir_count(h, old_dir));
		}
	}
	aios_inode_set_ctime_current(a);
	err = aiosfs_first(err, aiosfs_mark_inode_dirty(h, a));
	aios_inode_set_ctime_current(b);
	err = aiosfs_first(err, aiosfs_mark_inode_dirty(h, b));
	err = aiosfs_first(err, aiosfs_dir_changed(h, old_dir));
	if (new_dir != old_dir)
		err = aiosfs_first(err, aiosfs_dir_changed(h, new_dir));
	return aiosfs_stop(h, err);
}

static int aiosfs_rename(AIOS_IDMAP_ARG idmap, struct inode *old_dir, struct dentry *old_dentry,
			 struct inode *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	/* RENAME_WHITEOUT (overlayfs) is not supported. */
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	/* The VFS has refused RENAME_NOREPLACE over an existing name. */
	if (flags & RENAME_EXCHANGE)
		return aiosfs_exchange(old_dir, old_dentry, new_dir, new_dentry);
	return aiosfs_move(old_dir, old_dentry, new_dir, new_dentry);
}

const struct inode_operations aiosfs_dir_inode_operations = {
	.lookup		= aiosfs_lookup,
	.create		= aiosfs_create,
	.link		= aiosfs_link,
	.unlink		= aiosfs_unlink,
	.symlink	= aiosfs_symlink,
	.mkdir		= aiosfs_mkdir,
	.rmdir		= aiosfs_rmdir,
	.mknod		= aiosfs_mknod,
	.rename		= aiosfs_rename,
	.tmpfile	= aiosfs_tmpfile,
	.getattr	= aiosfs_getattr,
	.setattr	= aiosfs_setattr,
	.listxattr	= aiosfs_listxattr,
	AIOS_INODE_GET_ACL(aiosfs_get_acl),
	.set_acl	= aiosfs_set_acl,
};
