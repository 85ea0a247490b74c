// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: inode allocation.
 *
 * Directories spread over the flex groups (the Orlov idea: top-level
 * directories go where there is most room and fewest directories, others
 * stay near their parent unless it is crowded); everything else starts at
 * its directory's group, so that a file's inode, its directory and (see
 * aiosfs_inode_goal()) its data are close.
 *
 * The group lock (balloc.c) serializes the inode bitmap and the
 * descriptor.  bg_itable_unused counts the slots at the end of the inode
 * table that were never used: with lazily zeroed tables they may hold
 * garbage, which is why a new inode's slot is zeroed here.
 */
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/random.h>
#include "aiosfs.h"

/* i_flags bits that ext4 stores but that neither it nor aiosfs acts on. */
#define AIOSFS_UNRM_FL		0x00000002
#define AIOSFS_COMPR_FL		0x00000004
#define AIOSFS_NOCOMPR_FL	0x00000400
#define AIOSFS_NOTAIL_FL	0x00008000
/* A directory whose subdirectories spread like top-level ones. */
#define AIOSFS_TOPDIR_FL	0x00020000

/*
 * What a new inode inherits from its directory: ext4's inheritable flags
 * without those aiosfs does not implement (SYNC, DIRSYNC, JOURNAL_DATA,
 * PROJINHERIT, CASEFOLD, DAX); inodes other than files and directories
 * keep only the last two.
 */
#define AIOSFS_FL_INHERIT	(AIOSFS_SECRM_FL | AIOSFS_UNRM_FL | AIOSFS_COMPR_FL |	\
				 AIOSFS_NODUMP_FL | AIOSFS_NOATIME_FL | AIOSFS_NOCOMPR_FL | \
				 AIOSFS_NOTAIL_FL)
#define AIOSFS_FL_INHERIT_OTHER	(AIOSFS_NODUMP_FL | AIOSFS_NOATIME_FL)

static struct buffer_head *aiosfs_gd_buffer(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	return sbi->s_gd_bh[group / sbi->s_desc_per_block];
}

/* Top-level directories: the roomiest flex group with the fewest directories. */
static u32 aiosfs_find_flex_top(struct super_block *sb, u64 avg_inodes, u64 avg_blocks)
{
	u32 nflex = aiosfs_flex_count(sb), start = get_random_u32_below(nflex);
	u32 i, f, best = U32_MAX, best_dirs = U32_MAX;
	struct aiosfs_flex_stats st;

	for (i = 0; i < nflex; i++) {
		f = start + i < nflex ? start + i : start + i - nflex;
		aiosfs_flex_stats(sb, f, &st);
		if (!st.free_inodes || st.free_inodes < avg_inodes || st.free_blocks < avg_blocks)
			continue;
		if (st.used_dirs < best_dirs) {
			best = f;
			best_dirs = st.used_dirs;
		}
	}
	return best;
}

/* Other directories: the first flex group from the parent's that is not crowded. */
static u32 aiosfs_find_flex_near(struct super_block *sb, u32 parent, u64 avg_inodes,
				 u64 avg_blocks)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 nflex = aiosfs_flex_count(sb), log = aiosfs_flex_log(sb), i, f;
	u64 flex_inodes = (u64)sbi->s_inodes_per_group << log;
	u64 flex_blocks = (u64)sbi->s_blocks_per_group << log;
	u64 max_dirs = aiosfs_total_dirs(sb) / nflex + flex_inodes / 16;
	u64 min_inodes = avg_inodes > flex_inodes / 4 ? avg_inodes - flex_inodes / 4 : 1;
	u64 min_blocks = avg_blocks > flex_blocks / 4 ? avg_blocks - flex_blocks / 4 : 0;
	struct aiosfs_flex_stats st;

	for (i = 0; i < nflex; i++) {
		f = parent + i < nflex ? parent + i : parent + i - nflex;
		aiosfs_flex_stats(sb, f, &st);
		if (st.used_dirs < max_dirs && st.free_inodes >= min_inodes &&
		    st.free_blocks >= min_blocks)
			return f;
	}
	return U32_MAX;
}

