// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: mount entry points, superblock and group descriptor checks, statfs.
 *
 * Everything read from the device is checked before it is trusted, since
 * the image may be hostile.  A read-write mount starts the allocators and
 * the journal (journal.c), finishes the orphan list, and at unmount leaves
 * the journal empty and the superblock marked clean.
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/writeback.h>
#include <linux/ratelimit.h>
#include <aios/aios.h>
#include "aiosfs.h"

/* Features this code understands; anything else incompatible is refused. */
#define AIOSFS_INCOMPAT_SUPPORTED						\
	(AIOSFS_FEATURE_INCOMPAT_FILETYPE | AIOSFS_FEATURE_INCOMPAT_EXTENTS |	\
	 AIOSFS_FEATURE_INCOMPAT_64BIT | AIOSFS_FEATURE_INCOMPAT_FLEX_BG |	\
	 AIOSFS_FEATURE_INCOMPAT_CSUM_SEED | AIOSFS_FEATURE_INCOMPAT_LARGEDIR |	\
	 AIOSFS_FEATURE_INCOMPAT_RECOVER)

/* RO_COMPAT features a read-write mount keeps right. */
#define AIOSFS_RO_COMPAT_SUPPORTED						\
	(AIOSFS_FEATURE_RO_COMPAT_SPARSE_SUPER | AIOSFS_FEATURE_RO_COMPAT_LARGE_FILE |	\
	 AIOSFS_FEATURE_RO_COMPAT_HUGE_FILE | AIOSFS_FEATURE_RO_COMPAT_DIR_NLINK |	\
	 AIOSFS_FEATURE_RO_COMPAT_EXTRA_ISIZE | AIOSFS_FEATURE_RO_COMPAT_METADATA_CSUM)

#define AIOSFS_DEFAULT_COMMIT	5	/* seconds, like ext4 */

/* Mount options. */
struct aiosfs_fs_context {
	bool noload;		/* do not replay the journal */
	int poll;		/* 1: poll, 0: nopoll, -1: not given */
	u32 commit;		/* seconds; 0: not given */
	u32 errors;		/* AIOSFS_MOUNT_ERRORS_*; 0: not given */
	int acl;		/* 1: acl, 0: noacl, -1: the superblock's default */
};

enum { AIOSFS_OPT_NOLOAD, AIOSFS_OPT_COMMIT, AIOSFS_OPT_ERRORS, AIOSFS_OPT_POLL, AIOSFS_OPT_ACL };

static const struct constant_table aiosfs_param_errors[] = {
	{ "continue",		AIOSFS_MOUNT_ERRORS_CONT },
	{ "remount-ro",		AIOSFS_MOUNT_ERRORS_RO },
	{ "panic",		AIOSFS_MOUNT_ERRORS_PANIC },
	{}
};

static const struct fs_parameter_spec aiosfs_param_specs[] = {
	fsparam_flag("noload", AIOSFS_OPT_NOLOAD),
	fsparam_flag("norecovery", AIOSFS_OPT_NOLOAD),
	fsparam_u32("commit", AIOSFS_OPT_COMMIT),
	fsparam_enum("errors", AIOSFS_OPT_ERRORS, aiosfs_param_errors),
	fsparam_flag_no("poll", AIOSFS_OPT_POLL),
	fsparam_flag_no("acl", AIOSFS_OPT_ACL),
	{}
};

static struct kmem_cache *aiosfs_inode_cachep;

/* Also what the VFS does with the umask: with ACLs on, posix_acl_create() applies it. */
static void aiosfs_set_posixacl(struct super_block *sb, bool on)
{
	if (on)
		sb->s_flags |= SB_POSIXACL;
	else
		sb->s_flags &= ~SB_POSIXACL;
}

/*
 * A read-write mount that met an inconsistency follows errors=: the error
 * is recorded in the superblock (written with the next commit or at
 * unmount), and remount-ro stops every further change.
 */
/*
 * The superblock in memory is ours and whole even after a write of it
 * failed (which cleared its uptodate bit): it may go out again.
 */
static void aiosfs_sb_mark_dirty(struct aiosfs_sb_info *sbi)
{
	if (!buffer_uptodate(sbi->s_sbh) || buffer_write_io_error(sbi->s_sbh)) {
		clear_buffer_write_io_error(sbi->s_sbh);
		set_buffer_uptodate(sbi->s_sbh);
	}
	mark_buffer_dirty(sbi->s_sbh);
}

/*
 * After errors=remount-ro took effect: the superblock goes home with the
 * error state at once, not at unmount, so that a crash still tells e2fsck
 * to check.  Straight to the device, as nothing commits any more; from a
 * work item, as the error may come from under the superblock's lock.
 */
