// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: finding, adding and removing directory entries.
 *
 * A leaf block is a chain of entries whose rec_len covers the block up to
 * the checksum tail (metadata_csum).  An entry's rec_len may exceed what
 * its name needs: that slack, and entries with inode 0, take new names.
 *
 * Indexed directories are htrees: block 0 holds "." and "..", whose
 * rec_len hides the root of the index; interior nodes are blocks holding
 * one empty entry of a whole block, followed by the index entries.  Each
 * index entry maps the hashes from its own up to the next one's to a
 * block.  A lookup hashes the name, descends to the one leaf whose range
 * holds it and follows on to the next leaves only while they continue the
 * same hash (bit 0 of an index hash says the previous leaf's last hash
 * spilled over into this one).  A full leaf is split by hash, a full node
 * in half; a full root moves its entries to a new node, one level down.
 *
 * The caller holds the directory's i_rwsem for write (lookups for read),
 * so nothing else reads or changes its blocks meanwhile.
 */
#include <linux/fs.h>
#include <linux/fs_types.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "aiosfs.h"

/* The space an entry with a name of len bytes needs. */
#define AIOSFS_DIRENT_LEN(len)	ALIGN(AIOSFS_DIRENT_HDR_LEN + (len), AIOSFS_DIR_REC_ALIGN)

/* dx entries hold a block number in their low 24 bits; stay below. */
#define AIOSFS_DIR_MAX_BLOCKS	0x00ffffffU

/* A live entry of a leaf being split or converted, by its offset. */
struct aiosfs_dmap {
	u32 hash;
	u16 off;
	u16 len;
};

static unsigned int aiosfs_rlen(const struct aiosfs_dir_entry *de)
{
	return le16_to_cpu(de->rec_len);
}

/* Where the entries of a leaf end: before the checksum tail, if any. */
static unsigned int aiosfs_leaf_end(struct super_block *sb)
{
	return sb->s_blocksize - (AIOSFS_SB(sb)->s_has_csum ? sizeof(struct aiosfs_dir_tail) : 0);
}

static unsigned int aiosfs_dx_limit(struct super_block *sb, unsigned int count_offset)
{
	unsigned int tail = AIOSFS_SB(sb)->s_has_csum ? sizeof(struct aiosfs_dx_tail) : 0;

	return (sb->s_blocksize - count_offset - tail) / sizeof(struct aiosfs_dx_entry);
}

static u8 aiosfs_ftype(struct super_block *sb, umode_t mode)
{
	if (!aiosfs_has_incompat(sb, AIOSFS_FEATURE_INCOMPAT_FILETYPE))
		return AIOSFS_FT_UNKNOWN;
	return fs_umode_to_ftype(mode);
}

static bool aiosfs_name_is(const struct aiosfs_dir_entry *de, const char *name,
			   unsigned int len)
{
	return de->name_len == len && !memcmp(de->name, name, len);
}

static int aiosfs_dir_bad(struct inode *dir, u32 lblk, const char *why)
{
	aiosfs_error(dir->i_sb, "directory inode %lu block %u: %s", dir->i_ino, lblk, why);
	return -AIOSFS_EFSCORRUPTED;
}

/* A block of the directory that must exist: holes are corruption. */
static struct buffer_head *aiosfs_dir_bread_some(struct inode *dir, u32 lblk)
{
	struct buffer_head *bh = aiosfs_dir_bread(dir, lblk);

	if (!bh)
		return ERR_PTR(aiosfs_dir_bad(dir, lblk, "hole in a directory"));
	return bh;
}

/* The offset of name's entry in a leaf block, -ENOENT, or -EFSCORRUPTED. */
static int aiosfs_search_block(struct inode *dir, const char *block, const struct qstr *name)
{
	unsigned int off, bs = dir->i_sb->s_blocksize;
	const struct aiosfs_dir_entry *de;

	for (off = 0; off < bs; off += aiosfs_rlen(de)) {
		if (!aiosfs_dirent_ok(dir, block, off))
			return -AIOSFS_EFSCORRUPTED;
		de = (const void *)block + off;
		if (de->inode && aiosfs_name_is(de, name->name, name->len))
			return off;
	}
	return -ENOENT;
}

/* Looks for name in block lblk: 1 (loc filled) if there, 0 if not, or an error. */
static long aiosfs_search_lblk(struct inode *dir, u32 lblk, const struct qstr *name,
			       struct aiosfs_dirent_loc *loc)
{
	struct buffer_head *bh = aiosfs_dir_bread(dir, lblk);
	int off;

	if (IS_ERR_OR_NULL(bh))
		return PTR_ERR(bh);
	off = aiosfs_search_block(dir, bh->b_data, name);
	if (off < 0) {
		brelse(bh);
		return off == -ENOENT ? 0 : off;
	}
	loc->bh = bh;
	loc->off = off;
	return 1;
}

static long aiosfs_find_linear(struct inode *dir, const struct qstr *name,
			       struct aiosfs_dirent_loc *loc)
{
	u32 lblk, n = (dir->i_size + dir->i_sb->s_blocksize - 1) >> dir->i_blkbits;
	long ret;