/* The group a search for a new inode starts at. */
static u32 aiosfs_start_group(struct super_block *sb, struct inode *dir, bool is_dir)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 group = AIOSFS_I(dir)->i_block_group, nflex, log, f;
	u64 avg_inodes, avg_blocks;

	if (group >= sbi->s_groups_count)
		group = 0;
	if (!is_dir)
		return group;
	nflex = aiosfs_flex_count(sb);
	log = aiosfs_flex_log(sb);
	avg_inodes = div_u64(READ_ONCE(sbi->s_free_inodes), nflex);
	avg_blocks = div_u64(READ_ONCE(sbi->s_free_blocks), nflex);
	if (dir->i_ino == AIOSFS_ROOT_INO || (AIOSFS_I(dir)->i_flags & AIOSFS_TOPDIR_FL))
		f = aiosfs_find_flex_top(sb, avg_inodes, avg_blocks);
	else
		f = aiosfs_find_flex_near(sb, group >> log, avg_inodes, avg_blocks);
	return f == U32_MAX ? group : f << log;
}

/* Marks the bit of a new inode; with the group locked and write access taken. */
static void aiosfs_mark_inode_used(struct super_block *sb, u32 group, struct buffer_head *bh,
				   u32 bit, bool is_dir)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	struct buffer_head *gd_bh = aiosfs_gd_buffer(sb, group);
	u32 ipg = sbi->s_inodes_per_group, free, unused;

	lock_buffer(bh);
	lock_buffer(gd_bh);
	/* The bitmap in bh was computed as all free: from now on it is real. */
	gd->bg_flags &= ~cpu_to_le16(AIOSFS_BG_INODE_UNINIT);
	__set_bit_le(bit, bh->b_data);
	aiosfs_inode_bitmap_csum_set(sb, gd, bh->b_data);
	free = aiosfs_gd_free_inodes(sb, gd);
	if (!WARN_ON_ONCE(!free))
		aiosfs_gd_set_free_inodes(sb, gd, free - 1);
	if (is_dir)
		aiosfs_gd_set_used_dirs(sb, gd, aiosfs_gd_used_dirs(sb, gd) + 1);
	/* The never-used tail of the table now starts after this slot. */
	unused = aiosfs_gd_itable_unused(sb, gd);
	if (unused > ipg)
		unused = ipg;
	if (bit >= ipg - unused)
		aiosfs_gd_set_itable_unused(sb, gd, ipg - bit - 1);
	unlock_buffer(gd_bh);
	unlock_buffer(bh);
}

/*
 * Takes the group's first free inode: 0 and its index, -ENOSPC, or an
 * error.  A journal error after the bit is set leaves it set (the journal
 * is then aborted, and nothing more reaches the disk).
 */
static int aiosfs_take_inode(struct aiosfs_handle *h, struct super_block *sb, u32 group,
			     bool is_dir, u32 *index)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	u32 ipg = sbi->s_inodes_per_group;
	/* Group 0 begins with the reserved inodes. */
	u32 first = group ? 0 : sbi->s_first_ino - 1;
	struct buffer_head *bh;
	u32 bit;
	int err = -ENOSPC;

	if (first >= ipg || !aiosfs_gd_free_inodes(sb, gd))
		return -ENOSPC;
	aiosfs_group_lock(sb, group);
	if (!aiosfs_gd_free_inodes(sb, gd))
		goto out;
	bh = aiosfs_read_inode_bitmap(sb, group);
	if (IS_ERR(bh)) {
		err = PTR_ERR(bh);
		goto out;
	}
	bit = find_next_zero_bit_le(bh->b_data, ipg, first);
	if (bit >= ipg) {
		if (!first)
			aiosfs_error(sb, "group %u: %u free inodes counted, none in the bitmap",
				     group, aiosfs_gd_free_inodes(sb, gd));
		goto out_brelse;
	}
	err = aiosfs_group_get_write_access(h, sb, group, bh);
	if (err)
		goto out_brelse;
	aiosfs_mark_inode_used(sb, group, bh, bit, is_dir);
	*index = bit;
	err = aiosfs_group_dirty(h, sb, group, bh);
	aiosfs_group_unlock(sb, group);
	brelse(bh);
	aiosfs_group_inodes_add(sb, group, -1, is_dir ? 1 : 0);
	return err;

