// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: reading inodes from the inode tables, and getattr.
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include "aiosfs.h"

/* Reads the block holding inode ino; *raw points at the inode inside it. */
struct buffer_head *aiosfs_read_raw_inode(struct super_block *sb, unsigned long ino,
					  struct aiosfs_inode **raw)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_group_desc *gd;
	struct buffer_head *bh;
	u32 group, index;
	u64 off;

	if (ino < 1 || ino > sbi->s_inodes_count) {
		aiosfs_error(sb, "inode number %lu out of range", ino);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	group = (ino - 1) / sbi->s_inodes_per_group;
	index = (ino - 1) % sbi->s_inodes_per_group;
	gd = aiosfs_group_desc(sb, group);
	if (!gd)
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	off = (u64)index * sbi->s_inode_size;
	bh = aiosfs_bread(sb, aiosfs_gd_inode_table(sb, gd) + (off >> sb->s_blocksize_bits),
			  "inode table");
	if (IS_ERR(bh))
		return bh;
	*raw = (struct aiosfs_inode *)(bh->b_data + (off & (sb->s_blocksize - 1)));
	return bh;
}

static void aiosfs_decode_time(struct timespec64 *ts, __le32 sec, const __le32 *extra)
{
	u32 x;

	ts->tv_sec = (s32)le32_to_cpu(sec);
	ts->tv_nsec = 0;
	if (!extra)
		return;
	x = le32_to_cpu(*extra);
	ts->tv_sec += (s64)(x & AIOSFS_EXTRA_EPOCH_MASK) << 32;
	/* 30 bits can say more than a second: never hand that to the VFS. */
	ts->tv_nsec = min_t(u32, x >> AIOSFS_EXTRA_NSEC_SHIFT, NSEC_PER_SEC - 1);
}

static void aiosfs_read_times(struct inode *inode, const struct aiosfs_inode *raw)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u16 extra = ei->i_extra_isize;
	struct timespec64 a, m, c;

	aiosfs_decode_time(&a, raw->i_atime,
			   AIOSFS_INODE_HAS(extra, i_atime_extra) ? &raw->i_atime_extra : NULL);
	aiosfs_decode_time(&m, raw->i_mtime,
			   AIOSFS_INODE_HAS(extra, i_mtime_extra) ? &raw->i_mtime_extra : NULL);
	aiosfs_decode_time(&c, raw->i_ctime,
			   AIOSFS_INODE_HAS(extra, i_ctime_extra) ? &raw->i_ctime_extra : NULL);
	aios_inode_set_times(inode, a, m, c);
	ei->i_has_crtime = AIOSFS_INODE_HAS(extra, i_crtime);
	if (ei->i_has_crtime)
		aiosfs_decode_time(&ei->i_crtime, raw->i_crtime,
				   AIOSFS_INODE_HAS(extra, i_crtime_extra) ?
				   &raw->i_crtime_extra : NULL);
}

static blkcnt_t aiosfs_read_blocks(struct inode *inode, const struct aiosfs_inode *raw)
{
	struct super_block *sb = inode->i_sb;
	u64 blocks = le32_to_cpu(raw->i_blocks_lo);

	if (!(AIOSFS_SB(sb)->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_HUGE_FILE))
		return blocks;
	blocks |= (u64)le16_to_cpu(raw->i_blocks_high) << 32;
	/* Huge files count filesystem blocks instead of 512-byte sectors. */
	if (AIOSFS_I(inode)->i_flags & AIOSFS_HUGE_FILE_FL)
		blocks <<= sb->s_blocksize_bits - 9;
	return blocks;
}