	for (lblk = 0; lblk < n; lblk++) {
		ret = aiosfs_search_lblk(dir, lblk, name, loc);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* Reads the index node at lblk into level lv; level 0 is the root. */
static int aiosfs_dx_read_node(struct inode *dir, struct aiosfs_dx_path *p, unsigned int lv,
			       u32 lblk)
{
	struct aiosfs_dx_level *l = &p->lv[lv];
	unsigned int off = lv ? AIOSFS_DX_NODE_COUNT_OFFSET : AIOSFS_DX_ROOT_COUNT_OFFSET;
	unsigned int tail = AIOSFS_SB(dir->i_sb)->s_has_csum ? sizeof(struct aiosfs_dx_tail) : 0;
	struct aiosfs_dx_countlimit *cl;

	if (lblk >= p->nblocks || (lv && !lblk))
		return aiosfs_dir_bad(dir, lblk, "index points outside the directory");
	l->bh = aiosfs_dir_bread_some(dir, lblk);
	if (IS_ERR(l->bh)) {
		int err = PTR_ERR(l->bh);

		l->bh = NULL;
		return err;
	}
	if (!aiosfs_is_dx_block(dir, lblk, l->bh->b_data))
		return aiosfs_dir_bad(dir, lblk, "not an index node");
	cl = (void *)l->bh->b_data + off;
	l->limit = le16_to_cpu(cl->limit);
	l->count = le16_to_cpu(cl->count);
	if (!l->count || l->count > l->limit ||
	    off + l->limit * sizeof(struct aiosfs_dx_entry) + tail > dir->i_sb->s_blocksize)
		return aiosfs_dir_bad(dir, lblk, "bad index entry count or limit");
	l->entries = (void *)cl;
	l->at = 0;
	return 0;
}

/* In level l, the last entry whose hash is <= hash (entry 0 covers all below). */
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
	return le32_to_cpu(l->entries[l->at].block) & AIOSFS_DIR_MAX_BLOCKS;
}

static unsigned int aiosfs_dx_max_levels(struct super_block *sb)
{
	return aiosfs_has_incompat(sb, AIOSFS_FEATURE_INCOMPAT_LARGEDIR) ?
	       AIOSFS_DX_MAX_LEVELS_LARGEDIR : AIOSFS_DX_MAX_LEVELS;
}

static int aiosfs_dx_root(struct inode *dir, struct aiosfs_dx_path *p)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(dir->i_sb);
	const struct aiosfs_dir_entry *dot, *dotdot;
	const struct aiosfs_dx_root_info *info;
	const char *block;
	int err;

	err = aiosfs_dx_read_node(dir, p, 0, 0);
	if (err)
		return err;
	block = p->lv[0].bh->b_data;
	dot = (const void *)block;
	dotdot = (const void *)block + 12;
	info = (const void *)block + 24;
	if (aiosfs_rlen(dot) != 12 || dot->name_len != 1 ||
	    aiosfs_rlen(dotdot) != dir->i_sb->s_blocksize - 12 ||
	    dotdot->name_len != 2 || info->reserved_zero ||
	    info->info_length != sizeof(*info))
		return aiosfs_dir_bad(dir, 0, "bad htree root");
	if (info->indirect_levels >= aiosfs_dx_max_levels(dir->i_sb))
		return aiosfs_dir_bad(dir, 0, "too many htree levels");
	p->levels = info->indirect_levels + 1;
	p->version = info->hash_version;
	if (p->version <= AIOSFS_HASH_TEA)
		p->version += sbi->s_hash_unsigned;
	return 0;
}

void aiosfs_dx_release(struct aiosfs_dx_path *p)
{
	unsigned int lv;

	for (lv = 0; lv < ARRAY_SIZE(p->lv); lv++) {
		brelse(p->lv[lv].bh);
		p->lv[lv].bh = NULL;
	}
}

int aiosfs_dx_hash(struct inode *dir, struct aiosfs_dx_path *p, const char *name,
		   unsigned int len, u32 *hash, u32 *minor)
{
	if (aiosfs_dirhash(p->version, AIOSFS_SB(dir->i_sb)->s_hash_seed, name, len, hash, minor))
		return aiosfs_dir_bad(dir, 0, "unsupported hash version");
	return 0;
}

/* Descends from the root (read already) to the leaf whose range holds p->hash. */
static int aiosfs_dx_descend(struct inode *dir, struct aiosfs_dx_path *p)
{
	unsigned int lv;
	int err = 0;

	for (lv = 0; !err && lv < p->levels; lv++) {
		if (lv)
			err = aiosfs_dx_read_node(dir, p, lv, aiosfs_dx_block(&p->lv[lv - 1]));
		if (!err)
			aiosfs_dx_find(&p->lv[lv], p->hash);
	}
	return err;
}

static int aiosfs_dx_start(struct inode *dir, struct aiosfs_dx_path *p)
{
	memset(p, 0, sizeof(*p));
	p->nblocks = dir->i_size >> dir->i_blkbits;
	return aiosfs_dx_root(dir, p);
}

/* Hashes name and descends from the root to the leaf whose range holds it. */
static int aiosfs_dx_probe(struct inode *dir, const struct qstr *name, struct aiosfs_dx_path *p)
{
	int err = aiosfs_dx_start(dir, p);

	if (!err)
		err = aiosfs_dx_hash(dir, p, name->name, name->len, &p->hash, NULL);
	return err ?: aiosfs_dx_descend(dir, p);
}

int aiosfs_dx_probe_hash(struct inode *dir, u32 hash, struct aiosfs_dx_path *p)
{
	int err = aiosfs_dx_start(dir, p);

	p->hash = hash;
	return err ?: aiosfs_dx_descend(dir, p);
}

/* The leaf the probe ended at, checked to lie inside the directory. */
int aiosfs_dx_leaf(struct inode *dir, struct aiosfs_dx_path *p, u32 *leaf)
{
	*leaf = aiosfs_dx_block(&p->lv[p->levels - 1]);
	if (!*leaf || *leaf >= p->nblocks)
		return aiosfs_dir_bad(dir, *leaf, "leaf outside the directory");
	return 0;
}

/*
 * Moves to the next leaf, if @hash only when that leaf continues *hash;
 * 1 if it did (its index hash in *next), 0 if not.
 */