out_brelse:
	brelse(bh);
out:
	aiosfs_group_unlock(sb, group);
	return err;
}

/* Takes a free inode number near dir: 0, -ENOSPC or an error. */
static int aiosfs_pick_inode(struct aiosfs_handle *h, struct inode *dir, bool is_dir,
			     unsigned long *ino, u32 *group)
{
	struct super_block *sb = dir->i_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 start, i, g, index;
	int err;

	if (!READ_ONCE(sbi->s_free_inodes))
		return -ENOSPC;
	start = aiosfs_start_group(sb, dir, is_dir);
	for (i = 0; i < sbi->s_groups_count; i++) {
		g = start + i < sbi->s_groups_count ? start + i : start + i - sbi->s_groups_count;
		err = aiosfs_take_inode(h, sb, g, is_dir, &index);
		if (!err) {
			*ino = (unsigned long)g * sbi->s_inodes_per_group + index + 1;
			*group = g;
			return 0;
		}
		/* A corrupt group was logged once and is skipped; other errors stop us. */
		if (err != -ENOSPC && err != -AIOSFS_EFSBADCRC && err != -AIOSFS_EFSCORRUPTED)
			return err;
	}
	return -ENOSPC;
}

/* Releases inode number ino: clears its bit and fixes the counts. */
static void aiosfs_put_inode_number(struct aiosfs_handle *h, struct super_block *sb,
				    unsigned long ino, bool is_dir)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 group = (ino - 1) / sbi->s_inodes_per_group;
	u32 bit = (ino - 1) % sbi->s_inodes_per_group;
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	struct buffer_head *gd_bh = aiosfs_gd_buffer(sb, group);
	struct buffer_head *bh;
	u32 dirs;
	int err;

	aiosfs_group_lock(sb, group);
	bh = aiosfs_read_inode_bitmap(sb, group);
	if (IS_ERR(bh))
		goto out;
	if (!test_bit_le(bit, bh->b_data)) {
		aiosfs_error(sb, "freeing inode %lu, which is already free", ino);
		goto out_brelse;
	}
	err = aiosfs_group_get_write_access(h, sb, group, bh);
	if (err)
		goto out_brelse;
	lock_buffer(bh);
	lock_buffer(gd_bh);
	__clear_bit_le(bit, bh->b_data);
	aiosfs_inode_bitmap_csum_set(sb, gd, bh->b_data);
	aiosfs_gd_set_free_inodes(sb, gd, aiosfs_gd_free_inodes(sb, gd) + 1);
	dirs = aiosfs_gd_used_dirs(sb, gd);
	if (is_dir && dirs)
		aiosfs_gd_set_used_dirs(sb, gd, dirs - 1);
	unlock_buffer(gd_bh);
	unlock_buffer(bh);
	aiosfs_group_dirty(h, sb, group, bh);
	aiosfs_group_unlock(sb, group);
	brelse(bh);
	aiosfs_group_inodes_add(sb, group, 1, is_dir && dirs ? -1 : 0);
	return;

out_brelse:
	brelse(bh);
out:
	aiosfs_group_unlock(sb, group);
}

/* The in-memory state of a brand-new inode. */
static void aiosfs_init_new_inode(struct inode *inode, struct inode *dir, umode_t mode,
				  unsigned long ino, u32 group)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct timespec64 now;
	u32 flags;

	inode->i_ino = ino;
	inode_init_owner(AIOS_NOP_IDMAP, inode, dir, mode);
	now = current_time(inode);
	aios_inode_set_times(inode, now, now, now);
	inode->i_generation = get_random_u32();
	ei->i_csum_seed = aiosfs_inode_seed(sb, ino, cpu_to_le32(inode->i_generation));
	ei->i_extra_isize = sbi->s_inode_size > AIOSFS_GOOD_OLD_INODE_SIZE ?
			    sbi->s_want_extra_isize : 0;
	ei->i_has_crtime = AIOSFS_INODE_HAS(ei->i_extra_isize, i_crtime);
	ei->i_crtime = now;
	flags = AIOSFS_I(dir)->i_flags & AIOSFS_FL_INHERIT;
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		flags &= AIOSFS_FL_INHERIT_OTHER;
	if (S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode))
		flags |= AIOSFS_EXTENTS_FL;
	ei->i_flags = flags;
	inode_set_flags(inode, flags & AIOSFS_NOATIME_FL ? S_NOATIME : 0, S_NOATIME);
	ei->i_file_acl = 0;
	ei->i_dtime = 0;
	ei->i_disksize = 0;
	inode->i_size = 0;
	inode->i_blocks = 0;
	ei->i_block_group = group;
	memset(ei->i_data, 0, sizeof(ei->i_data));
	if (flags & AIOSFS_EXTENTS_FL)
		aiosfs_ext_tree_init(inode);
	set_nlink(inode, 1);
}