/* The extent tree root must be sane before anyone maps through it. */
static int aiosfs_check_extent_root(struct inode *inode)
{
	struct aiosfs_extent_header *eh = (void *)AIOSFS_I(inode)->i_data;
	u16 max = le16_to_cpu(eh->eh_max);

	if (le16_to_cpu(eh->eh_magic) != AIOSFS_EXT_MAGIC ||
	    le16_to_cpu(eh->eh_entries) > max ||
	    max > (AIOSFS_N_BLOCKS * 4 - sizeof(*eh)) / sizeof(struct aiosfs_extent) ||
	    le16_to_cpu(eh->eh_depth) > AIOSFS_EXT_MAX_DEPTH) {
		aiosfs_error(inode->i_sb,
			     "inode %lu: bad extent tree root (magic 0x%x, %u/%u entries, depth %u)",
			     inode->i_ino, le16_to_cpu(eh->eh_magic), le16_to_cpu(eh->eh_entries),
			     max, le16_to_cpu(eh->eh_depth));
		return -AIOSFS_EFSCORRUPTED;
	}
	return 0;
}

static int aiosfs_set_ops(struct inode *inode, const struct aiosfs_inode *raw)
{
	dev_t rdev = 0;

	if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode)) {
		/* Old 16-bit numbers in i_block[0], else the new encoding in [1]. */
		if (raw->i_block[0])
			rdev = old_decode_dev(le32_to_cpu(raw->i_block[0]));
		else
			rdev = new_decode_dev(le32_to_cpu(raw->i_block[1]));
	}
	return aiosfs_set_inode_ops(inode, rdev);
}

int aiosfs_set_inode_ops(struct inode *inode, dev_t rdev)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	bool extents = ei->i_flags & AIOSFS_EXTENTS_FL;

	if (extents && (S_ISREG(inode->i_mode) || S_ISDIR(inode->i_mode) ||
			S_ISLNK(inode->i_mode))) {
		int err = aiosfs_check_extent_root(inode);

		if (err)
			return err;
	}
	if (S_ISREG(inode->i_mode)) {
		inode->i_op = &aiosfs_file_inode_operations;
		inode->i_fop = &aiosfs_file_operations;
		inode->i_mapping->a_ops = &aiosfs_aops;
	} else if (S_ISDIR(inode->i_mode)) {
		inode->i_op = &aiosfs_dir_inode_operations;
		inode->i_fop = &aiosfs_dir_operations;
	} else if (S_ISLNK(inode->i_mode)) {
		if (inode->i_size <= 0 || inode->i_size >= inode->i_sb->s_blocksize) {
			aiosfs_error(inode->i_sb, "symlink inode %lu has bad size %lld",
				     inode->i_ino, inode->i_size);
			return -AIOSFS_EFSCORRUPTED;
		}
		if (!extents && inode->i_size < AIOSFS_N_BLOCKS * 4) {
			/* The target lives in i_block; i_data has room for the NUL. */
			((char *)ei->i_data)[inode->i_size] = '\0';
			inode->i_link = (char *)ei->i_data;
			inode->i_op = &aiosfs_fast_symlink_inode_operations;
		} else {
			inode->i_op = &aiosfs_symlink_inode_operations;
			inode_nohighmem(inode);
			inode->i_mapping->a_ops = &aiosfs_aops;
		}
	} else if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode) ||
		   S_ISFIFO(inode->i_mode) || S_ISSOCK(inode->i_mode)) {
		inode->i_op = &aiosfs_special_inode_operations;
		init_special_inode(inode, inode->i_mode, rdev);
	} else {
		aiosfs_error(inode->i_sb, "inode %lu has bad mode 0%o", inode->i_ino,
			     inode->i_mode);
		return -AIOSFS_EFSCORRUPTED;
	}
	return 0;
}

static void aiosfs_set_inode_flags(struct inode *inode)
{
	u32 f = AIOSFS_I(inode)->i_flags;
	unsigned int flags = 0;

	if (f & AIOSFS_IMMUTABLE_FL)
		flags |= S_IMMUTABLE;
	if (f & AIOSFS_APPEND_FL)
		flags |= S_APPEND;
	if (f & AIOSFS_NOATIME_FL)
		flags |= S_NOATIME;
	inode_set_flags(inode, flags, S_IMMUTABLE | S_APPEND | S_NOATIME);
}