static void aiosfs_error_work(struct work_struct *work)
{
	struct aiosfs_sb_info *sbi = container_of(work, struct aiosfs_sb_info, s_error_work);
	struct aiosfs_super_block *es = sbi->s_es;

	lock_buffer(sbi->s_sbh);
	es->s_state |= cpu_to_le16(AIOSFS_STATE_ERROR);
	le32_add_cpu(&es->s_error_count, 1);
	aiosfs_sb_csum_set(es);
	unlock_buffer(sbi->s_sbh);
	aiosfs_sb_mark_dirty(sbi);
	if (sync_dirty_buffer(sbi->s_sbh))
		pr_err("(%pg): cannot write the superblock with the error state\n",
		       sbi->s_sbh->b_bdev);
}

static void aiosfs_handle_error(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	if (!sbi || !sbi->s_journal || sb_rdonly(sb))
		return;
	sbi->s_es->s_state |= cpu_to_le16(AIOSFS_STATE_ERROR);
	if (sbi->s_mount_opt & AIOSFS_MOUNT_ERRORS_PANIC)
		panic("aiosfs (%s): panic forced after error\n", sb->s_id);
	if (!(sbi->s_mount_opt & AIOSFS_MOUNT_ERRORS_RO))
		return;
	/*
	 * As ext4: what the running transaction holds may be half an
	 * operation, so it never commits; the log keeps what had committed.
	 */
	WRITE_ONCE(sbi->s_aborted, true);
	aiosfs_journal_abort_fs(sb, -EIO);
	pr_crit("(%s): remounting filesystem read-only\n", sb->s_id);
	/* Handles check this; the VFS refuses new writers. */
	sb->s_flags |= SB_RDONLY;
	schedule_work(&sbi->s_error_work);
}

void __aiosfs_error(struct super_block *sb, const char *func, const char *fmt, ...)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct va_format vaf;
	va_list args;

	/* A hostile image can make every lookup fail: do not flood the log. */
	if (!sbi || __ratelimit(&sbi->s_err_ratelimit)) {
		va_start(args, fmt);
		vaf.fmt = fmt;
		vaf.va = &args;
		pr_err("(%s): %s: %pV\n", sb->s_id, func, &vaf);
		va_end(args);
	}
	aiosfs_handle_error(sb);
}

bool aiosfs_blocks_valid(struct super_block *sb, u64 blk, u64 len)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	/* Block first_data_block holds the superblock: never file data. */
	return blk > sbi->s_first_data_block && len <= sbi->s_blocks_count &&
	       blk <= sbi->s_blocks_count - len;
}

struct buffer_head *aiosfs_bread(struct super_block *sb, u64 blk, const char *what)
{
	struct buffer_head *bh;

	if (!aiosfs_blocks_valid(sb, blk, 1)) {
		aiosfs_error(sb, "%s block %llu is outside the filesystem", what, blk);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	bh = sb_bread(sb, blk);
	if (!bh) {
		aiosfs_error(sb, "cannot read %s block %llu", what, blk);
		return ERR_PTR(-EIO);
	}
	return bh;
}

struct aiosfs_group_desc *aiosfs_group_desc(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 blk = group / sbi->s_desc_per_block;
	u32 off = (group % sbi->s_desc_per_block) * sbi->s_desc_size;

	if (WARN_ON_ONCE(group >= sbi->s_groups_count))
		return NULL;
	return (struct aiosfs_group_desc *)(sbi->s_gd_bh[blk]->b_data + off);
}

static u64 aiosfs_gd_field(struct super_block *sb, __le32 lo, __le32 hi)
{
	u64 v = le32_to_cpu(lo);

	if (AIOSFS_SB(sb)->s_desc_size >= AIOSFS_MIN_DESC_SIZE_64BIT)
		v |= (u64)le32_to_cpu(hi) << 32;
	return v;
}

static u32 aiosfs_gd_count(struct super_block *sb, __le16 lo, __le16 hi)
{
	u32 v = le16_to_cpu(lo);

	if (AIOSFS_SB(sb)->s_desc_size >= AIOSFS_MIN_DESC_SIZE_64BIT)
		v |= (u32)le16_to_cpu(hi) << 16;
	return v;
}

u64 aiosfs_gd_inode_table(struct super_block *sb, struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_field(sb, gd->bg_inode_table_lo, gd->bg_inode_table_hi);
}

static int aiosfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u64 id = huge_encode_dev(sb->s_bdev->bd_dev);
	/* Like ext4: root's reserve, plus 2% (at most 4096) kept for extent splits. */
	u64 reserved = sbi->s_r_blocks_count + min_t(u64, sbi->s_blocks_count / 50, 4096);

	buf->f_type = AIOSFS_SUPER_MAGIC;
	buf->f_bsize = sb->s_blocksize;
	buf->f_blocks = sbi->s_blocks_count - sbi->s_overhead;
	buf->f_bfree = sbi->s_free_blocks;
	buf->f_bavail = sbi->s_free_blocks > reserved ? sbi->s_free_blocks - reserved : 0;
	buf->f_files = sbi->s_inodes_count;
	buf->f_ffree = sbi->s_free_inodes;
	buf->f_namelen = AIOSFS_NAME_LEN;
	buf->f_fsid = u64_to_fsid(id);
	return 0;
}

static struct inode *aiosfs_alloc_inode(struct super_block *sb)
{
	struct aiosfs_inode_info *ei = alloc_inode_sb(sb, aiosfs_inode_cachep, GFP_KERNEL);