int aiosfs_dx_next(struct inode *dir, struct aiosfs_dx_path *p, const u32 *hash, u32 *next)
{
	int lv = p->levels - 1;
	u32 h;
	int err;

	while (lv >= 0 && p->lv[lv].at + 1 >= p->lv[lv].count)
		lv--;
	if (lv < 0)
		return 0;
	p->lv[lv].at++;
	h = le32_to_cpu(p->lv[lv].entries[p->lv[lv].at].hash);
	if (hash && (h & ~1U) != *hash)
		return 0;
	if (next)
		*next = h;
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

static long aiosfs_find_dx(struct inode *dir, const struct qstr *name,
			   struct aiosfs_dirent_loc *loc)
{
	struct aiosfs_dx_path p;
	unsigned int steps;
	long ret;
	u32 leaf;

	ret = aiosfs_dx_probe(dir, name, &p);
	/* Bounded by the directory size, whatever the index says. */
	for (steps = 0; !ret && steps < p.nblocks; steps++) {
		ret = aiosfs_dx_leaf(dir, &p, &leaf);
		if (ret)
			break;
		ret = aiosfs_search_lblk(dir, leaf, name, loc);
		if (ret)
			break;
		ret = aiosfs_dx_next(dir, &p, &p.hash, NULL);
		if (ret <= 0)
			break;
		ret = 0;
	}
	aiosfs_dx_release(&p);
	return ret;
}

long aiosfs_find_entry(struct inode *dir, const struct qstr *name, struct aiosfs_dirent_loc *loc)
{
	struct aiosfs_dirent_loc tmp;
	struct aiosfs_dirent_loc *l = loc ? loc : &tmp;
	const struct aiosfs_dir_entry *de;
	long ret;

	if (aiosfs_dir_indexed(dir))
		ret = aiosfs_find_dx(dir, name, l);
	else
		ret = aiosfs_find_linear(dir, name, l);
	if (ret <= 0)
		return ret;
	de = (const void *)l->bh->b_data + l->off;
	ret = le32_to_cpu(de->inode);
	if (!loc)
		brelse(tmp.bh);
	return ret;
}

/* Free space in an entry: its slack, or all of it if unused. */
static unsigned int aiosfs_dirent_room(const struct aiosfs_dir_entry *de)
{
	if (!de->inode)
		return aiosfs_rlen(de);
	return aiosfs_rlen(de) - AIOSFS_DIRENT_LEN(de->name_len);
}

/*
 * The offset of the first entry of a leaf with room for a name of len
 * bytes, -ENOSPC if none has (*room: the free bytes of all), or
 * -EFSCORRUPTED.
 */
static int aiosfs_find_slot(struct inode *dir, u32 lblk, const char *block, unsigned int len,
			    unsigned int *room)
{
	unsigned int off, end = aiosfs_leaf_end(dir->i_sb), need = AIOSFS_DIRENT_LEN(len);
	const struct aiosfs_dir_entry *de;

	*room = 0;
	for (off = 0; off < end; off += aiosfs_rlen(de)) {
		if (!aiosfs_dirent_ok(dir, block, off))
			return -AIOSFS_EFSCORRUPTED;
		de = (const void *)block + off;
		if (off + aiosfs_rlen(de) > end)
			return aiosfs_dir_bad(dir, lblk, "entry runs into the checksum tail");
		if (aiosfs_dirent_room(de) >= need)
			return off;
		*room += aiosfs_dirent_room(de);
	}
	return -ENOSPC;
}

/* Writes name -> inode into the entry at off (or into its slack). */
static void aiosfs_put_entry(struct inode *dir, char *block, unsigned int off,
			     const struct qstr *name, struct inode *inode)
{
	struct aiosfs_dir_entry *de = (void *)block + off;
	unsigned int rlen = aiosfs_rlen(de);

	if (de->inode) {
		unsigned int used = AIOSFS_DIRENT_LEN(de->name_len);

		de->rec_len = cpu_to_le16(used);
		de = (void *)de + used;
		rlen -= used;
	}
	de->inode = cpu_to_le32(inode->i_ino);
	de->rec_len = cpu_to_le16(rlen);
	de->name_len = name->len;
	de->file_type = aiosfs_ftype(dir->i_sb, inode->i_mode);
	memcpy(de->name, name->name, name->len);
}

static int aiosfs_leaf_insert(struct aiosfs_handle *h, struct inode *dir, struct buffer_head *bh,
			      unsigned int off, const struct qstr *name, struct inode *inode)
{
	int err = aiosfs_journal_get_write_access(h, bh);

	if (err)
		return err;
	aiosfs_put_entry(dir, bh->b_data, off, name, inode);
	aiosfs_dirblock_csum_set(dir, bh->b_data);
	return aiosfs_journal_dirty_metadata(h, bh);
}

/* An empty leaf: one unused entry up to the tail (whose checksum the caller sets). */
static void aiosfs_init_leaf(struct super_block *sb, char *block)
{
	struct aiosfs_dir_entry *de = (void *)block;

	memset(block, 0, sb->s_blocksize);
	de->rec_len = cpu_to_le16(aiosfs_leaf_end(sb));
	if (AIOSFS_SB(sb)->s_has_csum)
		aiosfs_dirblock_init_tail(sb, block);
}

/*
 * A new block at the end of the directory, holding an empty leaf (so that
 * the directory is valid whatever the caller does next), with i_size grown
 * and the inode written.  The caller may rewrite the block.
 */
static struct buffer_head *aiosfs_dir_append(struct aiosfs_handle *h, struct inode *dir,
					     u32 *lblkp)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(dir);
	u32 lblk = dir->i_size >> dir->i_blkbits;
	struct aiosfs_map map;
	struct buffer_head *bh;
	int err;

	if (lblk >= AIOSFS_DIR_MAX_BLOCKS)
		return ERR_PTR(-ENOSPC);
	down_write(&ei->i_data_sem);
	err = aiosfs_ext_map_create(h, dir, lblk, 1, AIOSFS_GET_CREATE, &map);
	up_write(&ei->i_data_sem);
	if (err)
		return ERR_PTR(err);
	if (!map.m_pblk || map.m_unwritten) {
		/* Blocks past i_size that someone left unwritten: not ours to guess. */
		return ERR_PTR(aiosfs_dir_bad(dir, lblk, "unwritten block past the end"));
	}
	bh = sb_getblk(dir->i_sb, map.m_pblk);
	if (!bh)
		return ERR_PTR(-ENOMEM);
	err = aiosfs_journal_get_create_access(h, bh);
	if (err)
		goto out;
	lock_buffer(bh);
	aiosfs_init_leaf(dir->i_sb, bh->b_data);
	aiosfs_dirblock_csum_set(dir, bh->b_data);
	set_buffer_uptodate(bh);
	unlock_buffer(bh);
	aiosfs_set_buffer_verified(bh);
	err = aiosfs_journal_dirty_metadata(h, bh);
	if (err)
		goto out;
	i_size_write(dir, (loff_t)(lblk + 1) << dir->i_blkbits);
	ei->i_disksize = dir->i_size;
	err = aiosfs_mark_inode_dirty(h, dir);
	if (err)
		goto out;
	*lblkp = lblk;
	return bh;
out:
	brelse(bh);
	return ERR_PTR(err);
}