static int aiosfs_fill_inode(struct inode *inode, const struct aiosfs_inode *raw,
			     bool orphan)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u32 uid, gid;
	u64 size;

	ei->i_extra_isize = 0;
	if (sbi->s_inode_size > AIOSFS_GOOD_OLD_INODE_SIZE) {
		ei->i_extra_isize = le16_to_cpu(raw->i_extra_isize);
		if (AIOSFS_GOOD_OLD_INODE_SIZE + ei->i_extra_isize > sbi->s_inode_size ||
		    ei->i_extra_isize & 3) {
			aiosfs_error(sb, "inode %lu: bad i_extra_isize %u", inode->i_ino,
				     ei->i_extra_isize);
			return -AIOSFS_EFSCORRUPTED;
		}
	}
	if (sbi->s_has_csum)
		ei->i_csum_seed = aiosfs_inode_seed(sb, inode->i_ino, raw->i_generation);
	if (sbi->s_inode_csum && !aiosfs_inode_csum_ok(sb, raw, ei->i_csum_seed)) {
		aiosfs_error(sb, "checksum mismatch in inode %lu", inode->i_ino);
		return -AIOSFS_EFSBADCRC;
	}
	inode->i_mode = le16_to_cpu(raw->i_mode);
	set_nlink(inode, le16_to_cpu(raw->i_links_count));
	/* Only the orphan list may lead to an inode with no links. */
	if (!inode->i_nlink && !orphan) {
		aiosfs_error(sb, "deleted inode %lu referenced", inode->i_ino);
		return -ESTALE;
	}
	uid = le16_to_cpu(raw->i_uid) | (u32)le16_to_cpu(raw->i_uid_high) << 16;
	gid = le16_to_cpu(raw->i_gid) | (u32)le16_to_cpu(raw->i_gid_high) << 16;
	i_uid_write(inode, uid);
	i_gid_write(inode, gid);
	ei->i_flags = le32_to_cpu(raw->i_flags);
	if (ei->i_flags & (AIOSFS_INLINE_DATA_FL | AIOSFS_ENCRYPT_FL | AIOSFS_EA_INODE_FL |
			   AIOSFS_CASEFOLD_FL)) {
		aiosfs_error(sb, "inode %lu has flags 0x%x this filesystem cannot have",
			     inode->i_ino, ei->i_flags);
		return -AIOSFS_EFSCORRUPTED;
	}
	size = le32_to_cpu(raw->i_size_lo) | (u64)le32_to_cpu(raw->i_size_high) << 32;
	if (size > sb->s_maxbytes) {
		aiosfs_error(sb, "inode %lu has bad size %llu", inode->i_ino, size);
		return -AIOSFS_EFSCORRUPTED;
	}
	inode->i_size = size;
	ei->i_disksize = size;
	ei->i_dtime = le32_to_cpu(raw->i_dtime);
	ei->i_block_group = (inode->i_ino - 1) / sbi->s_inodes_per_group;
	inode->i_blocks = aiosfs_read_blocks(inode, raw);
	inode->i_generation = le32_to_cpu(raw->i_generation);
	ei->i_file_acl = le32_to_cpu(raw->i_file_acl_lo) |
			 (u64)le16_to_cpu(raw->i_file_acl_high) << 32;
	memcpy(ei->i_data, raw->i_block, sizeof(raw->i_block));
	ei->i_data[AIOSFS_N_BLOCKS] = 0;
	aiosfs_read_times(inode, raw);
	aiosfs_set_inode_flags(inode);
	return aiosfs_set_ops(inode, raw);
}

static struct inode *__aiosfs_iget(struct super_block *sb, unsigned long ino, bool orphan)
{
	struct aiosfs_inode *raw;
	struct buffer_head *bh;
	struct inode *inode;
	int err;