	if (!ei)
		return NULL;
	RCU_INIT_POINTER(ei->i_ec, NULL);
	ei->i_disksize = 0;
	ei->i_dtime = 0;
	ei->i_block_group = 0;
	ei->i_sync_tid = 0;
	ei->i_datasync_tid = 0;
	atomic_set(&ei->i_wb_seq, 0);
	ei->i_flushed_seq = 0;
	atomic_set(&ei->i_dio_seq, 0);
	INIT_LIST_HEAD(&ei->i_orphan);
	ei->i_ordered = false;
	return &ei->vfs_inode;
}

static void aiosfs_free_inode_mem(struct inode *inode)
{
	aiosfs_ext_cache_free(inode);
	kmem_cache_free(aiosfs_inode_cachep, AIOSFS_I(inode));
}

static void aiosfs_init_once(void *obj)
{
	struct aiosfs_inode_info *ei = obj;

	inode_init_once(&ei->vfs_inode);
	init_rwsem(&ei->i_data_sem);
}

/* Drops what aiosfs_load() read, so that it can run again. */
static void aiosfs_unload(struct aiosfs_sb_info *sbi)
{
	u32 i;

	if (sbi->s_gd_bh) {
		for (i = 0; i < sbi->s_gdb_count; i++)
			brelse(sbi->s_gd_bh[i]);
		kfree(sbi->s_gd_bh);
		sbi->s_gd_bh = NULL;
	}
	brelse(sbi->s_sbh);
	sbi->s_sbh = NULL;
	sbi->s_es = NULL;
	sbi->s_free_blocks = 0;
	sbi->s_free_inodes = 0;
}

static void aiosfs_free_sbi(struct aiosfs_sb_info *sbi)
{
	aiosfs_jdisk_put(sbi);
	aiosfs_unload(sbi);
	if (sbi->s_lbio)
		aios_lbio_dev_put(sbi->s_lbio);
	kfree(sbi);
}

/* Straight to the device: only when the journal holds nothing live. */
static int aiosfs_write_super_now(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	int err;

	lock_buffer(sbi->s_sbh);
	aiosfs_sb_csum_set(sbi->s_es);
	unlock_buffer(sbi->s_sbh);
	aiosfs_sb_mark_dirty(sbi);
	err = sync_dirty_buffer(sbi->s_sbh);
	if (err)
		pr_err("(%s): cannot write the superblock: %d\n", sb->s_id, err);
	return err;
}

/*
 * Read-write from here on: the allocators, the journal (which sets
 * needs_recovery), the superblock marked not cleanly unmounted, and then
 * the log.
 */
static int aiosfs_start_rw(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	u32 unknown = sbi->s_ro_compat & ~AIOSFS_RO_COMPAT_SUPPORTED;
	int err;

	if (unknown) {
		pr_err("(%s): read-only features 0x%x are not supported: mount with -o ro\n",
		       sb->s_id, unknown);
		return -EROFS;
	}
	if (!(sbi->s_compat & AIOSFS_FEATURE_COMPAT_HAS_JOURNAL)) {
		pr_err("(%s): the filesystem has no journal: aiosfs mounts it read-only only\n",
		       sb->s_id);
		return -EROFS;
	}
	err = aiosfs_balloc_init(sb);
	if (err)
		return err;
	err = aiosfs_journal_load(sb);
	if (err)
		goto out_balloc;
	lock_buffer(sbi->s_sbh);
	es->s_state &= cpu_to_le16(~AIOSFS_STATE_VALID);
	le16_add_cpu(&es->s_mnt_count, 1);
	es->s_mtime = cpu_to_le32((u32)ktime_get_real_seconds());
	unlock_buffer(sbi->s_sbh);
	err = aiosfs_write_super_now(sb);
	if (!err)
		err = aiosfs_journal_open_log(sb);
	if (err)
		goto out_journal;
	return 0;

out_journal:
	aiosfs_journal_destroy(sb);
out_balloc:
	aiosfs_balloc_exit(sb);
	return err;
}

/* The journal checkpointed and empty, the superblock says clean. */
static void aiosfs_stop_rw(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	bool errors = le16_to_cpu(es->s_state) & AIOSFS_STATE_ERROR;

	if (!sbi->s_journal)
		return;
	aiosfs_journal_destroy(sb);
	lock_buffer(sbi->s_sbh);
	aiosfs_sync_counts(sb);
	if (!errors)
		es->s_state |= cpu_to_le16(AIOSFS_STATE_VALID);
	es->s_wtime = cpu_to_le32((u32)ktime_get_real_seconds());
	unlock_buffer(sbi->s_sbh);
	aiosfs_write_super_now(sb);
	blkdev_issue_flush(sb->s_bdev);
	aiosfs_balloc_exit(sb);
}

static void aiosfs_put_super(struct super_block *sb)
{
	flush_work(&AIOSFS_SB(sb)->s_error_work);
	aiosfs_stop_rw(sb);
	aiosfs_free_sbi(AIOSFS_SB(sb));
	sb->s_fs_info = NULL;
}