/*
 * Rebuilds block as a leaf holding the entries map[0, n) of src, packed
 * from its start; the last one takes the rest of the block.
 */
static void aiosfs_pack_leaf(struct inode *dir, char *block, const char *src,
			     const struct aiosfs_dmap *map, unsigned int n)
{
	struct aiosfs_dir_entry *de = NULL;
	unsigned int i, off = 0;

	aiosfs_init_leaf(dir->i_sb, block);
	for (i = 0; i < n; i++) {
		de = (void *)block + off;
		memcpy(de, src + map[i].off, map[i].len);
		de->rec_len = cpu_to_le16(map[i].len);
		off += map[i].len;
	}
	if (de)
		de->rec_len = cpu_to_le16(aiosfs_leaf_end(dir->i_sb) - (off - map[n - 1].len));
	aiosfs_dirblock_csum_set(dir, block);
}

/*
 * The live entries of a leaf from offset start, in block order, with their
 * hashes if p is given; the sizes fit the u16s as blocks are at most 64 KiB.
 */
static int aiosfs_map_leaf(struct inode *dir, struct aiosfs_dx_path *p, const char *block,
			   unsigned int start, struct aiosfs_dmap *map, unsigned int *n)
{
	unsigned int off, end = aiosfs_leaf_end(dir->i_sb);
	const struct aiosfs_dir_entry *de;
	int err;

	*n = 0;
	for (off = start; off < end; off += aiosfs_rlen(de)) {
		if (!aiosfs_dirent_ok(dir, block, off))
			return -AIOSFS_EFSCORRUPTED;
		de = (const void *)block + off;
		if (!de->inode)
			continue;
		map[*n].off = off;
		map[*n].len = AIOSFS_DIRENT_LEN(de->name_len);
		map[*n].hash = 0;
		if (p) {
			err = aiosfs_dx_hash(dir, p, de->name, de->name_len, &map[*n].hash, NULL);
			if (err)
				return err;
		}
		(*n)++;
	}
	return 0;
}

/*
 * A copy of the leaf bh, to pack entries from while bh itself is
 * rewritten, and the map of its live entries from offset start (see
 * aiosfs_map_leaf()).  *copy is to be freed, also after an error.
 */
static int aiosfs_leaf_snapshot(struct inode *dir, struct aiosfs_dx_path *p,
				struct buffer_head *bh, unsigned int start, char **copy,
				struct aiosfs_dmap **map, unsigned int *n)
{
	struct super_block *sb = dir->i_sb;
	unsigned int nmax = sb->s_blocksize / AIOSFS_DIRENT_LEN(1);

	*copy = kmalloc(sb->s_blocksize + nmax * sizeof(**map), GFP_NOFS);
	if (!*copy)
		return -ENOMEM;
	*map = (void *)(*copy + sb->s_blocksize);
	memcpy(*copy, bh->b_data, sb->s_blocksize);
	return aiosfs_map_leaf(dir, p, *copy, start, *map, n);
}

static void aiosfs_init_dx_node(struct super_block *sb, char *block, unsigned int count)
{
	struct aiosfs_dir_entry *fake = (void *)block;
	struct aiosfs_dx_countlimit *cl = (void *)block + AIOSFS_DX_NODE_COUNT_OFFSET;

	memset(block, 0, sb->s_blocksize);
	/* One unused entry over the whole block, so that readdir skips it. */
	fake->rec_len = cpu_to_le16(sb->s_blocksize);
	cl->limit = cpu_to_le16(aiosfs_dx_limit(sb, AIOSFS_DX_NODE_COUNT_OFFSET));
	cl->count = cpu_to_le16(count);
}

static unsigned int aiosfs_dx_count_offset(unsigned int lv)
{
	return lv ? AIOSFS_DX_NODE_COUNT_OFFSET : AIOSFS_DX_ROOT_COUNT_OFFSET;
}

/* Stores level lv's count and checksum and journals its block. */
static int aiosfs_dx_level_dirty(struct aiosfs_handle *h, struct inode *dir,
				 struct aiosfs_dx_path *p, unsigned int lv)
{
	struct aiosfs_dx_level *l = &p->lv[lv];
	struct aiosfs_dx_countlimit *cl = (void *)l->entries;

	cl->count = cpu_to_le16(l->count);
	aiosfs_dx_csum_set(dir, l->bh->b_data, aiosfs_dx_count_offset(lv));
	return aiosfs_journal_dirty_metadata(h, l->bh);
}

/* Adds (hash, blk) to level lv right after the entry the path followed. */
static int aiosfs_dx_insert(struct aiosfs_handle *h, struct inode *dir, struct aiosfs_dx_path *p,
			    unsigned int lv, u32 hash, u32 blk)
{
	struct aiosfs_dx_level *l = &p->lv[lv];
	struct aiosfs_dx_entry *e;
	int err;

	if (WARN_ON_ONCE(l->count >= l->limit))
		return -EIO;
	err = aiosfs_journal_get_write_access(h, l->bh);
	if (err)
		return err;
	e = &l->entries[l->at + 1];
	memmove(e + 1, e, (l->count - l->at - 1) * sizeof(*e));
	e->hash = cpu_to_le32(hash);
	e->block = cpu_to_le32(blk);
	l->count++;
	return aiosfs_dx_level_dirty(h, dir, p, lv);
}