	if (ino < 1 || ino > AIOSFS_SB(sb)->s_inodes_count) {
		aiosfs_error(sb, "inode number %lu out of range", ino);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;
	bh = aiosfs_read_raw_inode(sb, ino, &raw);
	if (IS_ERR(bh)) {
		err = PTR_ERR(bh);
		goto bad;
	}
	err = aiosfs_fill_inode(inode, raw, orphan);
	brelse(bh);
	if (err)
		goto bad;
	/*
	 * Which transaction last changed it went with the evicted inode: the
	 * running one may hold a change (an unlink of another of its names),
	 * so its fsync must commit that one.
	 */
	AIOSFS_I(inode)->i_sync_tid = aiosfs_journal_running_tid(sb);
	AIOSFS_I(inode)->i_datasync_tid = AIOSFS_I(inode)->i_sync_tid;
	unlock_new_inode(inode);
	return inode;

bad:
	iget_failed(inode);
	return ERR_PTR(err);
}

static void aiosfs_encode_time(__le32 *sec, __le32 *extra, struct timespec64 ts)
{
	*sec = cpu_to_le32((u32)ts.tv_sec);
	if (extra)
		*extra = cpu_to_le32((((ts.tv_sec - (s32)ts.tv_sec) >> 32) &
				      AIOSFS_EXTRA_EPOCH_MASK) |
				     ((u32)ts.tv_nsec << AIOSFS_EXTRA_NSEC_SHIFT));
}

static void aiosfs_write_times(struct inode *inode, struct aiosfs_inode *raw)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u16 extra = ei->i_extra_isize;
	struct timespec64 a, m, c;

	aios_inode_get_times(inode, &a, &m, &c);
	aiosfs_encode_time(&raw->i_atime, AIOSFS_INODE_HAS(extra, i_atime_extra) ?
			   &raw->i_atime_extra : NULL, a);
	aiosfs_encode_time(&raw->i_mtime, AIOSFS_INODE_HAS(extra, i_mtime_extra) ?
			   &raw->i_mtime_extra : NULL, m);
	aiosfs_encode_time(&raw->i_ctime, AIOSFS_INODE_HAS(extra, i_ctime_extra) ?
			   &raw->i_ctime_extra : NULL, c);
	if (ei->i_has_crtime && AIOSFS_INODE_HAS(extra, i_crtime))
		aiosfs_encode_time(&raw->i_crtime, AIOSFS_INODE_HAS(extra, i_crtime_extra) ?
				   &raw->i_crtime_extra : NULL, ei->i_crtime);
}

/* i_blocks in 512-byte sectors, or in blocks with huge_file past 2^48 sectors. */
static int aiosfs_write_blocks(struct inode *inode, struct aiosfs_inode *raw)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u64 blocks = inode->i_blocks;

	ei->i_flags &= ~AIOSFS_HUGE_FILE_FL;
	if (blocks <= U32_MAX) {
		raw->i_blocks_lo = cpu_to_le32(blocks);
		raw->i_blocks_high = 0;
		return 0;
	}
	if (!(AIOSFS_SB(sb)->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_HUGE_FILE))
		return -EFBIG;
	if (blocks >> 48) {
		ei->i_flags |= AIOSFS_HUGE_FILE_FL;
		blocks >>= sb->s_blocksize_bits - 9;
	}
	raw->i_blocks_lo = cpu_to_le32(lower_32_bits(blocks));
	raw->i_blocks_high = cpu_to_le16(upper_32_bits(blocks) & 0xffff);
	return 0;
}

/*
 * Fields this code does not model (i_version, i_projid, osd bits) keep
 * what the slot holds; a new inode's slot was zeroed by its allocator.
 */