static void aiosfs_dirty_inode(struct inode *inode, int flags)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	bool datasync = flags & I_DIRTY_DATASYNC;
	struct aiosfs_handle *h;
	loff_t size;

	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_INODE);
	if (IS_ERR(h))
		return;
	/* A size that grew must not commit before the data under it (the range). */
	size = i_size_read(inode);
	if (S_ISREG(inode->i_mode) && size > ei->i_disksize) {
		aiosfs_journal_add_ordered(h, inode, ei->i_disksize, size - 1);
		datasync = true;
	}
	ei->i_disksize = size;
	__aiosfs_mark_inode_dirty(h, inode, datasync);
	aiosfs_journal_stop(h);
}

/* Inodes are in the journal already; a data-integrity sync commits it. */
static int aiosfs_write_inode(struct inode *inode, struct writeback_control *wbc)
{
	int err;

	if (wbc->sync_mode != WB_SYNC_ALL || wbc->for_sync || sb_rdonly(inode->i_sb))
		return 0;
	err = aiosfs_journal_commit_tid(inode->i_sb, AIOSFS_I(inode)->i_sync_tid, NULL);
	return err < 0 ? err : 0;
}

/*
 * Writeback has sent the data by now, maybe over blocks no transaction
 * touched: a commit's own flush covers it, and without one the sync
 * flushes, or that data could still sit in the drive's cache.
 */
static int aiosfs_sync_fs(struct super_block *sb, int wait)
{
	int ret;

	if (!wait || sb_rdonly(sb))
		return 0;
	ret = aiosfs_journal_force_commit(sb);
	if (ret)
		return ret < 0 ? ret : 0;
	return aiosfs_dev_flush(sb);
}

static const struct super_operations aiosfs_sops = {
	.alloc_inode	= aiosfs_alloc_inode,
	.free_inode	= aiosfs_free_inode_mem,
	.dirty_inode	= aiosfs_dirty_inode,
	.write_inode	= aiosfs_write_inode,
	.evict_inode	= aiosfs_evict_inode,
	.put_super	= aiosfs_put_super,
	.sync_fs	= aiosfs_sync_fs,
	.statfs		= aiosfs_statfs,
};

static int aiosfs_check_features(struct super_block *sb, struct aiosfs_super_block *es)
{
	static const char * const names[] = {
		"compression", "filetype", "needs_recovery", "journal_dev", "meta_bg",
		"bit5", "extent", "64bit", "mmp", "flex_bg", "ea_inode", "bit11",
		"dirdata", "metadata_csum_seed", "large_dir", "inline_data", "encrypt",
		"casefold",
	};
	unsigned long unknown = le32_to_cpu(es->s_feature_incompat) & ~AIOSFS_INCOMPAT_SUPPORTED;
	unsigned int bit;

	if (!unknown)
		return 0;
	for_each_set_bit(bit, &unknown, 32) {
		if (bit < ARRAY_SIZE(names))
			pr_err("(%s): unsupported incompatible feature %s (0x%x)\n", sb->s_id,
			       names[bit], 1U << bit);
		else
			pr_err("(%s): unknown incompatible feature 0x%x\n", sb->s_id, 1U << bit);
	}
	return -EINVAL;
}