static int aiosfs_dmap_cmp(const void *a, const void *b)
{
	const struct aiosfs_dmap *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int aiosfs_dmap_cmp_off(const void *a, const void *b)
{
	const struct aiosfs_dmap *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Removes the entries map[0, n) (in block order) from a leaf, each merged
 * into the entry before it.  The others stay where they are: a readdir
 * that stopped inside this block resumes by offset and must not miss one.
 */
static void aiosfs_leaf_remove(struct inode *dir, char *block, const struct aiosfs_dmap *map,
			       unsigned int n)
{
	unsigned int off, rlen, i = 0, end = aiosfs_leaf_end(dir->i_sb);
	struct aiosfs_dir_entry *de, *prev = NULL;

	/* The caller mapped this block: its entries are sound. */
	for (off = 0; off < end && i < n; off += rlen) {
		de = (void *)block + off;
		rlen = aiosfs_rlen(de);
		if (off != map[i].off) {
			prev = de;
			continue;
		}
		i++;
		if (prev) {
			prev->rec_len = cpu_to_le16(aiosfs_rlen(prev) + rlen);
		} else {
			de->inode = 0;
			prev = de;
		}
	}
	WARN_ON_ONCE(i != n);
	aiosfs_dirblock_csum_set(dir, block);
}

/*
 * Splits the full leaf bh (where the path ends) by hash: the upper half
 * of its entries (by size) moves to a new block, which gets an index entry
 * after the leaf's.  Equal hashes may straddle the boundary; the new
 * entry's hash then has bit 0 set, so lookups continue into it.  A readdir
 * running meanwhile may see a moved entry twice (readdir is by block
 * offset), never miss one.
 */
static int aiosfs_dx_split_leaf(struct aiosfs_handle *h, struct inode *dir,
				struct aiosfs_dx_path *p, struct buffer_head *bh, u32 leaf)
{
	unsigned int i, n, split, moved = 0, total = 0;
	struct buffer_head *bh2 = NULL;
	struct aiosfs_dmap *map;
	u32 hash2, nblk;
	char *tmp;
	int err;

	err = aiosfs_leaf_snapshot(dir, p, bh, 0, &tmp, &map, &n);
	if (err)
		goto out;
	if (n < 2) {
		/* One entry cannot fill a block that has no room for another. */
		err = aiosfs_dir_bad(dir, leaf, "full leaf with fewer than two entries");
		goto out;
	}
	sort(map, n, sizeof(*map), aiosfs_dmap_cmp, NULL);
	for (i = 0; i < n; i++)
		total += map[i].len;
	/* Move entries from the top until half the bytes are gone (1 <= split < n). */
	for (split = n; split > 1 && moved < total / 2; )
		moved += map[--split].len;
	hash2 = map[split].hash;
	if (map[split - 1].hash == hash2)
		hash2 |= 1;

	bh2 = aiosfs_dir_append(h, dir, &nblk);
	if (IS_ERR(bh2)) {
		err = PTR_ERR(bh2);
		bh2 = NULL;
		goto out;
	}
	err = aiosfs_journal_get_write_access(h, bh2);
	if (err)
		goto out;
	aiosfs_pack_leaf(dir, bh2->b_data, tmp, map + split, n - split);
	err = aiosfs_journal_dirty_metadata(h, bh2);
	if (err)
		goto out;
	err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		goto out;
	sort(map + split, n - split, sizeof(*map), aiosfs_dmap_cmp_off, NULL);
	aiosfs_leaf_remove(dir, bh->b_data, map + split, n - split);
	err = aiosfs_journal_dirty_metadata(h, bh);
	if (err)
		goto out;
	err = aiosfs_dx_insert(h, dir, p, p->levels - 1, hash2, nblk);
out:
	brelse(bh2);
	kfree(tmp);
	return err;
}

/* Splits the full index node at level lv (>= 1), whose parent has room. */
static int aiosfs_dx_split_node(struct aiosfs_handle *h, struct inode *dir,
				struct aiosfs_dx_path *p, unsigned int lv)
{
	struct aiosfs_dx_level *l = &p->lv[lv];
	unsigned int split = l->count / 2, moved = l->count - split;
	struct aiosfs_dx_entry *e2;
	struct buffer_head *bh2;
	u32 hash2, nblk;
	int err;

	bh2 = aiosfs_dir_append(h, dir, &nblk);
	if (IS_ERR(bh2))
		return PTR_ERR(bh2);
	err = aiosfs_journal_get_write_access(h, bh2);
	if (err)
		goto out;
	aiosfs_init_dx_node(dir->i_sb, bh2->b_data, moved);
	e2 = (void *)bh2->b_data + AIOSFS_DX_NODE_COUNT_OFFSET;
	/* The first entry's hash is implied by the parent's entry (below). */
	hash2 = le32_to_cpu(l->entries[split].hash);
	e2[0].block = l->entries[split].block;
	memcpy(&e2[1], &l->entries[split + 1], (moved - 1) * sizeof(*e2));
	aiosfs_dx_csum_set(dir, bh2->b_data, AIOSFS_DX_NODE_COUNT_OFFSET);
	err = aiosfs_journal_dirty_metadata(h, bh2);
	if (err)
		goto out;
	err = aiosfs_journal_get_write_access(h, l->bh);
	if (err)
		goto out;
	l->count = split;
	err = aiosfs_dx_level_dirty(h, dir, p, lv);
	if (err)
		goto out;
	err = aiosfs_dx_insert(h, dir, p, lv - 1, hash2, nblk);
out:
	brelse(bh2);
	return err;
}

/* The root is full: its entries move to a new node, one level down. */
static int aiosfs_dx_add_level(struct aiosfs_handle *h, struct inode *dir,
			       struct aiosfs_dx_path *p)
{
	struct aiosfs_dx_level *root = &p->lv[0];
	struct aiosfs_dx_root_info *info;
	struct aiosfs_dx_entry *e2;
	struct buffer_head *bh2;
	u32 nblk;
	int err;

	bh2 = aiosfs_dir_append(h, dir, &nblk);
	if (IS_ERR(bh2))
		return PTR_ERR(bh2);
	err = aiosfs_journal_get_write_access(h, bh2);
	if (err)
		goto out;
	aiosfs_init_dx_node(dir->i_sb, bh2->b_data, root->count);
	e2 = (void *)bh2->b_data + AIOSFS_DX_NODE_COUNT_OFFSET;
	e2[0].block = root->entries[0].block;
	memcpy(&e2[1], &root->entries[1], (root->count - 1) * sizeof(*e2));
	aiosfs_dx_csum_set(dir, bh2->b_data, AIOSFS_DX_NODE_COUNT_OFFSET);
	err = aiosfs_journal_dirty_metadata(h, bh2);
	if (err)
		goto out;
	err = aiosfs_journal_get_write_access(h, root->bh);
	if (err)
		goto out;
	info = (void *)root->bh->b_data + 24;
	info->indirect_levels++;
	root->entries[0].block = cpu_to_le32(nblk);
	root->count = 1;
	err = aiosfs_dx_level_dirty(h, dir, p, 0);
out:
	brelse(bh2);
	return err;
}

/*
 * Packs a leaf whose free space is scattered in slots too small for a
 * name: the offset of its last entry, which then holds all of it.  Rare
 * (leaf splits leave the entries that stay where they are): a readdir that
 * stopped inside this block may miss entries that moved below its offset.
 */
static int aiosfs_leaf_compact(struct aiosfs_handle *h, struct inode *dir,
			       struct buffer_head *bh)
{
	unsigned int i, n, last = 0;
	struct aiosfs_dmap *map;
	char *tmp;
	int err;

	err = aiosfs_leaf_snapshot(dir, NULL, bh, 0, &tmp, &map, &n);
	if (!err && WARN_ON_ONCE(!n))
		err = -EIO;
	if (!err)
		err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		goto out;
	aiosfs_pack_leaf(dir, bh->b_data, tmp, map, n);
	err = aiosfs_journal_dirty_metadata(h, bh);
	for (i = 0; i + 1 < n; i++)
		last += map[i].len;
out:
	kfree(tmp);
	return err ? err : last;
}

/*
 * Makes room in the index above the full leaf: splits the highest full
 * node whose parent has room, or adds a level if every node up to the
 * root is full.  One step; the caller probes again.
 */
static int aiosfs_dx_grow(struct aiosfs_handle *h, struct inode *dir, struct aiosfs_dx_path *p)
{
	unsigned int lv = p->levels - 1;

	while (lv > 0 && p->lv[lv - 1].count >= p->lv[lv - 1].limit)
		lv--;
	if (lv)
		return aiosfs_dx_split_node(h, dir, p, lv);
	if (p->levels >= aiosfs_dx_max_levels(dir->i_sb)) {
		pr_warn_ratelimited("aiosfs (%s): directory inode %lu: htree index full\n",
				    dir->i_sb->s_id, dir->i_ino);
		return -ENOSPC;
	}
	return aiosfs_dx_add_level(h, dir, p);
}

/*
 * A split beyond the first takes more blocks than one handle's dirent
 * credits cover.  Only while making room may the handle restart for them
 * (see aiosfs_dir_make_room()); adding the entry itself never splits.
 */
static int aiosfs_dx_topup(struct aiosfs_handle *h, struct inode *dir, bool adding)
{
	if (!adding)
		return aiosfs_journal_ensure_credits(h, AIOSFS_CREDITS_DIRENT);
	if (aiosfs_journal_try_extend(h, AIOSFS_CREDITS_DIRENT))
		return 0;
	aiosfs_error(dir->i_sb, "directory inode %lu: no room made for a new entry", dir->i_ino);
	return -EIO;
}

/* Adds name for inode; with no inode, only makes room for name in its leaf. */
static int aiosfs_dx_add(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			 struct inode *inode)
{
	struct aiosfs_dx_path p;
	struct buffer_head *bh;
	unsigned int tries, room;
	int err, off;
	u32 leaf;

	/* Each round splits one block; a few always suffice. */
	for (tries = 0; tries < 2 * AIOSFS_DX_MAX_LEVELS_LARGEDIR + 2; tries++) {
		if (tries) {
			err = aiosfs_dx_topup(h, dir, inode);
			if (err)
				return err;
		}
		err = aiosfs_dx_probe(dir, name, &p);
		if (!err)
			err = aiosfs_dx_leaf(dir, &p, &leaf);
		if (err)
			goto out;
		bh = aiosfs_dir_bread_some(dir, leaf);
		if (IS_ERR(bh)) {
			err = PTR_ERR(bh);
			goto out;
		}
		off = aiosfs_find_slot(dir, leaf, bh->b_data, name->len, &room);
		if (off == -ENOSPC && room >= AIOSFS_DIRENT_LEN(name->len))
			off = aiosfs_leaf_compact(h, dir, bh);
		if (off >= 0 && inode)
			err = aiosfs_leaf_insert(h, dir, bh, off, name, inode);
		else if (off >= 0)
			err = 0;
		else if (off != -ENOSPC)
			err = off;
		else if (p.lv[p.levels - 1].count < p.lv[p.levels - 1].limit)
			err = aiosfs_dx_split_leaf(h, dir, &p, bh, leaf);
		else
			err = aiosfs_dx_grow(h, dir, &p);
		brelse(bh);
		aiosfs_dx_release(&p);
		if (err || off >= 0)
			return err;
	}
	WARN_ON_ONCE(1);
	return -EIO;
out:
	aiosfs_dx_release(&p);
	return err;
}

/*
 * Turns a linear directory whose one block is full into an htree: its
 * entries but "." and ".." move to a new block 1, and block 0 becomes the
 * root, with one index entry pointing at block 1.  1 if the directory does
 * not qualify (it stays linear), 0 or an error.
 */
static int aiosfs_make_indexed(struct aiosfs_handle *h, struct inode *dir,
			       struct buffer_head *bh0)
{
	struct super_block *sb = dir->i_sb;
	struct aiosfs_dir_entry *dot = (void *)bh0->b_data, *dotdot;
	struct aiosfs_dx_countlimit *cl;
	struct aiosfs_dx_root_info *info;
	struct aiosfs_dx_entry *e;
	unsigned int n, version = AIOSFS_SB(sb)->s_es->s_def_hash_version;
	struct buffer_head *bh1;
	struct aiosfs_dmap *map;
	u32 lblk, parent;
	char *tmp;
	int err;

	if (!(AIOSFS_SB(sb)->s_compat & AIOSFS_FEATURE_COMPAT_DIR_INDEX) ||
	    version > AIOSFS_HASH_TEA)
		return 1;
	if (!aiosfs_name_is(dot, ".", 1) || aiosfs_rlen(dot) > sb->s_blocksize - 24)
		return 1;
	dotdot = (void *)dot + aiosfs_rlen(dot);
	if (!aiosfs_dirent_ok(dir, bh0->b_data, aiosfs_rlen(dot)) ||
	    !aiosfs_name_is(dotdot, "..", 2))
		return 1;
	parent = le32_to_cpu(dotdot->inode);
	err = aiosfs_leaf_snapshot(dir, NULL, bh0, aiosfs_rlen(dot) + aiosfs_rlen(dotdot), &tmp,
				   &map, &n);
	if (err)
		goto out;

	bh1 = aiosfs_dir_append(h, dir, &lblk);
	if (IS_ERR(bh1)) {
		err = PTR_ERR(bh1);
		goto out;
	}
	err = aiosfs_journal_get_write_access(h, bh1);
	if (!err) {
		aiosfs_pack_leaf(dir, bh1->b_data, tmp, map, n);
		err = aiosfs_journal_dirty_metadata(h, bh1);
	}
	brelse(bh1);
	if (err)
		goto out;

	err = aiosfs_journal_get_write_access(h, bh0);
	if (err)
		goto out;
	memset(bh0->b_data, 0, sb->s_blocksize);
	dot = (void *)bh0->b_data;
	dot->inode = cpu_to_le32(dir->i_ino);
	dot->rec_len = cpu_to_le16(12);
	dot->name_len = 1;
	dot->file_type = aiosfs_ftype(sb, S_IFDIR);
	dot->name[0] = '.';
	dotdot = (void *)bh0->b_data + 12;
	dotdot->inode = cpu_to_le32(parent);
	dotdot->rec_len = cpu_to_le16(sb->s_blocksize - 12);
	dotdot->name_len = 2;
	dotdot->file_type = dot->file_type;
	memcpy(dotdot->name, "..", 2);
	info = (void *)bh0->b_data + 24;
	info->hash_version = version;
	info->info_length = sizeof(*info);
	cl = (void *)bh0->b_data + AIOSFS_DX_ROOT_COUNT_OFFSET;
	cl->limit = cpu_to_le16(aiosfs_dx_limit(sb, AIOSFS_DX_ROOT_COUNT_OFFSET));
	cl->count = cpu_to_le16(1);
	e = (void *)cl;
	e[0].block = cpu_to_le32(lblk);
	/* From here on block 0 reads as the root (aiosfs_is_dx_block()). */
	AIOSFS_I(dir)->i_flags |= AIOSFS_INDEX_FL;
	aiosfs_dx_csum_set(dir, bh0->b_data, AIOSFS_DX_ROOT_COUNT_OFFSET);
	err = aiosfs_journal_dirty_metadata(h, bh0);
	if (!err)
		err = aiosfs_mark_inode_dirty(h, dir);
out:
	kfree(tmp);
	return err;
}

/* Adds name for inode; with no inode, only makes room as aiosfs_dx_add(). */
static int aiosfs_linear_add(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			     struct inode *inode)
{
	u32 lblk, n = dir->i_size >> dir->i_blkbits;
	struct buffer_head *bh;
	unsigned int room;
	int off, err;

	for (lblk = 0; lblk < n; lblk++) {
		bh = aiosfs_dir_bread_some(dir, lblk);
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		off = aiosfs_find_slot(dir, lblk, bh->b_data, name->len, &room);
		if (off >= 0) {
			err = inode ? aiosfs_leaf_insert(h, dir, bh, off, name, inode) : 0;
			brelse(bh);
			return err;
		}
		if (off != -ENOSPC) {
			brelse(bh);
			return off;
		}
		if (n == 1) {
			/* Like ext4: index the directory when its first block fills. */
			err = aiosfs_make_indexed(h, dir, bh);
			brelse(bh);
			if (err <= 0)
				return err ? err : aiosfs_dx_add(h, dir, name, inode);
		} else {
			brelse(bh);
		}
		cond_resched();
	}
	/* A new block fits in the credits of the entry's own handle. */
	if (!inode)
		return 0;
	bh = aiosfs_dir_append(h, dir, &lblk);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	err = aiosfs_leaf_insert(h, dir, bh, 0, name, inode);
	brelse(bh);
	return err;
}

/* Without inode, only makes room: see aiosfs_dir_make_room(). */
int aiosfs_add_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode)
{
	if (!name->len)
		return -EINVAL;
	if (name->len > AIOSFS_NAME_LEN)
		return -ENAMETOOLONG;
	if (aiosfs_dir_indexed(dir))
		return aiosfs_dx_add(h, dir, name, inode);
	return aiosfs_linear_add(h, dir, name, inode);
}

/*
 * A handle that restarts for credits commits what it did so far on its
 * own: were that a new inode, or a rename's other half, a crash would
 * leave an inode without a name (e2fsck's lost+found) or a half rename.
 * So the splits that may need a restart come first, each a complete
 * change of the directory, and then the credits for the rest of the
 * operation; the caller holds dir's lock, so the room stays until
 * aiosfs_add_entry() takes it.
 */
int aiosfs_dir_make_room(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			 int credits)
{
	int err = aiosfs_add_entry(h, dir, name, NULL);

	return err ? err : aiosfs_journal_ensure_credits(h, credits);
}

/* Finds name's entry, which must point at inode. */
static int aiosfs_find_own(struct inode *dir, const struct qstr *name, struct inode *inode,
			   struct aiosfs_dirent_loc *loc)
{
	long ino = aiosfs_find_entry(dir, name, loc);

	if (ino < 0)
		return ino;
	if (ino == inode->i_ino)
		return 0;
	if (ino)
		brelse(loc->bh);
	aiosfs_error(dir->i_sb, "directory inode %lu: entry '%.*s' %s inode %lu", dir->i_ino,
		     name->len, name->name, ino ? "does not point at" : "missing for",
		     inode->i_ino);
	return -AIOSFS_EFSCORRUPTED;
}

int aiosfs_delete_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			struct inode *inode)
{
	struct aiosfs_dir_entry *de, *prev = NULL;
	struct aiosfs_dirent_loc loc;
	unsigned int off;
	int err;

	err = aiosfs_find_own(dir, name, inode, &loc);
	if (err)
		return err;
	/* The search walked these entries already: they are sound. */
	for (off = 0; off < loc.off; off += aiosfs_rlen(prev))
		prev = (void *)loc.bh->b_data + off;
	de = (void *)loc.bh->b_data + loc.off;
	err = aiosfs_journal_get_write_access(h, loc.bh);
	if (err)
		goto out;
	if (prev)
		prev->rec_len = cpu_to_le16(aiosfs_rlen(prev) + aiosfs_rlen(de));
	de->inode = 0;
	aiosfs_dirblock_csum_set(dir, loc.bh->b_data);
	err = aiosfs_journal_dirty_metadata(h, loc.bh);
out:
	brelse(loc.bh);
	return err;
}

