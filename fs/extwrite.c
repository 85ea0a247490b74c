// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: changing extent trees.
 *
 * The tree is ext4's: a root of four entries in i_data, tree blocks of
 * (blocksize - 16) / 12 entries with a checksum tail, and index keys equal
 * to the first logical block below them.  A change works on a path, the
 * root and the blocks down to one leaf, taking journal access to a block
 * before it changes and dirtying it, checksummed, after.
 *
 * What can fail (allocation, journal access) happens before anything
 * changes: a change that needs room in a leaf makes the room first
 * (splitting nodes, or growing the tree by a level) and only then edits
 * the leaf.  So an error leaves the tree as it was, or complete.
 */
#include "aiosfs.h"

#define AIOSFS_EXT_UNWRITTEN_MAX	(AIOSFS_EXT_INIT_MAX_LEN - 1)
/* Below this a node cannot be split into two non-empty halves. */
#define AIOSFS_EXT_MIN_SPLIT		4
#define AIOSFS_EXT_END			BIT_ULL(32)

struct aiosfs_ext_level {
	struct buffer_head *bh;		/* NULL: the root, in the inode */
	struct aiosfs_extent_header *eh;
	int idx;			/* entry followed; in a leaf -1: none at or before */
};

struct aiosfs_ext_path {
	u32 lblk;			/* what was looked up */
	int depth;
	bool dirty_inode;		/* the root or i_blocks changed */
	struct aiosfs_ext_level lv[AIOSFS_EXT_MAX_DEPTH + 1];
};

/* An extent, decoded. */
struct aiosfs_ext {
	u32 lblk;
	u32 len;
	u64 pblk;
	bool unwritten;
};

static inline unsigned int aiosfs_eh_entries(const struct aiosfs_extent_header *eh)
{
	return le16_to_cpu(eh->eh_entries);
}

static inline unsigned int aiosfs_eh_max(const struct aiosfs_extent_header *eh)
{
	return le16_to_cpu(eh->eh_max);
}

static inline struct aiosfs_extent *aiosfs_ext_first(struct aiosfs_extent_header *eh)
{
	return (struct aiosfs_extent *)(eh + 1);
}

static inline struct aiosfs_extent_idx *aiosfs_idx_first(struct aiosfs_extent_header *eh)
{
	return (struct aiosfs_extent_idx *)(eh + 1);
}

/* Both kinds of entry start with the first logical block they cover. */
static inline __le32 aiosfs_eh_first_key(struct aiosfs_extent_header *eh)
{
	return *(__le32 *)(eh + 1);
}

static inline u64 aiosfs_idx_pblk(const struct aiosfs_extent_idx *ix)
{
	return le32_to_cpu(ix->ei_leaf_lo) | (u64)le16_to_cpu(ix->ei_leaf_hi) << 32;
}

static void aiosfs_idx_set(struct aiosfs_extent_idx *ix, __le32 key, u64 blk)
{
	ix->ei_block = key;
	ix->ei_leaf_lo = cpu_to_le32(lower_32_bits(blk));
	ix->ei_leaf_hi = cpu_to_le16(upper_32_bits(blk) & 0xffff);
	ix->ei_unused = 0;
}

static inline u32 aiosfs_ext_max_len(bool unwritten)
{
	return unwritten ? AIOSFS_EXT_UNWRITTEN_MAX : AIOSFS_EXT_INIT_MAX_LEN;
}

static int aiosfs_ext_corrupt(struct inode *inode, u64 blk, const char *why)
{
	aiosfs_error(inode->i_sb, "inode %lu: extent tree block %llu: %s", inode->i_ino, blk, why);
	return -AIOSFS_EFSCORRUPTED;
}

static u64 aiosfs_path_blk(struct aiosfs_ext_path *path, int l)
{
	return path->lv[l].bh ? path->lv[l].bh->b_blocknr : 0;
}

/* Decodes an extent, refusing one that is empty or points outside the fs. */
static int aiosfs_ext_get(struct inode *inode, const struct aiosfs_extent *ex,
			  struct aiosfs_ext *e)
{
	u32 len = le16_to_cpu(ex->ee_len);

	e->unwritten = len > AIOSFS_EXT_INIT_MAX_LEN;
	e->len = e->unwritten ? len - AIOSFS_EXT_INIT_MAX_LEN : len;
	e->lblk = le32_to_cpu(ex->ee_block);
	e->pblk = le32_to_cpu(ex->ee_start_lo) | (u64)le16_to_cpu(ex->ee_start_hi) << 32;
	if (!e->len || (u64)e->lblk + e->len > AIOSFS_EXT_END ||
	    !aiosfs_blocks_valid(inode->i_sb, e->pblk, e->len)) {
		aiosfs_error(inode->i_sb, "inode %lu: bad extent %u+%u at block %llu",
			     inode->i_ino, e->lblk, e->len, e->pblk);
		return -AIOSFS_EFSCORRUPTED;
	}
	return 0;
}

static void aiosfs_ext_put(struct aiosfs_extent *ex, const struct aiosfs_ext *e)
{
	ex->ee_block = cpu_to_le32(e->lblk);
	ex->ee_len = cpu_to_le16(e->unwritten ? e->len + AIOSFS_EXT_INIT_MAX_LEN : e->len);
	ex->ee_start_hi = cpu_to_le16(upper_32_bits(e->pblk) & 0xffff);
	ex->ee_start_lo = cpu_to_le32(lower_32_bits(e->pblk));
}

/* Whether b continues a, logically and physically, and the two fit one extent. */
static bool aiosfs_ext_can_merge(const struct aiosfs_ext *a, const struct aiosfs_ext *b)
{
	return a->unwritten == b->unwritten && (u64)a->lblk + a->len == b->lblk &&
	       a->pblk + a->len == b->pblk && a->len + b->len <= aiosfs_ext_max_len(a->unwritten);
}

/* balloc.c counts the blocks in i_blocks; the inode must be written. */
static void aiosfs_ext_add_blocks(struct inode *inode, struct aiosfs_ext_path *path, u32 n)
{
	path->dirty_inode = true;
}