/* Checks the geometry the rest of the code relies on, and derives it. */
static int aiosfs_check_geometry(struct super_block *sb, struct aiosfs_sb_info *sbi)
{
	struct aiosfs_super_block *es = sbi->s_es;
	u32 log = le32_to_cpu(es->s_log_block_size);
	u64 dev_blocks = bdev_nr_bytes(sb->s_bdev) >> sb->s_blocksize_bits;
	u64 groups;

	if (log > 16 || AIOSFS_MIN_BLOCK_LOG + log != sb->s_blocksize_bits) {
		pr_err("(%s): block size 2^%llu is not supported (only 4096)\n", sb->s_id,
		       (u64)log + AIOSFS_MIN_BLOCK_LOG);
		return -EINVAL;
	}
	if (le32_to_cpu(es->s_rev_level) == AIOSFS_GOOD_OLD_REV) {
		sbi->s_inode_size = AIOSFS_GOOD_OLD_INODE_SIZE;
		sbi->s_first_ino = AIOSFS_GOOD_OLD_FIRST_INO;
	} else {
		sbi->s_inode_size = le16_to_cpu(es->s_inode_size);
		sbi->s_first_ino = le32_to_cpu(es->s_first_ino);
	}
	if (sbi->s_inode_size < AIOSFS_GOOD_OLD_INODE_SIZE || sbi->s_inode_size > sb->s_blocksize ||
	    !is_power_of_2(sbi->s_inode_size)) {
		pr_err("(%s): bad inode size %u\n", sb->s_id, sbi->s_inode_size);
		return -EINVAL;
	}
	sbi->s_blocks_count = le32_to_cpu(es->s_blocks_count_lo);
	sbi->s_r_blocks_count = le32_to_cpu(es->s_r_blocks_count_lo);
	sbi->s_desc_size = AIOSFS_MIN_DESC_SIZE;
	if (sbi->s_incompat & AIOSFS_FEATURE_INCOMPAT_64BIT) {
		sbi->s_blocks_count |= (u64)le32_to_cpu(es->s_blocks_count_hi) << 32;
		sbi->s_r_blocks_count |= (u64)le32_to_cpu(es->s_r_blocks_count_hi) << 32;
		sbi->s_desc_size = le16_to_cpu(es->s_desc_size);
		if (sbi->s_desc_size < AIOSFS_MIN_DESC_SIZE_64BIT ||
		    sbi->s_desc_size > AIOSFS_MAX_DESC_SIZE || !is_power_of_2(sbi->s_desc_size)) {
			pr_err("(%s): bad group descriptor size %u\n", sb->s_id, sbi->s_desc_size);
			return -EINVAL;
		}
	}
	sbi->s_first_data_block = le32_to_cpu(es->s_first_data_block);
	sbi->s_blocks_per_group = le32_to_cpu(es->s_blocks_per_group);
	sbi->s_inodes_per_group = le32_to_cpu(es->s_inodes_per_group);
	sbi->s_inodes_count = le32_to_cpu(es->s_inodes_count);
	if (sbi->s_first_data_block != 0 || sbi->s_blocks_per_group == 0 ||
	    sbi->s_blocks_per_group > sb->s_blocksize * 8 || sbi->s_inodes_per_group == 0 ||
	    sbi->s_inodes_per_group > sb->s_blocksize * 8 ||
	    sbi->s_blocks_count <= sbi->s_first_data_block ||
	    sbi->s_first_ino < AIOSFS_GOOD_OLD_FIRST_INO) {
		pr_err("(%s): bad geometry: %llu blocks, first data block %u, %u blocks and %u inodes per group, first inode %u\n",
		       sb->s_id, sbi->s_blocks_count, sbi->s_first_data_block,
		       sbi->s_blocks_per_group, sbi->s_inodes_per_group, sbi->s_first_ino);
		return -EINVAL;
	}
	groups = DIV_ROUND_UP_ULL(sbi->s_blocks_count - sbi->s_first_data_block,
				  sbi->s_blocks_per_group);
	if (groups > U32_MAX || groups * sbi->s_inodes_per_group != sbi->s_inodes_count ||
	    sbi->s_first_ino > sbi->s_inodes_count) {
		pr_err("(%s): %llu groups of %u inodes do not make %u inodes\n", sb->s_id,
		       groups, sbi->s_inodes_per_group, sbi->s_inodes_count);
		return -EINVAL;
	}
	if (sbi->s_blocks_count > dev_blocks) {
		pr_err("(%s): the filesystem has %llu blocks but the device only %llu: truncated?\n",
		       sb->s_id, sbi->s_blocks_count, dev_blocks);
		return -EINVAL;
	}
	sbi->s_groups_count = groups;
	sbi->s_desc_per_block = sb->s_blocksize / sbi->s_desc_size;
	sbi->s_gdb_count = DIV_ROUND_UP(sbi->s_groups_count, sbi->s_desc_per_block);
	sbi->s_itb_per_group = DIV_ROUND_UP(sbi->s_inodes_per_group * sbi->s_inode_size,
					    sb->s_blocksize);
	return 0;
}

/* Does the group hold a copy of the superblock (and descriptors)? */
bool aiosfs_group_has_super(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 p;

	if (group <= 1)
		return true;
	if (sbi->s_compat & AIOSFS_FEATURE_COMPAT_SPARSE_SUPER2)
		return group == le32_to_cpu(sbi->s_es->s_backup_bgs[0]) ||
		       group == le32_to_cpu(sbi->s_es->s_backup_bgs[1]);
	if (!(sbi->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_SPARSE_SUPER))
		return true;
	if (!(group & 1))
		return false;
	for (p = 3; p <= 7; p += 2) {
		u64 n = p;

		while (n < group)
			n *= p;
		if (n == group)
			return true;
	}
	return false;
}

static int aiosfs_check_group(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	u64 bb = aiosfs_gd_field(sb, gd->bg_block_bitmap_lo, gd->bg_block_bitmap_hi);
	u64 ib = aiosfs_gd_field(sb, gd->bg_inode_bitmap_lo, gd->bg_inode_bitmap_hi);
	u64 it = aiosfs_gd_inode_table(sb, gd);

	if (sbi->s_has_csum && !aiosfs_gd_csum_ok(sb, group, gd)) {
		pr_err("(%s): checksum mismatch in group descriptor %u\n", sb->s_id, group);
		return -AIOSFS_EFSBADCRC;
	}
	if (!aiosfs_blocks_valid(sb, bb, 1) || !aiosfs_blocks_valid(sb, ib, 1) ||
	    !aiosfs_blocks_valid(sb, it, sbi->s_itb_per_group)) {
		pr_err("(%s): group descriptor %u points outside the filesystem (bitmaps %llu %llu, inode table %llu)\n",
		       sb->s_id, group, bb, ib, it);
		return -AIOSFS_EFSCORRUPTED;
	}
	sbi->s_free_blocks += aiosfs_gd_count(sb, gd->bg_free_blocks_count_lo,
					      gd->bg_free_blocks_count_hi);
	sbi->s_free_inodes += aiosfs_gd_count(sb, gd->bg_free_inodes_count_lo,
					      gd->bg_free_inodes_count_hi);
	return 0;
}