/*
 * Zeroes the inode's table slot: never-used slots of a lazily initialized
 * table may hold anything, and fields aiosfs does not model must be zero.
 */
static int aiosfs_zero_slot(struct aiosfs_handle *h, struct inode *inode)
{
	struct aiosfs_inode *raw;
	struct buffer_head *bh;
	int err;

	bh = aiosfs_read_raw_inode(inode->i_sb, inode->i_ino, &raw);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	err = aiosfs_journal_get_write_access(h, bh);
	if (!err) {
		lock_buffer(bh);
		memset(raw, 0, AIOSFS_SB(inode->i_sb)->s_inode_size);
		unlock_buffer(bh);
		err = aiosfs_journal_dirty_metadata(h, bh);
	}
	brelse(bh);
	return err;
}

struct inode *aiosfs_new_inode(struct aiosfs_handle *h, struct inode *dir, umode_t mode,
			       const struct qstr *name)
{
	struct posix_acl *default_acl = NULL, *acl = NULL;
	struct super_block *sb = dir->i_sb;
	bool is_dir = S_ISDIR(mode);
	struct inode *inode;
	unsigned long ino;
	u32 group;
	int err;

	if (WARN_ON_ONCE(!AIOSFS_SB(sb)->s_balloc))
		return ERR_PTR(-EROFS);
	/* Fits the mode to dir's default ACL, or to the umask without one. */
	err = posix_acl_create(dir, &mode, &default_acl, &acl);
	if (err)
		return ERR_PTR(err);
	inode = new_inode(sb);
	if (!inode) {
		err = -ENOMEM;
		goto out_acl;
	}
	err = aiosfs_pick_inode(h, dir, is_dir, &ino, &group);
	if (err) {
		iput(inode);
		goto out_acl;
	}
	aiosfs_init_new_inode(inode, dir, mode, ino, group);
	if (insert_inode_locked(inode) < 0) {
		/* Somebody uses the number: its bit was wrong, and now is right. */
		aiosfs_error(sb, "inode %lu is in use but was free in its bitmap", ino);
		make_bad_inode(inode);
		iput(inode);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	err = aiosfs_zero_slot(h, inode);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, inode);
	/* Its ACLs and security labels, in this handle: they commit with it. */
	if (!err)
		err = aiosfs_init_acl(inode, default_acl, acl);
	if (!err)
		err = aiosfs_init_security(inode, dir, name);
	if (err)
		goto fail;
	posix_acl_release(default_acl);
	posix_acl_release(acl);
	return inode;

fail:
	/*
	 * Out of the hash before the number goes back, so that its next
	 * owner's insert_inode_locked() cannot find this one; bad, and with
	 * its link, so that eviction deletes nothing.
	 */
	make_bad_inode(inode);
	remove_inode_hash(inode);
	unlock_new_inode(inode);
	iput(inode);
	aiosfs_put_inode_number(h, sb, ino, is_dir);
out_acl:
	posix_acl_release(default_acl);
	posix_acl_release(acl);
	return ERR_PTR(err);
}

void aiosfs_free_inode(struct aiosfs_handle *h, struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	if (WARN_ON_ONCE(!sbi->s_balloc))
		return;
	if (inode->i_ino < sbi->s_first_ino || inode->i_ino > sbi->s_inodes_count) {
		aiosfs_error(sb, "freeing reserved or nonexistent inode %lu", inode->i_ino);
		return;
	}
	aiosfs_put_inode_number(h, sb, inode->i_ino, S_ISDIR(inode->i_mode));
}