static int aiosfs_fill_raw(struct inode *inode, struct aiosfs_inode *raw)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	u32 uid = i_uid_read(inode), gid = i_gid_read(inode);
	int err;

	raw->i_mode = cpu_to_le16(inode->i_mode);
	raw->i_uid = cpu_to_le16(uid & 0xffff);
	raw->i_uid_high = cpu_to_le16(uid >> 16);
	raw->i_gid = cpu_to_le16(gid & 0xffff);
	raw->i_gid_high = cpu_to_le16(gid >> 16);
	raw->i_links_count = cpu_to_le16(inode->i_nlink);
	raw->i_size_lo = cpu_to_le32(lower_32_bits(ei->i_disksize));
	raw->i_size_high = cpu_to_le32(upper_32_bits(ei->i_disksize));
	raw->i_dtime = cpu_to_le32(ei->i_dtime);
	err = aiosfs_write_blocks(inode, raw);
	if (err)
		return err;
	raw->i_flags = cpu_to_le32(ei->i_flags);
	raw->i_generation = cpu_to_le32(inode->i_generation);
	raw->i_file_acl_lo = cpu_to_le32(lower_32_bits(ei->i_file_acl));
	raw->i_file_acl_high = cpu_to_le16(upper_32_bits(ei->i_file_acl) & 0xffff);
	memcpy(raw->i_block, ei->i_data, sizeof(raw->i_block));
	if (AIOSFS_SB(inode->i_sb)->s_inode_size > AIOSFS_GOOD_OLD_INODE_SIZE)
		raw->i_extra_isize = cpu_to_le16(ei->i_extra_isize);
	aiosfs_write_times(inode, raw);
	aiosfs_inode_csum_set(inode->i_sb, raw, ei->i_csum_seed);
	return 0;
}

/* fsync, and with @datasync fdatasync too, commits up to h's transaction. */
void aiosfs_inode_set_tid(struct aiosfs_handle *h, struct inode *inode, bool datasync)
{
	WRITE_ONCE(AIOSFS_I(inode)->i_sync_tid, aiosfs_handle_tid(h));
	if (datasync)
		WRITE_ONCE(AIOSFS_I(inode)->i_datasync_tid, aiosfs_handle_tid(h));
}

int __aiosfs_mark_inode_dirty(struct aiosfs_handle *h, struct inode *inode, bool datasync)
{
	struct aiosfs_inode *raw;
	struct buffer_head *bh;
	int err;

	bh = aiosfs_read_raw_inode(inode->i_sb, inode->i_ino, &raw);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		goto out;
	lock_buffer(bh);
	err = aiosfs_fill_raw(inode, raw);
	unlock_buffer(bh);
	if (!err)
		err = aiosfs_journal_dirty_metadata(h, bh);
	if (err)
		aiosfs_error(inode->i_sb, "cannot write inode %lu: %d", inode->i_ino, err);
	else
		aiosfs_inode_set_tid(h, inode, datasync);
out:
	brelse(bh);
	return err;
}

struct inode *aiosfs_iget(struct super_block *sb, unsigned long ino)
{
	return __aiosfs_iget(sb, ino, false);
}

struct inode *aiosfs_iget_orphan(struct super_block *sb, unsigned long ino)
{
	return __aiosfs_iget(sb, ino, true);
}

int aiosfs_getattr(AIOS_IDMAP_ARG idmap, const struct path *path, struct kstat *stat,
		   u32 request_mask, unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);

	if (ei->i_has_crtime) {
		stat->result_mask |= STATX_BTIME;
		stat->btime = ei->i_crtime;
	}
	if (ei->i_flags & AIOSFS_IMMUTABLE_FL)
		stat->attributes |= STATX_ATTR_IMMUTABLE;
	if (ei->i_flags & AIOSFS_APPEND_FL)
		stat->attributes |= STATX_ATTR_APPEND;
	if (ei->i_flags & AIOSFS_NODUMP_FL)
		stat->attributes |= STATX_ATTR_NODUMP;
	stat->attributes_mask |= STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP;
	aios_generic_fillattr(idmap, request_mask, inode, stat);
	return 0;
}