static int aiosfs_read_group_descs(struct super_block *sb, struct aiosfs_sb_info *sbi)
{
	u64 first = sbi->s_first_data_block + 1;
	u32 i;
	int err;

	if (!aiosfs_blocks_valid(sb, first, sbi->s_gdb_count)) {
		pr_err("(%s): %u group descriptor blocks do not fit the filesystem\n", sb->s_id,
		       sbi->s_gdb_count);
		return -EINVAL;
	}
	sbi->s_gd_bh = kcalloc(sbi->s_gdb_count, sizeof(*sbi->s_gd_bh), GFP_KERNEL);
	if (!sbi->s_gd_bh)
		return -ENOMEM;
	for (i = 0; i < sbi->s_gdb_count; i++) {
		sbi->s_gd_bh[i] = sb_bread(sb, first + i);
		if (!sbi->s_gd_bh[i]) {
			pr_err("(%s): cannot read group descriptor block %llu\n", sb->s_id,
			       first + i);
			return -EIO;
		}
	}
	for (i = 0; i < sbi->s_groups_count; i++) {
		err = aiosfs_check_group(sb, i);
		if (err)
			return err;
	}
	return 0;
}

/* The blocks ext4 does not count in statfs's f_blocks. */
static void aiosfs_count_overhead(struct super_block *sb, struct aiosfs_sb_info *sbi)
{
	u32 reserved_gdt = le16_to_cpu(sbi->s_es->s_reserved_gdt_blocks);
	struct inode *journal;
	u32 g;

	sbi->s_overhead = le32_to_cpu(sbi->s_es->s_overhead_clusters);
	if (sbi->s_overhead)
		return;
	sbi->s_overhead = sbi->s_first_data_block;
	for (g = 0; g < sbi->s_groups_count; g++) {
		if (aiosfs_group_has_super(sb, g))
			sbi->s_overhead += 1 + sbi->s_gdb_count + reserved_gdt;
		sbi->s_overhead += 2 + sbi->s_itb_per_group;
	}
	if (!(sbi->s_compat & AIOSFS_FEATURE_COMPAT_HAS_JOURNAL) ||
	    le32_to_cpu(sbi->s_es->s_journal_inum) != AIOSFS_JOURNAL_INO)
		return;
	journal = aiosfs_iget(sb, AIOSFS_JOURNAL_INO);
	if (IS_ERR(journal))
		return;
	sbi->s_overhead += i_size_read(journal) >> sb->s_blocksize_bits;
	iput(journal);
	if (sbi->s_overhead > sbi->s_blocks_count)
		sbi->s_overhead = 0;
}

static int aiosfs_load_super(struct super_block *sb, struct aiosfs_sb_info *sbi)
{
	struct aiosfs_super_block *es;

	sbi->s_sbh = sb_bread(sb, 0);
	if (!sbi->s_sbh) {
		pr_err("(%s): cannot read the superblock\n", sb->s_id);
		return -EIO;
	}
	es = (struct aiosfs_super_block *)(sbi->s_sbh->b_data + AIOSFS_SUPER_OFFSET);
	sbi->s_es = es;
	if (le16_to_cpu(es->s_magic) != AIOSFS_SUPER_MAGIC) {
		pr_err("(%s): bad magic 0x%04x: not an ext4 filesystem\n", sb->s_id,
		       le16_to_cpu(es->s_magic));
		return -EINVAL;
	}
	sbi->s_compat = le32_to_cpu(es->s_feature_compat);
	sbi->s_incompat = le32_to_cpu(es->s_feature_incompat);
	sbi->s_ro_compat = le32_to_cpu(es->s_feature_ro_compat);
	sbi->s_has_csum = sbi->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_METADATA_CSUM;
	if (sbi->s_has_csum) {
		if (es->s_checksum_type != AIOSFS_CRC32C_CHKSUM) {
			pr_err("(%s): unknown checksum type %u\n", sb->s_id, es->s_checksum_type);
			return -EINVAL;
		}
		if (!aiosfs_sb_csum_ok(es)) {
			pr_err("(%s): superblock checksum mismatch\n", sb->s_id);
			return -AIOSFS_EFSBADCRC;
		}
		sbi->s_csum_seed = aiosfs_csum_seed_of(es);
		sbi->s_inode_csum = le32_to_cpu(es->s_creator_os) == AIOSFS_OS_LINUX;
	}
	return aiosfs_check_features(sb, es);
}

/* Reads and checks the superblock and the group descriptors. */
static int aiosfs_load(struct super_block *sb, struct aiosfs_sb_info *sbi)
{
	int err;

	err = aiosfs_load_super(sb, sbi);
	if (!err)
		err = aiosfs_check_geometry(sb, sbi);
	if (!err)
		err = aiosfs_read_group_descs(sb, sbi);
	return err;
}