/*
 * Directory and symlink blocks went through the journal as metadata: old
 * copies in the log must be revoked before the blocks can hold file data.
 */
static void aiosfs_ext_free(struct aiosfs_handle *h, struct inode *inode,
			    struct aiosfs_ext_path *path, u64 pblk, u32 n, unsigned int flags)
{
	if (!S_ISREG(inode->i_mode))
		flags |= AIOSFS_FREE_METADATA;
	aiosfs_free_blocks(h, inode, pblk, n, flags);
	path->dirty_inode = true;
}

static void aiosfs_ext_path_release(struct aiosfs_ext_path *path)
{
	int l;

	for (l = 1; l <= AIOSFS_EXT_MAX_DEPTH; l++) {
		brelse(path->lv[l].bh);
		path->lv[l].bh = NULL;
	}
}

/*
 * Looks up lblk from the root: lv[l].idx is the entry followed at each
 * index level, and at the leaf the last extent starting at or before lblk.
 */
static int aiosfs_ext_find(struct inode *inode, u32 lblk, struct aiosfs_ext_path *path)
{
	struct aiosfs_extent_header *eh = (void *)AIOSFS_I(inode)->i_data;
	struct aiosfs_extent *ex;
	unsigned int n;
	int depth, l, idx, err;

	aiosfs_ext_path_release(path);
	path->lblk = lblk;
	depth = le16_to_cpu(eh->eh_depth);
	if (le16_to_cpu(eh->eh_magic) != AIOSFS_EXT_MAGIC || depth > AIOSFS_EXT_MAX_DEPTH ||
	    !aiosfs_eh_max(eh) || aiosfs_eh_entries(eh) > aiosfs_eh_max(eh))
		return aiosfs_ext_corrupt(inode, 0, "bad root");
	path->depth = depth;
	path->lv[0].eh = eh;
	for (l = 0; l < depth; l++) {
		struct aiosfs_extent_idx *ix = aiosfs_idx_first(eh);
		struct buffer_head *bh;

		n = aiosfs_eh_entries(eh);
		if (!n)
			return aiosfs_ext_corrupt(inode, aiosfs_path_blk(path, l),
						  "empty index node");
		path->lv[l].idx = aiosfs_ext_search(ix, n, sizeof(*ix), lblk);
		bh = aiosfs_bread(inode->i_sb, aiosfs_idx_pblk(ix + path->lv[l].idx),
				  "extent tree");
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		path->lv[l + 1].bh = bh;
		err = aiosfs_ext_check_block(inode, bh, depth - l - 1);
		if (err)
			return err;
		eh = (void *)bh->b_data;
		path->lv[l + 1].eh = eh;
	}
	n = aiosfs_eh_entries(eh);
	ex = aiosfs_ext_first(eh);
	idx = n ? aiosfs_ext_search(ex, n, sizeof(*ex), lblk) : 0;
	if (!n || le32_to_cpu(ex[idx].ee_block) > lblk)
		idx = -1;
	path->lv[depth].idx = idx;
	return 0;
}

/* Where the first extent after the path's leaf entry starts (2^32: none). */
static u64 aiosfs_ext_next(struct aiosfs_ext_path *path)
{
	struct aiosfs_ext_level *leaf = &path->lv[path->depth];
	int l;

	if (leaf->idx + 1 < (int)aiosfs_eh_entries(leaf->eh))
		return le32_to_cpu(aiosfs_ext_first(leaf->eh)[leaf->idx + 1].ee_block);
	for (l = path->depth - 1; l >= 0; l--) {
		struct aiosfs_ext_level *lv = &path->lv[l];

		if (lv->idx + 1 < (int)aiosfs_eh_entries(lv->eh))
			return le32_to_cpu(aiosfs_idx_first(lv->eh)[lv->idx + 1].ei_block);
	}
	return AIOSFS_EXT_END;
}

/* The lowest block the path's leaf can hold: the deepest key at or below lblk. */
static u32 aiosfs_ext_leaf_floor(struct aiosfs_ext_path *path)
{
	int l;

	for (l = path->depth - 1; l >= 0; l--) {
		u32 key = le32_to_cpu(aiosfs_idx_first(path->lv[l].eh)[path->lv[l].idx].ei_block);

		if (key <= path->lblk)
			return key;
	}
	return 0;
}

static int aiosfs_ext_access(struct aiosfs_handle *h, struct aiosfs_ext_path *path, int l)
{
	return path->lv[l].bh ? aiosfs_journal_get_write_access(h, path->lv[l].bh) : 0;
}

static int aiosfs_ext_dirty(struct aiosfs_handle *h, struct inode *inode,
			    struct aiosfs_ext_path *path, int l)
{
	struct buffer_head *bh = path->lv[l].bh;

	if (!bh) {
		path->dirty_inode = true;
		return 0;
	}
	/*
	 * A change below the root leaves the inode as it was, but the file's
	 * data is only reachable through it: (f)datasync must commit it.
	 */
	aiosfs_inode_set_tid(h, inode, true);
	aiosfs_extent_block_csum_set(inode, path->lv[l].eh);
	return aiosfs_journal_dirty_metadata(h, bh);
}

/*
 * The first entry of the node at level l changed: the keys above follow,
 * up to the first level where the node is not its parent's first child.
 */
static int aiosfs_ext_fix_keys(struct aiosfs_handle *h, struct inode *inode,
			       struct aiosfs_ext_path *path, int l)
{
	int err;

	for (; l > 0; l--) {
		struct aiosfs_ext_level *up = &path->lv[l - 1];
		struct aiosfs_extent_idx *ix = aiosfs_idx_first(up->eh) + up->idx;
		__le32 key;

		if (!aiosfs_eh_entries(path->lv[l].eh))
			return 0;
		key = aiosfs_eh_first_key(path->lv[l].eh);
		if (ix->ei_block == key)
			return 0;
		err = aiosfs_ext_access(h, path, l - 1);
		if (err)
			return err;
		ix->ei_block = key;
		err = aiosfs_ext_dirty(h, inode, path, l - 1);
		if (err || up->idx)
			return err;
	}
	return 0;
}

