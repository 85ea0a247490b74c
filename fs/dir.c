// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: directory blocks and readdir.
 *
 * readdir scans the blocks in order.  htree interior blocks look like
 * blocks holding one empty entry, and the htree root hides behind the
 * rec_len of "..", so a linear scan sees every name exactly once.
 * Positions are byte offsets into the directory.
 */
#include <linux/fs.h>
#include <linux/fs_types.h>
#include "aiosfs.h"

bool aiosfs_dir_indexed(struct inode *dir)
{
	return (AIOSFS_I(dir)->i_flags & AIOSFS_INDEX_FL) &&
	       (AIOSFS_SB(dir->i_sb)->s_compat & AIOSFS_FEATURE_COMPAT_DIR_INDEX);
}

/* Is this block an htree node (root or interior) rather than a leaf? */
bool aiosfs_is_dx_block(struct inode *dir, u32 lblk, const void *block)
{
	const struct aiosfs_dir_entry *de = block;

	if (!aiosfs_dir_indexed(dir))
		return false;
	if (lblk == 0)
		return true;
	return !de->inode && !de->name_len &&
	       le16_to_cpu(de->rec_len) == dir->i_sb->s_blocksize;
}

static int aiosfs_dir_verify(struct inode *dir, u32 lblk, struct buffer_head *bh)
{
	const struct aiosfs_dx_countlimit *cl;
	unsigned int off;
	bool ok;

	if (!AIOSFS_SB(dir->i_sb)->s_has_csum || aiosfs_buffer_verified(bh))
		return 0;
	if (aiosfs_is_dx_block(dir, lblk, bh->b_data)) {
		off = lblk ? AIOSFS_DX_NODE_COUNT_OFFSET : AIOSFS_DX_ROOT_COUNT_OFFSET;
		cl = (const void *)bh->b_data + off;
		/* Bounds before the checksum reads anything. */
		ok = le16_to_cpu(cl->count) <= le16_to_cpu(cl->limit) &&
		     off + le16_to_cpu(cl->limit) * sizeof(struct aiosfs_dx_entry) +
		     sizeof(struct aiosfs_dx_tail) <= dir->i_sb->s_blocksize;
		if (!ok) {
			aiosfs_error(dir->i_sb,
				     "directory inode %lu block %u: bad htree node counts",
				     dir->i_ino, lblk);
			return -AIOSFS_EFSCORRUPTED;
		}
		ok = aiosfs_dx_csum_ok(dir, bh->b_data, off);
	} else {
		ok = aiosfs_dirblock_csum_ok(dir, bh->b_data);
	}
	if (!ok) {
		aiosfs_error(dir->i_sb, "directory inode %lu: checksum mismatch in %s block %u",
			     dir->i_ino, aiosfs_is_dx_block(dir, lblk, bh->b_data) ?
			     "htree" : "directory", lblk);
		return -AIOSFS_EFSBADCRC;
	}
	aiosfs_set_buffer_verified(bh);
	return 0;
}

/* A directory block with its checksum verified; NULL for a hole. */
struct buffer_head *aiosfs_dir_bread(struct inode *dir, u32 lblk)
{
	struct aiosfs_map map;
	struct buffer_head *bh;
	int err;

	err = aiosfs_map_blocks(dir, lblk, 1, &map);
	if (err)
		return ERR_PTR(err);
	if (!map.m_pblk || map.m_unwritten)
		return NULL;
	bh = aiosfs_bread(dir->i_sb, map.m_pblk, "directory");
	if (IS_ERR(bh))
		return bh;
	err = aiosfs_dir_verify(dir, lblk, bh);
	if (err) {
		brelse(bh);
		return ERR_PTR(err);
	}
	return bh;
}

/* Is the entry at offset inside a block well formed? */
bool aiosfs_dirent_ok(struct inode *dir, const void *block, unsigned int offset)
{
	const struct aiosfs_dir_entry *de = block + offset;
	unsigned int bs = dir->i_sb->s_blocksize, rlen;
	const char *why = NULL;

	if (offset + AIOSFS_DIRENT_HDR_LEN > bs) {
		why = "entry header crosses the block end";
		goto bad;
	}
	rlen = le16_to_cpu(de->rec_len);
	if (rlen < AIOSFS_DIRENT_HDR_LEN + 4 || rlen % AIOSFS_DIR_REC_ALIGN)
		why = "bad rec_len";
	else if (rlen < ALIGN(AIOSFS_DIRENT_HDR_LEN + de->name_len, AIOSFS_DIR_REC_ALIGN))
		why = "name_len larger than rec_len";
	else if (offset + rlen > bs)
		why = "rec_len crosses the block end";
	else if (le32_to_cpu(de->inode) > AIOSFS_SB(dir->i_sb)->s_inodes_count)
		why = "inode number out of range";
	else if (de->inode && !de->name_len)
		why = "empty name";
	if (!why)
		return true;
bad:
	aiosfs_error(dir->i_sb,
		     "directory inode %lu: %s at offset %u (rec_len %u, name_len %u, inode %u)",
		     dir->i_ino, why, offset,
		     offset + AIOSFS_DIRENT_HDR_LEN <= bs ? le16_to_cpu(de->rec_len) : 0,
		     offset + AIOSFS_DIRENT_HDR_LEN <= bs ? de->name_len : 0,
		     offset + AIOSFS_DIRENT_HDR_LEN <= bs ? le32_to_cpu(de->inode) : 0);
	return false;
}

static unsigned char aiosfs_dtype(struct super_block *sb, u8 file_type)
{
	if (!aiosfs_has_incompat(sb, AIOSFS_FEATURE_INCOMPAT_FILETYPE))
		return DT_UNKNOWN;
	return fs_ftype_to_dtype(file_type);
}

/* Emits the entries of one block at or after byte offset start. */
static int aiosfs_readdir_block(struct inode *dir, struct dir_context *ctx,
				const char *block, loff_t base, unsigned int start)
{
	unsigned int off, bs = dir->i_sb->s_blocksize;
	const struct aiosfs_dir_entry *de;

	for (off = 0; off < bs; off += le16_to_cpu(de->rec_len)) {
		if (!aiosfs_dirent_ok(dir, block, off))
			return -AIOSFS_EFSCORRUPTED;
		de = (const void *)block + off;
		if (off < start || !de->inode)
			continue;
		ctx->pos = base + off;
		if (!dir_emit(ctx, de->name, de->name_len, le32_to_cpu(de->inode),
			      aiosfs_dtype(dir->i_sb, de->file_type)))
			return 1;
		/* Past it: an error further on must not replay it forever. */
		ctx->pos = base + off + le16_to_cpu(de->rec_len);
	}
	return 0;
}

static int aiosfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	unsigned int bits = dir->i_blkbits;
	int err = 0;

	while (ctx->pos < dir->i_size) {
		u32 lblk = ctx->pos >> bits;
		loff_t base = (loff_t)lblk << bits;
		struct buffer_head *bh;

		if (fatal_signal_pending(current))
			return -ERESTARTSYS;
		bh = aiosfs_dir_bread(dir, lblk);
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		if (bh) {
			/* Any position inside the block resumes at the next entry. */
			err = aiosfs_readdir_block(dir, ctx, bh->b_data, base,
						   ctx->pos - base);
			brelse(bh);
			if (err < 0)
				return err;
			if (err)
				return 0;
		}
		ctx->pos = base + (1 << bits);
		cond_resched();
	}
	return 0;
}

const struct file_operations aiosfs_dir_operations = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= aiosfs_readdir,
	.fsync		= aiosfs_fsync,
};
