// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: directory blocks and readdir.
 *
 * readdir of a linear directory scans the blocks in order; positions are
 * byte offsets into it.  An indexed (htree) directory is read in hash
 * order instead, with hash positions as ext4 gives them, since adding a
 * name may split a leaf and move half of its names to a later block: a
 * scan by blocks would then see them twice, or miss the names a later
 * removal slides under its position.  Hash order does not move.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/fs_types.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "aiosfs.h"

bool aiosfs_dir_indexed(struct inode *dir)
{
	return (AIOSFS_I(dir)->i_flags & AIOSFS_INDEX_FL) &&
	       (AIOSFS_SB(dir->i_sb)->s_compat & AIOSFS_FEATURE_COMPAT_DIR_INDEX);
}

/*
 * As ext4: where the volume has dir_index, a directory of one block reads
 * in hash order too, with htree positions, so that a scan under way when
 * the block fills and the directory gets its index neither repeats names
 * nor skips them.
 */
static bool aiosfs_dir_hash_order(struct inode *dir)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(dir->i_sb);

	if (aiosfs_dir_indexed(dir))
		return true;
	return (sbi->s_compat & AIOSFS_FEATURE_COMPAT_DIR_INDEX) &&
	       i_size_read(dir) == dir->i_sb->s_blocksize &&
	       sbi->s_es->s_def_hash_version <= AIOSFS_HASH_TEA;
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

/*
 * htree positions: 0 is ".", 1 "..", then (major hash >> 1) << 32 | minor
 * hash, or for a 32-bit caller (whose off_t is 32 bits) the major hash >> 1
 * alone; the largest is the end.  Names whose positions are equal come in
 * one call if they fit; if not, the next call repeats them (a name is
 * never skipped).
 */
static bool aiosfs_dx_32bit(struct file *file)
{
	if (file->f_mode & FMODE_32BITHASH)
		return true;
	return !(file->f_mode & FMODE_64BITHASH) &&
	       (in_compat_syscall() || BITS_PER_LONG == 32);
}

static loff_t aiosfs_dx_eof(struct file *file)
{
	return aiosfs_dx_32bit(file) ? 0x7fffffff : LLONG_MAX;
}

static loff_t aiosfs_dx_pos(struct file *file, u32 major, u32 minor)
{
	loff_t pos = aiosfs_dx_32bit(file) ? major >> 1 : ((loff_t)(major >> 1) << 32) | minor;

	return clamp_t(loff_t, pos, 2, aiosfs_dx_eof(file) - 1);
}

static u32 aiosfs_dx_pos_major(struct file *file, loff_t pos)
{
	return aiosfs_dx_32bit(file) ? (u32)pos << 1 : (u32)(pos >> 32) << 1;
}

/* One name of the leaves being read: where it is, and its position. */
struct aiosfs_dx_name {
	loff_t pos;
	u16 leaf;		/* index in aiosfs_dx_group.bh */
	u16 off;
};

/* The leaves that hold the names at and after one hash, up to the next leaf's. */
struct aiosfs_dx_group {
	struct buffer_head **bh;
	unsigned int nr_bh, max_bh;
	struct aiosfs_dx_name *names;
	unsigned int nr, max;
	loff_t end;		/* the position the leaf after them starts at */
};

static int aiosfs_dx_name_cmp(const void *a, const void *b)
{
	const struct aiosfs_dx_name *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->leaf != y->leaf)
		return x->leaf < y->leaf ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void aiosfs_dx_group_free(struct aiosfs_dx_group *g)
{
	while (g->nr_bh)
		brelse(g->bh[--g->nr_bh]);
	kfree(g->bh);
	kvfree(g->names);
}

/* Takes in the names of one leaf that lie at or after pos. */
static int aiosfs_dx_group_add(struct file *file, struct aiosfs_dx_path *p,
			       struct aiosfs_dx_group *g, struct buffer_head *bh, loff_t pos)
{
	struct inode *dir = file_inode(file);
	unsigned int off, bs = dir->i_sb->s_blocksize;
	unsigned int most = bs / AIOSFS_DIR_REC_ALIGN / 3;	/* 12-byte entries at least */
	const struct aiosfs_dir_entry *de;
	u32 major, minor;
	int err;

	if (g->nr_bh == g->max_bh || g->nr + most > g->max) {
		unsigned int nb = max(8U, 2 * g->max_bh), nn = nb * most;
		void *b = krealloc_array(g->bh, nb, sizeof(*g->bh), GFP_KERNEL);
		void *n;

		err = -ENOMEM;
		if (!b)
			goto fail;
		g->bh = b;
		n = kvmalloc_array(nn, sizeof(*g->names), GFP_KERNEL);
		if (!n)
			goto fail;
		memcpy(n, g->names, g->nr * sizeof(*g->names));
		kvfree(g->names);
		g->names = n;
		g->max_bh = nb;
		g->max = nn;
	}
	g->bh[g->nr_bh] = bh;
	for (off = 0; off < bs; off += le16_to_cpu(de->rec_len)) {
		if (!aiosfs_dirent_ok(dir, bh->b_data, off))
			goto corrupt;
		de = (const void *)bh->b_data + off;
		/* "." and ".." of a one-block directory have positions 0 and 1. */
		if (!de->inode || (de->name_len <= 2 && de->name[0] == '.' &&
				   (de->name_len == 1 || de->name[1] == '.')))
			continue;
		err = aiosfs_dx_hash(dir, p, de->name, de->name_len, &major, &minor);
		if (err)
			goto fail;
		g->names[g->nr] = (struct aiosfs_dx_name){
			aiosfs_dx_pos(file, major, minor), g->nr_bh, off };
		if (g->names[g->nr].pos >= pos)
			g->nr++;
	}
	g->nr_bh++;
	return 0;
corrupt:
	err = -AIOSFS_EFSCORRUPTED;
fail:
	brelse(bh);
	return err;
}