/* Tree blocks go near the file's blocks: after the path's leaf, or the inode's goal. */
static u64 aiosfs_ext_meta_goal(struct inode *inode, struct aiosfs_ext_path *path)
{
	u64 blk = aiosfs_path_blk(path, path->depth);

	return blk ? blk + 1 : aiosfs_inode_goal(inode);
}

/* n tree blocks, all or none. */
static int aiosfs_ext_alloc_meta(struct aiosfs_handle *h, struct inode *inode, u64 goal,
				 u64 *blks, unsigned int n, unsigned int flags)
{
	unsigned int got = 0, i;
	int err = 0;

	while (got < n) {
		u32 count = n - got;
		u64 pblk;

		err = aiosfs_new_blocks(h, inode, goal, &count, &pblk,
					AIOSFS_ALLOC_METADATA | flags);
		if (err)
			break;
		if (WARN_ON_ONCE(!count || count > n - got)) {
			if (count)
				aiosfs_free_blocks(h, inode, pblk, count, AIOSFS_FREE_METADATA);
			err = -ENOSPC;
			break;
		}
		for (i = 0; i < count; i++)
			blks[got++] = pblk + i;
		goal = pblk + count;
	}
	if (!err)
		return 0;
	for (i = 0; i < got; i++)
		aiosfs_free_blocks(h, inode, blks[i], 1, AIOSFS_FREE_METADATA);
	return err;
}

static u16 aiosfs_ext_block_cap(struct super_block *sb)
{
	return (sb->s_blocksize - sizeof(struct aiosfs_extent_header) -
		sizeof(struct aiosfs_extent_tail)) / sizeof(struct aiosfs_extent);
}

/* A new, empty tree block at depth, journaled by create access. */
static struct buffer_head *aiosfs_ext_new_block(struct aiosfs_handle *h, struct inode *inode,
						u64 blk, __le16 depth)
{
	struct buffer_head *bh = sb_getblk(inode->i_sb, blk);
	struct aiosfs_extent_header *eh;
	int err;

	if (!bh)
		return ERR_PTR(-ENOMEM);
	err = aiosfs_journal_get_create_access(h, bh);
	if (err) {
		brelse(bh);
		return ERR_PTR(err);
	}
	lock_buffer(bh);
	memset(bh->b_data, 0, bh->b_size);
	eh = (void *)bh->b_data;
	eh->eh_magic = cpu_to_le16(AIOSFS_EXT_MAGIC);
	eh->eh_max = cpu_to_le16(aiosfs_ext_block_cap(inode->i_sb));
	eh->eh_depth = depth;
	set_buffer_uptodate(bh);
	unlock_buffer(bh);
	return bh;
}

static int aiosfs_ext_dirty_new(struct aiosfs_handle *h, struct inode *inode,
				struct buffer_head *bh)
{
	aiosfs_extent_block_csum_set(inode, (void *)bh->b_data);
	/* What we wrote is what a read would verify. */
	aiosfs_set_buffer_verified(bh);
	return aiosfs_journal_dirty_metadata(h, bh);
}

/*
 * Every level is full: the root's entries move to a new block, and the
 * root becomes a single index entry pointing at it (one level deeper).
 */
static int aiosfs_ext_grow(struct aiosfs_handle *h, struct inode *inode,
			   struct aiosfs_ext_path *path, unsigned int aflags)
{
	struct aiosfs_extent_header *root = path->lv[0].eh, *eh;
	unsigned int n = aiosfs_eh_entries(root);
	struct buffer_head *bh;
	u64 blk;
	int err;

	if (path->depth >= AIOSFS_EXT_MAX_DEPTH) {
		aiosfs_error(inode->i_sb, "inode %lu: extent tree too deep", inode->i_ino);
		return -ENOSPC;
	}
	err = aiosfs_ext_alloc_meta(h, inode, aiosfs_ext_meta_goal(inode, path), &blk, 1, aflags);
	if (err)
		return err;
	bh = aiosfs_ext_new_block(h, inode, blk, root->eh_depth);
	if (IS_ERR(bh)) {
		aiosfs_free_blocks(h, inode, blk, 1, AIOSFS_FREE_METADATA);
		return PTR_ERR(bh);
	}
	eh = (void *)bh->b_data;
	memcpy(eh + 1, root + 1, n * sizeof(struct aiosfs_extent));
	eh->eh_entries = root->eh_entries;
	err = aiosfs_ext_dirty_new(h, inode, bh);
	brelse(bh);
	if (err) {
		aiosfs_free_blocks(h, inode, blk, 1, AIOSFS_FREE_METADATA);
		return err;
	}
	aiosfs_idx_set(aiosfs_idx_first(root), aiosfs_eh_first_key(eh), blk);
	root->eh_entries = cpu_to_le16(1);
	le16_add_cpu(&root->eh_depth, 1);
	aiosfs_ext_add_blocks(inode, path, 1);
	return 0;
}

/* Inserts an index entry at pos of a node with room for it. */
static void aiosfs_idx_insert(struct aiosfs_extent_header *eh, unsigned int pos, __le32 key,
			      u64 blk)
{
	struct aiosfs_extent_idx *ix = aiosfs_idx_first(eh);
	unsigned int n = aiosfs_eh_entries(eh);

	memmove(ix + pos + 1, ix + pos, (n - pos) * sizeof(*ix));
	aiosfs_idx_set(ix + pos, key, blk);
	eh->eh_entries = cpu_to_le16(n + 1);
}

/*
 * Splits the node at level l (of n entries) at k: entries [k, n) move to
 * the new node neh.  Below the leaf, the pending child (key, blk) of the
 * level under it is inserted after the entry the path followed.
 */