/* Replays the journal if it needs it, then reads everything again from disk. */
static int aiosfs_load_recovered(struct super_block *sb, struct aiosfs_sb_info *sbi,
				 bool noload)
{
	int err;

	if (!(sbi->s_incompat & AIOSFS_FEATURE_INCOMPAT_RECOVER))
		return 0;
	err = aiosfs_recover(sb, noload);
	if (err <= 0)
		return err;
	/* Nothing holds a buffer now: drop the cached ones, verified before the replay. */
	aiosfs_unload(sbi);
	invalidate_bdev(sb->s_bdev);
	return aiosfs_load(sb, sbi);
}

static int aiosfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct aiosfs_fs_context *ctx = fc->fs_private;
	struct aiosfs_sb_info *sbi;
	struct inode *root;
	int err, i;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sb->s_fs_info = sbi;
	ratelimit_state_init(&sbi->s_err_ratelimit, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	if (!sb_set_blocksize(sb, 4096)) {
		pr_err("(%s): cannot use 4096-byte blocks on this device\n", sb->s_id);
		err = -EINVAL;
		goto out;
	}
	mutex_init(&sbi->s_orphan_lock);
	INIT_LIST_HEAD(&sbi->s_orphans);
	INIT_WORK(&sbi->s_error_work, aiosfs_error_work);
	sbi->s_mount_opt = ctx->errors ?: AIOSFS_MOUNT_ERRORS_RO;
	sbi->s_commit_interval = (ctx->commit ?: AIOSFS_DEFAULT_COMMIT) * HZ;
	sbi->s_lbio = aios_lbio_dev_get(sb->s_bdev);
	if (IS_ERR(sbi->s_lbio)) {
		err = PTR_ERR(sbi->s_lbio);
		sbi->s_lbio = NULL;
		goto out;
	}
	/* Spinning pays only on a device quick enough to answer within the spin. */
	sbi->s_poll = ctx->poll >= 0 ? ctx->poll : aios_lbio_dev_direct(sbi->s_lbio);
	/* Before any aiosfs_iget(): recovery reads the journal inode. */
	sb->s_op = &aiosfs_sops;
	err = aiosfs_load(sb, sbi);
	if (!err)
		err = aiosfs_load_recovered(sb, sbi, ctx->noload);
	if (err)
		goto out;
	if (le16_to_cpu(sbi->s_es->s_state) & AIOSFS_STATE_ERROR)
		pr_warn("(%s): the filesystem has errors recorded; run e2fsck\n", sb->s_id);
	for (i = 0; i < 4; i++)
		sbi->s_hash_seed[i] = le32_to_cpu(sbi->s_es->s_hash_seed[i]);
	/* mke2fs makes acl a default mount option (tune2fs -o sets it). */
	aiosfs_set_posixacl(sb, ctx->acl >= 0 ? ctx->acl :
			    !!(le32_to_cpu(sbi->s_es->s_default_mount_opts) & AIOSFS_DEFM_ACL));
	if (le32_to_cpu(sbi->s_es->s_flags) & AIOSFS_FLAGS_UNSIGNED_HASH)
		sbi->s_hash_unsigned = AIOSFS_HASH_LEGACY_UNSIGNED;

	sb->s_magic = AIOSFS_SUPER_MAGIC;
	sb->s_xattr = aiosfs_xattr_handlers;
	sb->s_time_gran = 1;
	/* Extents address 2^32 logical blocks. */
	sb->s_maxbytes = min_t(u64, MAX_LFS_FILESIZE, (1ULL << 32) * sb->s_blocksize - 1);
	memcpy(&sb->s_uuid, sbi->s_es->s_uuid, sizeof(sbi->s_es->s_uuid));
	aiosfs_count_overhead(sb, sbi);
	sbi->s_want_extra_isize = max_t(u32, le16_to_cpu(sbi->s_es->s_want_extra_isize),
					AIOSFS_WANT_EXTRA_ISIZE);
	if (AIOSFS_GOOD_OLD_INODE_SIZE + sbi->s_want_extra_isize > sbi->s_inode_size)
		sbi->s_want_extra_isize = sbi->s_inode_size > AIOSFS_GOOD_OLD_INODE_SIZE ?
					  sbi->s_inode_size - AIOSFS_GOOD_OLD_INODE_SIZE : 0;
	if (!sb_rdonly(sb)) {
		if (ctx->noload) {
			pr_err("(%s): noload needs a read-only mount\n", sb->s_id);
			err = -EINVAL;
			goto out;
		}
		err = aiosfs_start_rw(sb);
		if (err)
			goto out;
	}

	root = aiosfs_iget(sb, AIOSFS_ROOT_INO);
	if (IS_ERR(root)) {
		err = PTR_ERR(root);
		pr_err("(%s): cannot read the root directory: %d\n", sb->s_id, err);
		goto out_rw;
	}
	if (!S_ISDIR(root->i_mode) || !root->i_size) {
		pr_err("(%s): the root inode is not a directory\n", sb->s_id);
		iput(root);
		err = -AIOSFS_EFSCORRUPTED;
		goto out_rw;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root) {
		err = -ENOMEM;
		goto out_rw;
	}
	if (!sb_rdonly(sb)) {
		err = aiosfs_orphan_recover(sb);
		if (err)
			goto out_root;
	}
	return 0;

out_root:
	dput(sb->s_root);
	sb->s_root = NULL;
	/* Inodes the orphan scan read must go before the journal does. */
	evict_inodes(sb);
out_rw:
	aiosfs_stop_rw(sb);
out:
	aiosfs_free_sbi(sbi);
	sb->s_fs_info = NULL;
	return err;
}