int aiosfs_set_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode)
{
	struct aiosfs_dirent_loc loc;
	struct aiosfs_dir_entry *de;
	long ino;
	int err;

	ino = aiosfs_find_entry(dir, name, &loc);
	if (ino <= 0) {
		if (!ino)
			aiosfs_error(dir->i_sb, "directory inode %lu: entry '%.*s' missing",
				     dir->i_ino, name->len, name->name);
		return ino ? ino : -AIOSFS_EFSCORRUPTED;
	}
	de = (void *)loc.bh->b_data + loc.off;
	err = aiosfs_journal_get_write_access(h, loc.bh);
	if (!err) {
		de->inode = cpu_to_le32(inode->i_ino);
		de->file_type = aiosfs_ftype(dir->i_sb, inode->i_mode);
		aiosfs_dirblock_csum_set(dir, loc.bh->b_data);
		err = aiosfs_journal_dirty_metadata(h, loc.bh);
	}
	brelse(loc.bh);
	return err;
}

int aiosfs_make_empty(struct aiosfs_handle *h, struct inode *dir, struct inode *parent)
{
	struct aiosfs_dir_entry *de;
	struct buffer_head *bh;
	u32 lblk;
	int err;

	if (WARN_ON_ONCE(dir->i_size))
		return -EIO;
	/* Also writes the inode, with i_size one block. */
	bh = aiosfs_dir_append(h, dir, &lblk);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		goto out;
	de = (void *)bh->b_data;
	de->inode = cpu_to_le32(dir->i_ino);
	de->rec_len = cpu_to_le16(12);
	de->name_len = 1;
	de->file_type = aiosfs_ftype(dir->i_sb, S_IFDIR);
	de->name[0] = '.';
	de = (void *)bh->b_data + 12;
	de->inode = cpu_to_le32(parent->i_ino);
	de->rec_len = cpu_to_le16(aiosfs_leaf_end(dir->i_sb) - 12);
	de->name_len = 2;
	de->file_type = aiosfs_ftype(dir->i_sb, S_IFDIR);
	memcpy(de->name, "..", 2);
	aiosfs_dirblock_csum_set(dir, bh->b_data);
	err = aiosfs_journal_dirty_metadata(h, bh);
out:
	brelse(bh);
	return err;
}