static void aiosfs_ext_split_node(struct aiosfs_ext_path *path, int l,
				  struct aiosfs_extent_header *neh, bool append,
				  __le32 key, u64 blk)
{
	struct aiosfs_extent_header *eh = path->lv[l].eh;
	unsigned int n = aiosfs_eh_entries(eh), k, q;
	const size_t esize = sizeof(struct aiosfs_extent);

	if (l == path->depth) {
		k = append ? n : n / 2;
		memcpy(neh + 1, (void *)(eh + 1) + k * esize, (n - k) * esize);
		neh->eh_entries = cpu_to_le16(n - k);
		eh->eh_entries = cpu_to_le16(k);
		return;
	}
	/* An index node: its new child goes right after the one followed. */
	q = path->lv[l].idx + 1;
	k = append ? q : n / 2;
	memcpy(neh + 1, (void *)(eh + 1) + k * esize, (n - k) * esize);
	neh->eh_entries = cpu_to_le16(n - k);
	eh->eh_entries = cpu_to_le16(k);
	if (!append && q <= k)
		aiosfs_idx_insert(eh, q, key, blk);
	else
		aiosfs_idx_insert(neh, q - k, key, blk);
}

/*
 * Makes room in the path's full leaf: finds the deepest level above it
 * with a free slot, splits every node below that level and adds the new
 * node's key there; if every level is full, grows the tree instead.  In
 * append mode (the new entry goes after the leaf's last) the new leaf
 * starts empty, keyed at lblk, so that a file written in order fills its
 * leaves; else the leaf splits half/half.  The path is stale afterwards.
 */
static int aiosfs_ext_split(struct aiosfs_handle *h, struct inode *inode,
			    struct aiosfs_ext_path *path, bool append, u32 lblk,
			    unsigned int aflags)
{
	struct buffer_head *nbh[AIOSFS_EXT_MAX_DEPTH + 1] = {};
	u64 blks[AIOSFS_EXT_MAX_DEPTH];
	int depth = path->depth, at, l, err;
	unsigned int nsplit;
	__le32 key = cpu_to_le32(lblk);
	u64 child = 0;

	for (at = depth - 1; at >= 0; at--)
		if (aiosfs_eh_entries(path->lv[at].eh) < aiosfs_eh_max(path->lv[at].eh))
			break;
	if (at < 0)
		return aiosfs_ext_grow(h, inode, path, aflags);
	for (l = at + 1; l <= depth; l++)
		if (aiosfs_eh_max(path->lv[l].eh) < AIOSFS_EXT_MIN_SPLIT)
			return aiosfs_ext_corrupt(inode, aiosfs_path_blk(path, l),
						  "node too small to split");
	nsplit = depth - at;
	err = aiosfs_ext_alloc_meta(h, inode, aiosfs_ext_meta_goal(inode, path), blks, nsplit,
				    aflags);
	if (err)
		return err;
	/* Journal access to every block first: then nothing fails half way. */
	for (l = at + 1; l <= depth; l++) {
		nbh[l] = aiosfs_ext_new_block(h, inode, blks[l - at - 1], path->lv[l].eh->eh_depth);
		if (IS_ERR(nbh[l])) {
			err = PTR_ERR(nbh[l]);
			nbh[l] = NULL;
			goto fail;
		}
	}
	for (l = at; l <= depth; l++) {
		err = aiosfs_ext_access(h, path, l);
		if (err)
			goto fail;
	}
	for (l = depth; l > at; l--) {
		struct aiosfs_extent_header *neh = (void *)nbh[l]->b_data;

		aiosfs_ext_split_node(path, l, neh, append, key, child);
		err = aiosfs_ext_dirty(h, inode, path, l);
		if (!err)
			err = aiosfs_ext_dirty_new(h, inode, nbh[l]);
		if (err)
			goto out;
		/* An empty new leaf (append) keeps lblk as its key. */
		if (aiosfs_eh_entries(neh))
			key = aiosfs_eh_first_key(neh);
		child = nbh[l]->b_blocknr;
	}
	aiosfs_idx_insert(path->lv[at].eh, path->lv[at].idx + 1, key, child);
	err = aiosfs_ext_dirty(h, inode, path, at);
	aiosfs_ext_add_blocks(inode, path, nsplit);
	goto out;
fail:
	for (l = 0; l < (int)nsplit; l++)
		aiosfs_free_blocks(h, inode, blks[l], 1, AIOSFS_FREE_METADATA);
out:
	for (l = at + 1; l <= depth; l++)
		brelse(nbh[l]);
	return err;
}

/*
 * Makes room for need more entries in the leaf that holds (or would hold)
 * lblk, the block the path was looked up at; splits and looks up again as
 * often as it takes.
 */
static int aiosfs_ext_make_room(struct aiosfs_handle *h, struct inode *inode,
				struct aiosfs_ext_path *path, unsigned int need, bool append,
				unsigned int aflags)
{
	u32 lblk = path->lblk;
	int tries, err;

	for (tries = 0; ; tries++) {
		struct aiosfs_ext_level *leaf = &path->lv[path->depth];
		unsigned int n = aiosfs_eh_entries(leaf->eh);

		if (n + need <= aiosfs_eh_max(leaf->eh))
			return 0;
		if (tries > AIOSFS_EXT_MAX_DEPTH + 2)
			return aiosfs_ext_corrupt(inode, aiosfs_path_blk(path, path->depth),
						  "no room after splitting");
		err = aiosfs_ext_split(h, inode, path, append && leaf->idx + 1 == n, lblk,
				       aflags);
		if (!err)
			err = aiosfs_ext_find(inode, lblk, path);
		if (err)
			return err;
	}
}

/*
 * Inserts e, which merges with nothing, where the path (looked up at
 * e->lblk) leads.  *linked says whether it is in the tree, even on error.
 */
