// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: name lookup.  Indexed directories are searched through the
 * htree: hash the name, descend from the root to the one leaf block whose
 * hash range holds it, and follow on to the next leaves only while they
 * continue the same hash (collisions that spilled over a block boundary).
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include "aiosfs.h"

struct aiosfs_dx_level {
	struct buffer_head *bh;
	struct aiosfs_dx_entry *entries;	/* entries[0].hash is the count/limit */
	unsigned int count;
	unsigned int at;
};

struct aiosfs_dx_path {
	struct aiosfs_dx_level lv[AIOSFS_DX_MAX_LEVELS_LARGEDIR];
	unsigned int levels;			/* index levels in use */
	u32 nblocks;				/* the directory's size in blocks */
};

/* Looks for name in one leaf block: its inode number, 0, or an error. */
static long aiosfs_search_block(struct inode *dir, const char *block, const struct qstr *name)
{
	unsigned int off, bs = dir->i_sb->s_blocksize;
	const struct aiosfs_dir_entry *de;

	for (off = 0; off < bs; off += le16_to_cpu(de->rec_len)) {
		if (!aiosfs_dirent_ok(dir, block, off))
			return -AIOSFS_EFSCORRUPTED;
		de = (const void *)block + off;
		if (de->inode && de->name_len == name->len &&
		    !memcmp(de->name, name->name, name->len))
			return le32_to_cpu(de->inode);
	}
	return 0;
}

static long aiosfs_search_lblk(struct inode *dir, u32 lblk, const struct qstr *name)
{
	struct buffer_head *bh = aiosfs_dir_bread(dir, lblk);
	long ino;

	if (IS_ERR_OR_NULL(bh))
		return PTR_ERR(bh);
	ino = aiosfs_search_block(dir, bh->b_data, name);
	brelse(bh);
	return ino;
}

static long aiosfs_find_linear(struct inode *dir, const struct qstr *name)
{
	u32 lblk, n = (dir->i_size + dir->i_sb->s_blocksize - 1) >> dir->i_blkbits;
	long ino;

	for (lblk = 0; lblk < n; lblk++) {
		ino = aiosfs_search_lblk(dir, lblk, name);
		if (ino)
			return ino;
		cond_resched();
	}
	return 0;
}

static long aiosfs_dx_bad(struct inode *dir, u32 lblk, const char *why)
{
	aiosfs_error(dir->i_sb, "directory inode %lu: htree block %u: %s", dir->i_ino, lblk, why);
	return -AIOSFS_EFSCORRUPTED;
}

/* Reads the index node at lblk into level lv; level 0 is the root. */
static long aiosfs_dx_read_node(struct inode *dir, struct aiosfs_dx_path *p, unsigned int lv,
				u32 lblk)
{
	struct aiosfs_dx_level *l = &p->lv[lv];
	unsigned int off = lv ? AIOSFS_DX_NODE_COUNT_OFFSET : AIOSFS_DX_ROOT_COUNT_OFFSET;
	unsigned int limit, tail = AIOSFS_SB(dir->i_sb)->s_has_csum ?
				   sizeof(struct aiosfs_dx_tail) : 0;
	struct aiosfs_dx_countlimit *cl;

	if (lblk >= p->nblocks || (lv && !lblk))
		return aiosfs_dx_bad(dir, lblk, "index points outside the directory");
	l->bh = aiosfs_dir_bread(dir, lblk);
	if (IS_ERR_OR_NULL(l->bh)) {
		long err = l->bh ? PTR_ERR(l->bh) : aiosfs_dx_bad(dir, lblk, "hole");

		l->bh = NULL;
		return err;
	}
	if (!aiosfs_is_dx_block(dir, lblk, l->bh->b_data))
		return aiosfs_dx_bad(dir, lblk, "not an index node");
	cl = (void *)l->bh->b_data + off;
	limit = le16_to_cpu(cl->limit);
	l->count = le16_to_cpu(cl->count);
	if (!l->count || l->count > limit ||
	    off + limit * sizeof(struct aiosfs_dx_entry) + tail > dir->i_sb->s_blocksize)
		return aiosfs_dx_bad(dir, lblk, "bad entry count or limit");
	l->entries = (void *)cl;
	l->at = 0;
	return 0;
}