int aiosfs_set_dotdot(struct aiosfs_handle *h, struct inode *dir, struct inode *parent)
{
	struct aiosfs_dir_entry *dot, *dotdot;
	struct buffer_head *bh;
	unsigned int off;
	int err;

	bh = aiosfs_dir_bread_some(dir, 0);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	dot = (void *)bh->b_data;
	off = aiosfs_rlen(dot);
	if (!aiosfs_dirent_ok(dir, bh->b_data, 0) || !aiosfs_dirent_ok(dir, bh->b_data, off)) {
		err = -AIOSFS_EFSCORRUPTED;
		goto out;
	}
	dotdot = (void *)bh->b_data + off;
	if (!aiosfs_name_is(dot, ".", 1) || !aiosfs_name_is(dotdot, "..", 2)) {
		err = aiosfs_dir_bad(dir, 0, "no \".\" and \"..\" at its start");
		goto out;
	}
	err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		goto out;
	dotdot->inode = cpu_to_le32(parent->i_ino);
	if (aiosfs_is_dx_block(dir, 0, bh->b_data))
		aiosfs_dx_csum_set(dir, bh->b_data, AIOSFS_DX_ROOT_COUNT_OFFSET);
	else
		aiosfs_dirblock_csum_set(dir, bh->b_data);
	err = aiosfs_journal_dirty_metadata(h, bh);
out:
	brelse(bh);
	return err;
}

/* Anything but "." and ".." in it?  Unreadable counts as not empty. */
bool aiosfs_empty_dir(struct inode *dir)
{
	u32 lblk, n = (dir->i_size + dir->i_sb->s_blocksize - 1) >> dir->i_blkbits;
	unsigned int off, bs = dir->i_sb->s_blocksize;
	const struct aiosfs_dir_entry *de;
	struct buffer_head *bh;
	bool empty = true;

	for (lblk = 0; empty && lblk < n; lblk++) {
		bh = aiosfs_dir_bread(dir, lblk);
		if (IS_ERR(bh))
			return false;
		if (!bh)
			continue;
		for (off = 0; empty && off < bs; off += aiosfs_rlen(de)) {
			if (!aiosfs_dirent_ok(dir, bh->b_data, off)) {
				empty = false;
				break;
			}
			de = (const void *)bh->b_data + off;
			if (de->inode && !(lblk == 0 && (aiosfs_name_is(de, ".", 1) ||
							 aiosfs_name_is(de, "..", 2))))
				empty = false;
		}
		brelse(bh);
		cond_resched();
	}
	return empty;
}