static int aiosfs_ext_insert(struct aiosfs_handle *h, struct inode *inode,
			     struct aiosfs_ext_path *path, const struct aiosfs_ext *e,
			     bool *linked)
{
	struct aiosfs_ext_level *leaf;
	struct aiosfs_extent *ex;
	unsigned int n, pos;
	int err;

	*linked = false;
	err = aiosfs_ext_make_room(h, inode, path, 1, true, 0);
	if (!err)
		err = aiosfs_ext_access(h, path, path->depth);
	if (err)
		return err;
	leaf = &path->lv[path->depth];
	ex = aiosfs_ext_first(leaf->eh);
	n = aiosfs_eh_entries(leaf->eh);
	pos = leaf->idx + 1;
	memmove(ex + pos + 1, ex + pos, (n - pos) * sizeof(*ex));
	aiosfs_ext_put(ex + pos, e);
	leaf->eh->eh_entries = cpu_to_le16(n + 1);
	*linked = true;
	err = aiosfs_ext_dirty(h, inode, path, path->depth);
	if (!err && !pos)
		err = aiosfs_ext_fix_keys(h, inode, path, path->depth);
	return err;
}

/*
 * Gives [a, b), inside the extent at the path's leaf entry, the state
 * unwritten: the extent splits in up to three, and the changed part merges
 * with a neighbour in the same leaf that it continues.  The first block
 * of the leaf never changes, so neither do the keys.
 */
static int aiosfs_ext_set_state(struct aiosfs_handle *h, struct inode *inode,
				struct aiosfs_ext_path *path, u32 a, u64 b, bool unwritten)
{
	struct aiosfs_ext e, l, r, m, out[3];
	struct aiosfs_ext_level *leaf;
	struct aiosfs_extent *ex;
	unsigned int n, c, w0, w1, i;
	bool merge_l, merge_r;
	int err, tries;

	for (tries = 0; ; tries++) {
		leaf = &path->lv[path->depth];
		ex = aiosfs_ext_first(leaf->eh);
		n = aiosfs_eh_entries(leaf->eh);
		i = leaf->idx;
		err = aiosfs_ext_get(inode, ex + i, &e);
		if (err)
			return err;
		if (WARN_ON_ONCE(a < e.lblk || b > (u64)e.lblk + e.len || a >= b))
			return -EINVAL;
		m = (struct aiosfs_ext){ a, b - a, e.pblk + (a - e.lblk), unwritten };
		merge_l = false;
		merge_r = false;
		if (a == e.lblk && i > 0) {
			err = aiosfs_ext_get(inode, ex + i - 1, &l);
			if (err)
				return err;
			merge_l = aiosfs_ext_can_merge(&l, &m);
		}
		if (b == e.lblk + e.len && i + 1 < n) {
			err = aiosfs_ext_get(inode, ex + i + 1, &r);
			if (err)
				return err;
			merge_r = aiosfs_ext_can_merge(&m, &r) &&
				  (!merge_l ||
				   l.len + m.len + r.len <= aiosfs_ext_max_len(unwritten));
		}
		c = 0;
		if (merge_l) {
			l.len += m.len + (merge_r ? r.len : 0);
			out[c++] = l;
		} else if (a > e.lblk) {
			out[c] = e;
			out[c++].len = a - e.lblk;
		}
		if (!merge_l && !merge_r)
			out[c++] = m;
		if (b < e.lblk + e.len)
			out[c++] = (struct aiosfs_ext){ b, e.lblk + e.len - b,
							e.pblk + (b - e.lblk), e.unwritten };
		else if (merge_r && !merge_l)
			out[c++] = (struct aiosfs_ext){ a, m.len + r.len, m.pblk, unwritten };
		w0 = i - merge_l;
		w1 = i + merge_r;
		if (n - (w1 - w0 + 1) + c <= aiosfs_eh_max(leaf->eh))
			break;
		if (tries)
			return aiosfs_ext_corrupt(inode, aiosfs_path_blk(path, path->depth),
						  "no room after splitting");
		/* Conversions finish writes already done: may use the reserve. */
		path->lblk = e.lblk;
		err = aiosfs_ext_make_room(h, inode, path, c - (w1 - w0 + 1), false,
					   AIOSFS_ALLOC_NOFAIL_RES);
		if (err)
			return err;
	}
	err = aiosfs_ext_access(h, path, path->depth);
	if (err)
		return err;
	memmove(ex + w0 + c, ex + w1 + 1, (n - w1 - 1) * sizeof(*ex));
	for (i = 0; i < c; i++)
		aiosfs_ext_put(ex + w0 + i, &out[i]);
	leaf->eh->eh_entries = cpu_to_le16(n - (w1 - w0 + 1) + c);
	return aiosfs_ext_dirty(h, inode, path, path->depth);
}

/*
 * Maps the hole at map->m_lblk (map->m_len blocks long) with new blocks,
 * placed to continue the extent before it, and puts them in the tree,
 * merged with a neighbour they continue.
 */
static int aiosfs_ext_alloc(struct aiosfs_handle *h, struct inode *inode,
			    struct aiosfs_ext_path *path, unsigned int flags,
			    struct aiosfs_map *map)
{
	struct aiosfs_ext_level *leaf = &path->lv[path->depth];
	struct aiosfs_extent *ex = aiosfs_ext_first(leaf->eh);
	bool unwritten = flags & AIOSFS_GET_UNWRITTEN, has_l, has_r, merge_l, merge_r;
	bool linked = false;
	struct aiosfs_ext l, r, m;
	int i = leaf->idx, err;
	u32 lblk = map->m_lblk, count = min(map->m_len, aiosfs_ext_max_len(unwritten));
	u64 goal, pblk;