static int aiosfs_get_tree(struct fs_context *fc)
{
	return get_tree_bdev(fc, aiosfs_fill_super);
}

static int aiosfs_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct aiosfs_fs_context *ctx = fc->fs_private;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	bool to_ro = fc->sb_flags & SB_RDONLY;
	int err;

	if (ctx->noload) {
		errorfc(fc, "noload can only be given at mount time");
		return -EINVAL;
	}
	if (ctx->errors)
		sbi->s_mount_opt = ctx->errors;
	if (ctx->commit)
		sbi->s_commit_interval = ctx->commit * HZ;
	if (ctx->poll >= 0)
		sbi->s_poll = ctx->poll;
	if (ctx->acl >= 0)
		aiosfs_set_posixacl(sb, ctx->acl);
	if (to_ro == sb_rdonly(sb))
		return 0;
	/* Read-only after an error: only e2fsck makes it writable again (as ext4). */
	if (!to_ro && READ_ONCE(sbi->s_aborted)) {
		errorfc(fc, "the filesystem was aborted after an error: unmount it and run e2fsck");
		return -EROFS;
	}
	if (to_ro) {
		sync_filesystem(sb);
		aiosfs_stop_rw(sb);
		return 0;
	}
	err = aiosfs_start_rw(sb);
	if (!err) {
		/* Orphan recovery needs handles: the VFS clears SB_RDONLY after us. */
		sb->s_flags &= ~SB_RDONLY;
		err = aiosfs_orphan_recover(sb);
		if (err) {
			aiosfs_stop_rw(sb);
			sb->s_flags |= SB_RDONLY;
		}
	}
	return err;
}

static int aiosfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct aiosfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	/* Unknown names get -ENOPARAM, which the VFS reports. */
	opt = fs_parse(fc, aiosfs_param_specs, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case AIOSFS_OPT_NOLOAD:
		ctx->noload = true;
		break;
	case AIOSFS_OPT_COMMIT:
		if (result.uint_32 > 24 * 3600)
			return invalfc(fc, "commit=%u: at most a day", result.uint_32);
		ctx->commit = result.uint_32 ?: AIOSFS_DEFAULT_COMMIT;
		break;
	case AIOSFS_OPT_ERRORS:
		ctx->errors = result.uint_32;
		break;
	case AIOSFS_OPT_POLL:
		ctx->poll = !result.negated;
		break;
	case AIOSFS_OPT_ACL:
		ctx->acl = !result.negated;
		break;
	}
	return 0;
}

static void aiosfs_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations aiosfs_context_ops = {
	.parse_param	= aiosfs_parse_param,
	.get_tree	= aiosfs_get_tree,
	.reconfigure	= aiosfs_reconfigure,
	.free		= aiosfs_free_fc,
};

static int aiosfs_init_fs_context(struct fs_context *fc)
{
	struct aiosfs_fs_context *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->poll = -1;
	ctx->acl = -1;
	fc->fs_private = ctx;
	fc->ops = &aiosfs_context_ops;
	return 0;
}

static struct file_system_type aiosfs_type = {
	.owner			= THIS_MODULE,
	.name			= "aiosfs",
	.init_fs_context	= aiosfs_init_fs_context,
	.kill_sb		= kill_block_super,
	.fs_flags		= FS_REQUIRES_DEV,
	.parameters		= aiosfs_param_specs,
};
MODULE_ALIAS_FS("aiosfs");

int aiosfs_init(void)
{
	int err;

	/* Fast symlink targets are copied to user space from i_data. */
	aiosfs_inode_cachep =
		kmem_cache_create_usercopy("aiosfs_inode_cache", sizeof(struct aiosfs_inode_info),
					   0, SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					   offsetof(struct aiosfs_inode_info, i_data),
					   sizeof_field(struct aiosfs_inode_info, i_data),
					   aiosfs_init_once);
	if (!aiosfs_inode_cachep)
		return -ENOMEM;
	err = register_filesystem(&aiosfs_type);
	if (err) {
		pr_err("cannot register the filesystem type: %d\n", err);
		kmem_cache_destroy(aiosfs_inode_cachep);
		return err;
	}
	aiosfs_stats_init();
	return 0;
}

void aiosfs_exit(void)
{
	aiosfs_stats_exit();
	unregister_filesystem(&aiosfs_type);
	/* Inodes are freed after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(aiosfs_inode_cachep);
}