/*
 * Gathers the leaf whose hash range holds pos, and those after it that
 * continue its last hash, so that every name of those hashes is there.
 */
static int aiosfs_dx_gather(struct file *file, loff_t pos, struct aiosfs_dx_group *g)
{
	struct inode *dir = file_inode(file);
	struct aiosfs_dx_path p;
	unsigned int steps;
	u32 leaf, next;
	int err;

	g->end = aiosfs_dx_eof(file);
	err = aiosfs_dx_probe_hash(dir, aiosfs_dx_pos_major(file, pos), &p);
	/* Bounded by the directory size, whatever the index says. */
	for (steps = 0; !err && steps < p.nblocks; steps++) {
		struct buffer_head *bh;

		err = aiosfs_dx_leaf(dir, &p, &leaf);
		if (err)
			break;
		bh = aiosfs_dir_bread(dir, leaf);
		if (IS_ERR_OR_NULL(bh)) {
			err = bh ? PTR_ERR(bh) : -AIOSFS_EFSCORRUPTED;
			break;
		}
		err = aiosfs_dx_group_add(file, &p, g, bh, pos);
		if (err)
			break;
		err = aiosfs_dx_next(dir, &p, NULL, &next);
		if (err <= 0)
			break;
		err = 0;
		if (!(next & 1)) {
			g->end = aiosfs_dx_pos(file, next, 0);
			break;
		}
	}
	aiosfs_dx_release(&p);
	if (!err && g->end <= pos) {
		aiosfs_error(dir->i_sb, "directory inode %lu: htree hashes out of order",
			     dir->i_ino);
		err = -AIOSFS_EFSCORRUPTED;
	}
	return err;
}

/* A directory of one block, not indexed yet: its names hashed as its index would. */
static int aiosfs_dx_gather_one(struct file *file, loff_t pos, struct aiosfs_dx_group *g)
{
	struct inode *dir = file_inode(file);
	struct aiosfs_sb_info *sbi = AIOSFS_SB(dir->i_sb);
	struct aiosfs_dx_path p = {
		.version = sbi->s_es->s_def_hash_version + sbi->s_hash_unsigned };
	struct buffer_head *bh;

	g->end = aiosfs_dx_eof(file);
	bh = aiosfs_dir_bread(dir, 0);
	if (IS_ERR_OR_NULL(bh))
		return bh ? PTR_ERR(bh) : -AIOSFS_EFSCORRUPTED;
	return aiosfs_dx_group_add(file, &p, g, bh, pos);
}

/* Emits the gathered names in position order; 1 when the caller's buffer is full. */
static int aiosfs_dx_emit(struct file *file, struct dir_context *ctx, struct aiosfs_dx_group *g)
{
	unsigned int i;

	sort(g->names, g->nr, sizeof(*g->names), aiosfs_dx_name_cmp, NULL);
	for (i = 0; i < g->nr; i++) {
		const struct aiosfs_dx_name *n = &g->names[i];
		const struct aiosfs_dir_entry *de = (const void *)g->bh[n->leaf]->b_data + n->off;

		ctx->pos = n->pos;
		if (!dir_emit(ctx, de->name, de->name_len, le32_to_cpu(de->inode),
			      aiosfs_dtype(file_inode(file)->i_sb, de->file_type)))
			return 1;
		/* The next name at the same position keeps it (see above). */
		if (i + 1 == g->nr || g->names[i + 1].pos != n->pos)
			ctx->pos = n->pos + 1;
	}
	ctx->pos = max(ctx->pos, g->end);
	return 0;
}

static int aiosfs_dx_readdir(struct file *file, struct dir_context *ctx)
{
	loff_t eof = aiosfs_dx_eof(file);
	int err = 0;

	if (ctx->pos == 0) {
		if (!dir_emit_dot(file, ctx))
			return 0;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		if (!dir_emit_dotdot(file, ctx))
			return 0;
		ctx->pos = 2;
	}
	while (!err && ctx->pos < eof) {
		struct aiosfs_dx_group g = {};

		if (fatal_signal_pending(current))
			return -ERESTARTSYS;
		if (aiosfs_dir_indexed(file_inode(file)))
			err = aiosfs_dx_gather(file, ctx->pos, &g);
		else
			err = aiosfs_dx_gather_one(file, ctx->pos, &g);
		if (!err)
			err = aiosfs_dx_emit(file, ctx, &g);
		aiosfs_dx_group_free(&g);
		cond_resched();
	}
	return err < 0 ? err : 0;
}

static int aiosfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	unsigned int bits = dir->i_blkbits;
	int err = 0;

	if (aiosfs_dir_hash_order(dir))
		return aiosfs_dx_readdir(file, ctx);

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

/* htree positions go past any file size (seekdir to what telldir gave). */
static loff_t aiosfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	loff_t eof;

	if (!aiosfs_dir_hash_order(file_inode(file)))
		return generic_file_llseek(file, offset, whence);
	eof = aiosfs_dx_eof(file);
	return generic_file_llseek_size(file, offset, whence, eof, eof);
}

const struct file_operations aiosfs_dir_operations = {
	.llseek		= aiosfs_dir_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= aiosfs_readdir,
	.fsync		= aiosfs_fsync,
};