	has_l = i >= 0;
	has_r = i + 1 < (int)aiosfs_eh_entries(leaf->eh);
	err = has_l ? aiosfs_ext_get(inode, ex + i, &l) : 0;
	if (!err && has_r)
		err = aiosfs_ext_get(inode, ex + i + 1, &r);
	if (err)
		return err;
	if (has_l)
		goal = l.pblk + (lblk - l.lblk);
	else if (has_r && r.pblk > r.lblk - lblk)
		goal = r.pblk - (r.lblk - lblk);
	else
		goal = aiosfs_inode_goal(inode);
	err = aiosfs_new_blocks(h, inode, goal, &count, &pblk, 0);
	if (err)
		return err;
	if (WARN_ON_ONCE(!count || count > min(map->m_len, aiosfs_ext_max_len(unwritten)))) {
		if (count)
			aiosfs_free_blocks(h, inode, pblk, count, 0);
		return -ENOSPC;
	}
	m = (struct aiosfs_ext){ lblk, count, pblk, unwritten };
	merge_l = has_l && aiosfs_ext_can_merge(&l, &m);
	merge_r = has_r && aiosfs_ext_can_merge(&m, &r) &&
		  (!merge_l || l.len + count + r.len <= aiosfs_ext_max_len(unwritten));
	if (!merge_l && !merge_r) {
		err = aiosfs_ext_insert(h, inode, path, &m, &linked);
		goto done;
	}
	err = aiosfs_ext_access(h, path, path->depth);
	if (err)
		goto done;
	linked = true;
	if (merge_l) {
		unsigned int n = aiosfs_eh_entries(leaf->eh);

		l.len += count + (merge_r ? r.len : 0);
		aiosfs_ext_put(ex + i, &l);
		if (merge_r) {
			memmove(ex + i + 1, ex + i + 2, (n - i - 2) * sizeof(*ex));
			leaf->eh->eh_entries = cpu_to_le16(n - 1);
		}
	} else {
		r.lblk = lblk;
		r.pblk = pblk;
		r.len += count;
		aiosfs_ext_put(ex + i + 1, &r);
	}
	err = aiosfs_ext_dirty(h, inode, path, path->depth);
	if (!err && !merge_l && i < 0)
		err = aiosfs_ext_fix_keys(h, inode, path, path->depth);
done:
	if (!linked) {
		aiosfs_free_blocks(h, inode, pblk, count, 0);
		return err;
	}
	aiosfs_ext_add_blocks(inode, path, count);
	map->m_pblk = pblk;
	map->m_len = count;
	map->m_unwritten = unwritten;
	map->m_new = true;
	/* The data written into them must reach the disk before the commit. */
	if (!err && !unwritten && S_ISREG(inode->i_mode))
		err = aiosfs_journal_order_blocks(h, inode, lblk, count);
	return err;
}

/* Writes back what the root and i_blocks became, and renews the extent cache. */
static int aiosfs_ext_finish(struct aiosfs_handle *h, struct inode *inode,
			     struct aiosfs_ext_path *path, int err)
{
	int err2 = 0;

	aiosfs_ext_path_release(path);
	if (path->dirty_inode)
		err2 = aiosfs_mark_inode_dirty(h, inode);
	path->dirty_inode = false;
	aiosfs_ext_cache_update(inode, true);
	return err ?: err2;
}

/* Whether the mapping the cache gave needs the tree changed. */
static bool aiosfs_ext_map_changes(const struct aiosfs_map *map, unsigned int flags)
{
	if (!map->m_pblk)
		return flags & AIOSFS_GET_CREATE;
	return map->m_unwritten && (flags & AIOSFS_GET_CONVERT);
}

int aiosfs_ext_map_create(struct aiosfs_handle *h, struct inode *inode, u32 lblk, u32 len,
			  unsigned int flags, struct aiosfs_map *map)
{
	struct aiosfs_ext_path path;
	struct aiosfs_ext_level *leaf;
	struct aiosfs_ext e;
	bool changed = false;
	u64 next;
	int err;

	WARN_ON_ONCE(!rwsem_is_locked(&AIOSFS_I(inode)->i_data_sem));
	if (WARN_ON_ONCE(!len))
		return -EINVAL;
	map->m_new = false;
	/* Most calls change nothing: the cache answers those without a walk. */
	if (aiosfs_ext_cache_map(inode, lblk, len, map) && !aiosfs_ext_map_changes(map, flags))
		return 0;
	memset(&path, 0, sizeof(path));
	err = aiosfs_ext_find(inode, lblk, &path);
	if (err)
		goto out;
	leaf = &path.lv[path.depth];
	if (leaf->idx >= 0) {
		err = aiosfs_ext_get(inode, aiosfs_ext_first(leaf->eh) + leaf->idx, &e);
		if (err)
			goto out;
		if (lblk - e.lblk < e.len) {
			map->m_lblk = lblk;
			map->m_pblk = e.pblk + (lblk - e.lblk);
			map->m_len = min(len, e.lblk + e.len - lblk);
			map->m_unwritten = e.unwritten;
			if (!e.unwritten || !(flags & AIOSFS_GET_CONVERT))
				goto out;
			changed = true;
			err = aiosfs_ext_set_state(h, inode, &path, lblk, (u64)lblk + map->m_len,
						   false);
			if (!err)
				map->m_unwritten = false;
			goto out;
		}
	}
	next = aiosfs_ext_next(&path);
	if (next <= lblk) {
		err = aiosfs_ext_corrupt(inode, aiosfs_path_blk(&path, path.depth),
					 "extents out of order");
		goto out;
	}
	map->m_lblk = lblk;
	map->m_pblk = 0;
	map->m_unwritten = false;
	map->m_len = min_t(u64, len, next - lblk);
	if (flags & AIOSFS_GET_CREATE) {
		changed = true;
		err = aiosfs_ext_alloc(h, inode, &path, flags, map);
	}
out:
	if (changed)
		return aiosfs_ext_finish(h, inode, &path, err);
	aiosfs_ext_path_release(&path);
	return err;
}