/* In level lv, the last entry whose hash is <= hash (entry 0 covers all below). */
static void aiosfs_dx_find(struct aiosfs_dx_level *l, u32 hash)
{
	unsigned int lo = 1, hi = l->count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (le32_to_cpu(l->entries[mid].hash) <= hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	l->at = lo - 1;
}

static u32 aiosfs_dx_block(struct aiosfs_dx_level *l)
{
	/* The top byte is reserved on disk. */
	return le32_to_cpu(l->entries[l->at].block) & 0x00ffffff;
}

static long aiosfs_dx_root(struct inode *dir, struct aiosfs_dx_path *p, unsigned int *version)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(dir->i_sb);
	const struct aiosfs_dir_entry *dot, *dotdot;
	const struct aiosfs_dx_root_info *info;
	unsigned int max_levels = aiosfs_has_incompat(dir->i_sb, AIOSFS_FEATURE_INCOMPAT_LARGEDIR) ?
				  AIOSFS_DX_MAX_LEVELS_LARGEDIR : AIOSFS_DX_MAX_LEVELS;
	const char *block;
	long err;

	err = aiosfs_dx_read_node(dir, p, 0, 0);
	if (err)
		return err;
	block = p->lv[0].bh->b_data;
	dot = (const void *)block;
	dotdot = (const void *)block + 12;
	info = (const void *)block + 24;
	if (le16_to_cpu(dot->rec_len) != 12 || dot->name_len != 1 ||
	    le16_to_cpu(dotdot->rec_len) != dir->i_sb->s_blocksize - 12 ||
	    dotdot->name_len != 2 || info->reserved_zero ||
	    info->info_length != sizeof(*info))
		return aiosfs_dx_bad(dir, 0, "bad htree root");
	if (info->indirect_levels >= max_levels)
		return aiosfs_dx_bad(dir, 0, "too many levels");
	p->levels = info->indirect_levels + 1;
	*version = info->hash_version;
	if (*version <= AIOSFS_HASH_TEA)
		*version += sbi->s_hash_unsigned;
	return 0;
}

/* Moves to the next leaf if it continues hash; 1 if it did, 0 if not. */
static long aiosfs_dx_next(struct inode *dir, struct aiosfs_dx_path *p, u32 hash)
{
	int lv = p->levels - 1;
	long err;

	while (lv >= 0 && p->lv[lv].at + 1 >= p->lv[lv].count)
		lv--;
	if (lv < 0)
		return 0;
	p->lv[lv].at++;
	if ((le32_to_cpu(p->lv[lv].entries[p->lv[lv].at].hash) & ~1U) != hash)
		return 0;
	/* Re-read the nodes below, each from its first entry. */
	while (++lv < p->levels) {
		brelse(p->lv[lv].bh);
		p->lv[lv].bh = NULL;
		err = aiosfs_dx_read_node(dir, p, lv, aiosfs_dx_block(&p->lv[lv - 1]));
		if (err)
			return err;
	}
	return 1;
}

static long aiosfs_find_dx(struct inode *dir, const struct qstr *name)
{
	struct aiosfs_dx_path p = { .nblocks = dir->i_size >> dir->i_blkbits };
	unsigned int version, lv, steps;
	long ret;
	u32 hash;

	ret = aiosfs_dx_root(dir, &p, &version);
	if (ret)
		goto out;
	if (aiosfs_dirhash(version, AIOSFS_SB(dir->i_sb)->s_hash_seed, name->name, name->len,
			   &hash)) {
		ret = aiosfs_dx_bad(dir, 0, "unsupported hash version");
		goto out;
	}
	for (lv = 0; lv < p.levels; lv++) {
		if (lv) {
			ret = aiosfs_dx_read_node(dir, &p, lv, aiosfs_dx_block(&p.lv[lv - 1]));
			if (ret)
				goto out;
		}
		aiosfs_dx_find(&p.lv[lv], hash);
	}
	/* Bounded by the directory size, whatever the index says. */
	for (steps = 0; steps < p.nblocks; steps++) {
		u32 leaf = aiosfs_dx_block(&p.lv[p.levels - 1]);

		if (!leaf || leaf >= p.nblocks) {
			ret = aiosfs_dx_bad(dir, leaf, "leaf outside the directory");
			goto out;
		}
		ret = aiosfs_search_lblk(dir, leaf, name);
		if (ret)
			goto out;
		ret = aiosfs_dx_next(dir, &p, hash);
		if (ret <= 0)
			goto out;
	}
	ret = 0;
out:
	for (lv = 0; lv < ARRAY_SIZE(p.lv); lv++)
		brelse(p.lv[lv].bh);
	return ret;
}

static struct dentry *aiosfs_lookup(struct inode *dir, struct dentry *dentry,
				    unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	struct inode *inode = NULL;
	long ino;

	if (dentry->d_name.len > AIOSFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	if ((AIOSFS_I(dir)->i_flags & AIOSFS_INDEX_FL) &&
	    (AIOSFS_SB(sb)->s_compat & AIOSFS_FEATURE_COMPAT_DIR_INDEX))
		ino = aiosfs_find_dx(dir, &dentry->d_name);
	else
		ino = aiosfs_find_linear(dir, &dentry->d_name);
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

const struct inode_operations aiosfs_dir_inode_operations = {
	.lookup		= aiosfs_lookup,
	.getattr	= aiosfs_getattr,
	.listxattr	= aiosfs_listxattr,
};