int aiosfs_ext_mark_unwritten(struct aiosfs_handle *h, struct inode *inode, u32 lblk,
			      u32 len)
{
	struct aiosfs_ext_path path;
	u64 pos = lblk, end = min_t(u64, (u64)lblk + len, AIOSFS_EXT_END);
	bool changed = false;
	int err = 0;

	WARN_ON_ONCE(!rwsem_is_locked(&AIOSFS_I(inode)->i_data_sem));
	memset(&path, 0, sizeof(path));
	while (pos < end) {
		struct aiosfs_ext_level *leaf;
		struct aiosfs_ext e;
		u64 next;

		err = aiosfs_ext_find(inode, pos, &path);
		if (err)
			break;
		leaf = &path.lv[path.depth];
		if (leaf->idx >= 0) {
			err = aiosfs_ext_get(inode, aiosfs_ext_first(leaf->eh) + leaf->idx, &e);
			if (err)
				break;
			next = (u64)e.lblk + e.len;
			if (pos < next && !e.unwritten) {
				/* Unwritten extents hold one block less than written ones. */
				next = min3(next, end, pos + AIOSFS_EXT_UNWRITTEN_MAX);
				changed = true;
				err = aiosfs_ext_set_state(h, inode, &path, pos, next, true);
				if (err)
					break;
			}
			if (pos < next) {
				pos = next;
				continue;
			}
		}
		next = aiosfs_ext_next(&path);
		if (next <= pos) {
			err = aiosfs_ext_corrupt(inode, aiosfs_path_blk(&path, path.depth),
						 "extents out of order");
			break;
		}
		pos = next;
	}
	if (changed)
		return aiosfs_ext_finish(h, inode, &path, err);
	aiosfs_ext_path_release(&path);
	return err;
}

/*
 * The node at level l (> 0) is empty: it goes, with its entry in the
 * parent, and so on up while parents empty too.  An empty root becomes an
 * empty leaf.  The path is stale afterwards.
 */
static int aiosfs_ext_rm_node(struct aiosfs_handle *h, struct inode *inode,
			      struct aiosfs_ext_path *path, int l)
{
	int err;

	for (; l > 0; l--) {
		struct aiosfs_ext_level *up = &path->lv[l - 1];
		struct aiosfs_extent_idx *ix = aiosfs_idx_first(up->eh);
		unsigned int n = aiosfs_eh_entries(up->eh);

		err = aiosfs_ext_access(h, path, l - 1);
		if (err)
			return err;
		memmove(ix + up->idx, ix + up->idx + 1, (n - up->idx - 1) * sizeof(*ix));
		up->eh->eh_entries = cpu_to_le16(n - 1);
		if (l == 1 && n == 1)
			up->eh->eh_depth = 0;
		err = aiosfs_ext_dirty(h, inode, path, l - 1);
		if (err)
			return err;
		aiosfs_ext_free(h, inode, path, path->lv[l].bh->b_blocknr, 1, AIOSFS_FREE_METADATA);
		if (n > 1)
			return up->idx ? 0 : aiosfs_ext_fix_keys(h, inode, path, l - 1);
	}
	return 0;
}

/*
 * Frees what of [from, *end) the path's leaf (looked up at *end - 1) holds,
 * from the end back, and lowers *end to where it stopped: from when done,
 * higher when the handle ran short of credits.  The leaf is written back
 * consistent in every case.
 */
static int aiosfs_ext_rm_leaf(struct aiosfs_handle *h, struct inode *inode,
			      struct aiosfs_ext_path *path, u32 from, u64 *end)
{
	int depth = path->depth, i, rm_lo, rm_hi, err, err2;
	struct aiosfs_ext_level *leaf = &path->lv[depth];
	struct aiosfs_extent *ex = aiosfs_ext_first(leaf->eh);
	unsigned int n = aiosfs_eh_entries(leaf->eh);
	struct aiosfs_ext e;

	if (leaf->idx < 0) {
		/* Nothing here at or before *end - 1: go on left of the leaf. */
		if (!n && depth)
			return aiosfs_ext_rm_node(h, inode, path, depth);
		*end = max(aiosfs_ext_leaf_floor(path), from);
		return 0;
	}
	err = aiosfs_ext_access(h, path, depth);
	if (err)
		return err;
	/* Entries [rm_lo, rm_hi) are wholly freed. */
	rm_lo = leaf->idx + 1;
	rm_hi = rm_lo;
	for (i = leaf->idx; i >= 0; i--) {
		u64 e_end, a, b;

		err = aiosfs_ext_get(inode, ex + i, &e);
		if (err)
			break;
		e_end = (u64)e.lblk + e.len;
		if (e_end <= from) {
			*end = from;
			break;
		}
		if (i < leaf->idx && e_end > *end) {
			err = aiosfs_ext_corrupt(inode, aiosfs_path_blk(path, depth),
						 "overlapping extents");
			break;
		}
		a = max_t(u64, e.lblk, from);
		b = min(e_end, *end);
		if (WARN_ON_ONCE(a > e.lblk && b < e_end)) {
			/* A hole inside one extent was split off before. */
			err = -EINVAL;
			break;
		}
		if (b < e_end) {
			/* Its head goes: [b, e_end) stays. */
			aiosfs_ext_free(h, inode, path, e.pblk, b - e.lblk, 0);
			e.pblk += b - e.lblk;
			e.len = e_end - b;
			e.lblk = b;
			aiosfs_ext_put(ex + i, &e);
			rm_lo = i;
			rm_hi = i;
		} else if (a > e.lblk) {
			/* Its tail goes. */
			aiosfs_ext_free(h, inode, path, e.pblk + (a - e.lblk), e_end - a, 0);
			e.len = a - e.lblk;
			aiosfs_ext_put(ex + i, &e);
		} else {
			aiosfs_ext_free(h, inode, path, e.pblk, e.len, 0);
			rm_lo = i;
		}
		*end = a;
		if (a <= from || !aiosfs_journal_try_extend(h, AIOSFS_CREDITS_EXTENT))
			break;
	}
	if (i < 0)
		*end = max_t(u64, min_t(u64, *end, aiosfs_ext_leaf_floor(path)), from);
	memmove(ex + rm_lo, ex + rm_hi, (n - rm_hi) * sizeof(*ex));
	n -= rm_hi - rm_lo;
	leaf->eh->eh_entries = cpu_to_le16(n);
	err2 = aiosfs_ext_dirty(h, inode, path, depth);
	err = err ?: err2;
	if (err)
		return err;
	if (!n && depth)
		return aiosfs_ext_rm_node(h, inode, path, depth);
	return aiosfs_ext_fix_keys(h, inode, path, depth);
}

/*
 * A hole strictly inside one extent: it becomes two, which may need a new
 * leaf.  Returns 1 when that was the case (and all is done).
 */
static int aiosfs_ext_punch_middle(struct aiosfs_handle *h, struct inode *inode,
				   struct aiosfs_ext_path *path, u32 from, u64 end)
{
	struct aiosfs_ext_level *leaf;
	struct aiosfs_extent *ex;
	struct aiosfs_ext e, r;
	unsigned int n;
	int err;

	err = aiosfs_ext_find(inode, from, path);
	if (err)
		return err;
	leaf = &path->lv[path->depth];
	if (leaf->idx < 0)
		return 0;
	err = aiosfs_ext_get(inode, aiosfs_ext_first(leaf->eh) + leaf->idx, &e);
	if (err)
		return err;
	if (e.lblk >= from || (u64)e.lblk + e.len <= end)
		return 0;
	/* The split must not fail for want of space: it frees blocks. */
	err = aiosfs_ext_make_room(h, inode, path, 1, false, AIOSFS_ALLOC_NOFAIL_RES);
	if (!err)
		err = aiosfs_ext_access(h, path, path->depth);
	if (err)
		return err;
	leaf = &path->lv[path->depth];
	ex = aiosfs_ext_first(leaf->eh) + leaf->idx;
	n = aiosfs_eh_entries(leaf->eh);
	r = (struct aiosfs_ext){ end, e.lblk + e.len - end, e.pblk + (end - e.lblk), e.unwritten };
	memmove(ex + 2, ex + 1, (n - leaf->idx - 1) * sizeof(*ex));
	aiosfs_ext_put(ex + 1, &r);
	e.len = from - e.lblk;
	aiosfs_ext_put(ex, &e);
	leaf->eh->eh_entries = cpu_to_le16(n + 1);
	err = aiosfs_ext_dirty(h, inode, path, path->depth);
	if (err)
		return err;
	aiosfs_ext_free(h, inode, path, e.pblk + e.len, end - from, 0);
	return 1;
}

/* While the root's one child fits in the root, the tree loses a level. */
static int aiosfs_ext_shrink(struct aiosfs_handle *h, struct inode *inode,
			     struct aiosfs_ext_path *path)
{
	struct aiosfs_extent_header *root = (void *)AIOSFS_I(inode)->i_data, *eh;
	struct buffer_head *bh;
	int err;

	aiosfs_ext_path_release(path);
	while (root->eh_depth && aiosfs_eh_entries(root) == 1) {
		bh = aiosfs_bread(inode->i_sb, aiosfs_idx_pblk(aiosfs_idx_first(root)),
				  "extent tree");
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		err = aiosfs_ext_check_block(inode, bh, le16_to_cpu(root->eh_depth) - 1);
		eh = (void *)bh->b_data;
		if (err || aiosfs_eh_entries(eh) > aiosfs_eh_max(root)) {
			brelse(bh);
			return err;
		}
		memcpy(root + 1, eh + 1, aiosfs_eh_entries(eh) * sizeof(struct aiosfs_extent));
		root->eh_entries = eh->eh_entries;
		root->eh_depth = eh->eh_depth;
		aiosfs_ext_free(h, inode, path, bh->b_blocknr, 1, AIOSFS_FREE_METADATA);
		brelse(bh);
	}
	return 0;
}

/*
 * The handle is short of credits: with the tree consistent, i_data_sem is
 * dropped around the restart (which waits for other handles, which may wait
 * for it).  Readers cannot use the cache across the gap.
 */
static int aiosfs_ext_restart(struct aiosfs_handle *h, struct inode *inode,
			      struct aiosfs_ext_path *path)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	int err;

	aiosfs_ext_path_release(path);
	if (path->dirty_inode) {
		err = aiosfs_mark_inode_dirty(h, inode);
		if (err)
			return err;
		path->dirty_inode = false;
	}
	up_write(&ei->i_data_sem);
	err = aiosfs_journal_ensure_credits(h, AIOSFS_CREDITS_EXTENT);
	down_write(&ei->i_data_sem);
	/* An opener may have filled it meanwhile: what we free next is in it. */
	aiosfs_ext_cache_update(inode, false);
	return err;
}

int aiosfs_ext_remove_range(struct aiosfs_handle *h, struct inode *inode, u32 from, u32 to)
{
	u64 end = to == U32_MAX ? AIOSFS_EXT_END : to;
	struct aiosfs_ext_path path;
	int err;

	WARN_ON_ONCE(!rwsem_is_locked(&AIOSFS_I(inode)->i_data_sem));
	if (from >= end)
		return 0;
	memset(&path, 0, sizeof(path));
	/* Blocks about to be freed must not stay visible to lockless readers. */
	aiosfs_ext_cache_update(inode, false);
	err = aiosfs_ext_punch_middle(h, inode, &path, from, end);
	if (err)
		goto out;
	/* From the end back, like a truncate, so that a restart leaves a shorter file. */
	while (end > from) {
		if (!aiosfs_journal_try_extend(h, AIOSFS_CREDITS_EXTENT)) {
			err = aiosfs_ext_restart(h, inode, &path);
			if (err)
				goto out;
		}
		err = aiosfs_ext_find(inode, end - 1, &path);
		if (!err)
			err = aiosfs_ext_rm_leaf(h, inode, &path, from, &end);
		if (err)
			goto out;
	}
	err = aiosfs_ext_shrink(h, inode, &path);
out:
	return aiosfs_ext_finish(h, inode, &path, err < 0 ? err : 0);
}

/* An empty tree in the inode; the inode maps through extents from now on. */
void aiosfs_ext_tree_init(struct inode *inode)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_extent_header *eh = (void *)ei->i_data;

	memset(ei->i_data, 0, sizeof(ei->i_data));
	eh->eh_magic = cpu_to_le16(AIOSFS_EXT_MAGIC);
	eh->eh_max = cpu_to_le16((AIOSFS_N_BLOCKS * sizeof(__le32) - sizeof(*eh)) /
				 sizeof(struct aiosfs_extent));
	ei->i_flags |= AIOSFS_EXTENTS_FL;
}
