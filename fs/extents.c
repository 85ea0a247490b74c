// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: logical to physical block mapping through the extent tree.
 *
 * aiosfs_map_blocks() is the one mapping function: the read paths,
 * directories and symlinks all go through it.  Each tree level must be
 * exactly one shallower than its parent, so a hostile tree can neither
 * loop nor recurse without end.
 *
 * A file with few extents gets them all copied into memory when it is
 * opened (the extent cache): mapping a block then costs a binary search,
 * never a read of a tree block that dropped out of the buffer cache, which
 * would put a second device round trip on a cold read.
 */
#include <linux/sched/mm.h>
#include "aiosfs.h"

static int aiosfs_ext_bad(struct inode *inode, u64 blk, const char *why)
{
	aiosfs_error(inode->i_sb, "inode %lu: extent tree block %llu: %s", inode->i_ino, blk, why);
	return -AIOSFS_EFSCORRUPTED;
}

/* Checks a tree block read from disk: header, depth, room for the tail. */
int aiosfs_ext_check_block(struct inode *inode, struct buffer_head *bh, u16 depth)
{
	struct aiosfs_extent_header *eh = (void *)bh->b_data;
	size_t cap = (inode->i_sb->s_blocksize - sizeof(*eh) -
		      sizeof(struct aiosfs_extent_tail)) / sizeof(struct aiosfs_extent);
	u16 max = le16_to_cpu(eh->eh_max);

	if (le16_to_cpu(eh->eh_magic) != AIOSFS_EXT_MAGIC)
		return aiosfs_ext_bad(inode, bh->b_blocknr, "bad magic");
	if (le16_to_cpu(eh->eh_depth) != depth)
		return aiosfs_ext_bad(inode, bh->b_blocknr, "wrong depth");
	if (!max || max > cap || le16_to_cpu(eh->eh_entries) > max)
		return aiosfs_ext_bad(inode, bh->b_blocknr, "bad entry counts");
	if (aiosfs_buffer_verified(bh) || !AIOSFS_SB(inode->i_sb)->s_has_csum)
		return 0;
	if (!aiosfs_extent_block_csum_ok(inode, eh)) {
		aiosfs_error(inode->i_sb, "inode %lu: checksum mismatch in extent tree block %llu",
			     inode->i_ino, (u64)bh->b_blocknr);
		return -AIOSFS_EFSBADCRC;
	}
	aiosfs_set_buffer_verified(bh);
	return 0;
}

/*
 * The last of n entries of size esize at base whose first logical block
 * (read by first()) is <= lblk; the first entry when lblk precedes them all.
 */
unsigned int aiosfs_ext_search(const void *base, unsigned int n, size_t esize, u32 lblk)
{
	unsigned int lo = 1, hi = n;

	/* Both entry kinds start with their __le32 first logical block. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const __le32 *first = base + mid * esize;

		if (le32_to_cpu(*first) <= lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

static void aiosfs_map_hole(struct aiosfs_map *map, u32 lblk, u32 max_len, u64 next)
{
	map->m_lblk = lblk;
	map->m_pblk = 0;
	map->m_unwritten = false;
	map->m_len = min_t(u64, max_len, next > lblk ? next - lblk : 1);
}

static int aiosfs_map_leaf(struct inode *inode, struct aiosfs_extent_header *eh, u32 lblk,
			   u32 max_len, u64 next, struct aiosfs_map *map)
{
	unsigned int n = le16_to_cpu(eh->eh_entries);
	struct aiosfs_extent *ex = (void *)(eh + 1);
	unsigned int i;
	u32 start, len;
	u64 pblk;

	if (!n) {
		aiosfs_map_hole(map, lblk, max_len, next);
		return 0;
	}
	i = aiosfs_ext_search(ex, n, sizeof(*ex), lblk);
	start = le32_to_cpu(ex[i].ee_block);
	if (lblk < start) {
		aiosfs_map_hole(map, lblk, max_len, start);
		return 0;
	}
	len = le16_to_cpu(ex[i].ee_len);
	map->m_unwritten = len > AIOSFS_EXT_INIT_MAX_LEN;
	if (map->m_unwritten)
		len -= AIOSFS_EXT_INIT_MAX_LEN;
	if (!len || (u64)start + len > (1ULL << 32)) {
		aiosfs_error(inode->i_sb, "inode %lu: bad extent at logical block %u, length %u",
			     inode->i_ino, start, len);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (lblk - start >= len) {
		if (i + 1 < n)
			next = min_t(u64, next, le32_to_cpu(ex[i + 1].ee_block));
		aiosfs_map_hole(map, lblk, max_len, next);
		return 0;
	}
	pblk = le32_to_cpu(ex[i].ee_start_lo) | (u64)le16_to_cpu(ex[i].ee_start_hi) << 32;
	if (!aiosfs_blocks_valid(inode->i_sb, pblk, len)) {
		aiosfs_error(inode->i_sb,
			     "inode %lu: extent %u+%u points outside the filesystem (block %llu)",
			     inode->i_ino, start, len, pblk);
		return -AIOSFS_EFSCORRUPTED;
	}
	map->m_lblk = lblk;
	map->m_pblk = pblk + (lblk - start);
	map->m_len = min(max_len, start + len - lblk);
	return 0;
}

int __aiosfs_map_blocks(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map)
{
	struct aiosfs_extent_header *eh = (void *)AIOSFS_I(inode)->i_data;
	struct buffer_head *bh = NULL;
	u64 next = 1ULL << 32;	/* where the subtree in hand ends */
	u16 depth;
	int err;

	if (WARN_ON_ONCE(!max_len))
		return -EINVAL;
	map->m_new = false;
	if (aiosfs_ext_cache_map(inode, lblk, max_len, map))
		return 0;
	if (!(AIOSFS_I(inode)->i_flags & AIOSFS_EXTENTS_FL)) {
		aiosfs_error(inode->i_sb, "inode %lu uses indirect block maps, not supported yet",
			     inode->i_ino);
		return -EOPNOTSUPP;
	}
	/* aiosfs_iget() checked the root in the inode. */
	depth = le16_to_cpu(eh->eh_depth);
	while (depth) {
		struct aiosfs_extent_idx *ix = (void *)(eh + 1);
		unsigned int n = le16_to_cpu(eh->eh_entries), i;
		u64 child;

		if (!n) {
			err = aiosfs_ext_bad(inode, bh ? bh->b_blocknr : 0, "empty index node");
			goto out;
		}
		i = aiosfs_ext_search(ix, n, sizeof(*ix), lblk);
		if (i + 1 < n)
			next = min_t(u64, next, le32_to_cpu(ix[i + 1].ei_block));
		child = le32_to_cpu(ix[i].ei_leaf_lo) | (u64)le16_to_cpu(ix[i].ei_leaf_hi) << 32;
		brelse(bh);
		bh = aiosfs_bread(inode->i_sb, child, "extent tree");
		if (IS_ERR(bh)) {
			err = PTR_ERR(bh);
			bh = NULL;
			goto out;
		}
		depth--;
		err = aiosfs_ext_check_block(inode, bh, depth);
		if (err)
			goto out;
		eh = (void *)bh->b_data;
	}
	err = aiosfs_map_leaf(inode, eh, lblk, max_len, next, map);
out:
	brelse(bh);
	return err;
}

int aiosfs_map_blocks(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	int err;

	/* The cache is RCU: most maps need no lock at all. */
	map->m_new = false;
	if (max_len && aiosfs_ext_cache_map(inode, lblk, max_len, map))
		return 0;
	down_read(&ei->i_data_sem);
	err = __aiosfs_map_blocks(inode, lblk, max_len, map);
	up_read(&ei->i_data_sem);
	return err;
}

/* Leaves a file may have and still be cached whole, and extents in all. */
#define AIOSFS_EC_MAX_LEAVES	4
#define AIOSFS_EC_MAX_EXTENTS	1024

struct aiosfs_cext {
	u32 lblk;
	u32 len;
	u64 pblk;
	bool unwritten;
};

/*
 * Never changed once published: a change of the tree publishes a new copy
 * (or none), and the old one is freed only after an RCU grace period, when
 * no lockless reader can be left in it.
 */
struct aiosfs_ext_cache {
	struct rcu_head rcu;
	u32 nr;
	struct aiosfs_cext ext[];
};

/* Whether the extent cache answered; it holds every extent of the file. */
bool aiosfs_ext_cache_map(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map)
{
	struct aiosfs_ext_cache *ec;
	const struct aiosfs_cext *e;
	unsigned int lo, hi;
	u64 next;

	rcu_read_lock();
	ec = rcu_dereference(AIOSFS_I(inode)->i_ec);
	if (!ec) {
		rcu_read_unlock();
		return false;
	}
	/* The first extent that starts after lblk; the one before may hold it. */
	lo = 0;
	hi = ec->nr;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (ec->ext[mid].lblk <= lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	next = lo < ec->nr ? ec->ext[lo].lblk : 1ULL << 32;
	e = lo ? &ec->ext[lo - 1] : NULL;
	if (e && lblk - e->lblk < e->len) {
		map->m_lblk = lblk;
		map->m_pblk = e->pblk + (lblk - e->lblk);
		map->m_len = min(max_len, e->lblk + e->len - lblk);
		map->m_unwritten = e->unwritten;
	} else {
		aiosfs_map_hole(map, lblk, max_len, next);
	}
	rcu_read_unlock();
	return true;
}

/*
 * Appends a leaf's extents to the cache; false if they are out of order,
 * outside [first, end) or the filesystem.  The slow path then reports
 * what is wrong when the blocks are read.
 */
static bool aiosfs_ec_add_leaf(struct inode *inode, struct aiosfs_ext_cache *ec,
			       const struct aiosfs_extent_header *eh, u64 first, u64 end)
{
	const struct aiosfs_extent *ex = (const void *)(eh + 1);
	unsigned int n = le16_to_cpu(eh->eh_entries), i;
	u64 floor = first;

	for (i = 0; i < n; i++) {
		struct aiosfs_cext *c = &ec->ext[ec->nr];
		u32 len = le16_to_cpu(ex[i].ee_len);

		c->unwritten = len > AIOSFS_EXT_INIT_MAX_LEN;
		if (c->unwritten)
			len -= AIOSFS_EXT_INIT_MAX_LEN;
		c->lblk = le32_to_cpu(ex[i].ee_block);
		c->len = len;
		c->pblk = le32_to_cpu(ex[i].ee_start_lo) |
			  (u64)le16_to_cpu(ex[i].ee_start_hi) << 32;
		if (!len || c->lblk < floor || (u64)c->lblk + len > end ||
		    !aiosfs_blocks_valid(inode->i_sb, c->pblk, len))
			return false;
		floor = (u64)c->lblk + len;
		ec->nr++;
	}
	return true;
}

/*
 * A cache of all extents, or NULL if the tree is too big or looks wrong.
 * The leaves are read (and counted) first so that the copy is allocated
 * at its exact size.  The caller keeps the tree still (i_data_sem).
 */
static struct aiosfs_ext_cache *aiosfs_ec_build(struct inode *inode)
{
	struct aiosfs_extent_header *eh = (void *)AIOSFS_I(inode)->i_data;
	struct aiosfs_extent_idx *ix = (void *)(eh + 1);
	unsigned int n = le16_to_cpu(eh->eh_entries), nbh = 0, total = 0, i;
	struct buffer_head *bh[AIOSFS_EC_MAX_LEAVES];
	u16 depth = le16_to_cpu(eh->eh_depth);
	struct aiosfs_ext_cache *ec = NULL;
	bool ok = true;

	if (depth > 1 || (depth == 1 && (!n || n > AIOSFS_EC_MAX_LEAVES)))
		return NULL;
	if (!depth)
		total = n;
	for (i = 0; depth && i < n; i++) {
		u64 leaf = le32_to_cpu(ix[i].ei_leaf_lo) | (u64)le16_to_cpu(ix[i].ei_leaf_hi) << 32;

		bh[i] = aiosfs_bread(inode->i_sb, leaf, "extent tree");
		if (IS_ERR(bh[i]))
			goto out;
		nbh++;
		if (aiosfs_ext_check_block(inode, bh[i], 0))
			goto out;
		total += le16_to_cpu(((struct aiosfs_extent_header *)bh[i]->b_data)->eh_entries);
		if (total > AIOSFS_EC_MAX_EXTENTS)
			goto out;
	}
	ec = kvmalloc(struct_size(ec, ext, total), GFP_KERNEL);
	if (!ec)
		goto out;
	ec->nr = 0;
	if (!depth)
		ok = aiosfs_ec_add_leaf(inode, ec, eh, 0, 1ULL << 32);
	for (i = 0; i < nbh && ok; i++) {
		u64 first = le32_to_cpu(ix[i].ei_block);
		u64 end = i + 1 < n ? le32_to_cpu(ix[i + 1].ei_block) : 1ULL << 32;

		ok = aiosfs_ec_add_leaf(inode, ec, (void *)bh[i]->b_data, first, end);
	}
	if (!ok) {
		kvfree(ec);
		ec = NULL;
	}
out:
	for (i = 0; i < nbh; i++)
		brelse(bh[i]);
	return ec;
}

/* Called at open: fills the extent cache of a file with few extents. */
void aiosfs_ext_cache_warm(struct inode *inode)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_ext_cache *ec = NULL;

	if (!(ei->i_flags & AIOSFS_EXTENTS_FL) || rcu_access_pointer(ei->i_ec))
		return;
	/* A writer may be changing the tree: copy a settled one. */
	down_read(&ei->i_data_sem);
	if (!rcu_access_pointer(ei->i_ec))
		ec = aiosfs_ec_build(inode);
	if (ec) {
		/* Two openers may both have built one. */
		spin_lock(&inode->i_lock);
		if (!rcu_access_pointer(ei->i_ec)) {
			rcu_assign_pointer(ei->i_ec, ec);
			ec = NULL;
		}
		spin_unlock(&inode->i_lock);
	}
	up_read(&ei->i_data_sem);
	kvfree(ec);
}

/*
 * After a change of the tree, with i_data_sem held for write: the cache,
 * if the file had one or is back to a tree in the inode, is built anew
 * from the tree (if rebuild and the file still qualifies), else dropped.
 * Lockless readers may still be in the old copy: it is freed after them.
 */
void aiosfs_ext_cache_update(struct inode *inode, bool rebuild)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_extent_header *eh = (void *)ei->i_data;
	struct aiosfs_ext_cache *old, *ec = NULL;
	unsigned int nofs;

	old = rcu_dereference_protected(ei->i_ec, lockdep_is_held(&ei->i_data_sem));
	if (rebuild && S_ISREG(inode->i_mode) && (old || !eh->eh_depth)) {
		/* Inside a handle: reclaim must not write to this filesystem. */
		nofs = memalloc_nofs_save();
		ec = aiosfs_ec_build(inode);
		memalloc_nofs_restore(nofs);
	}
	if (!old && !ec)
		return;
	rcu_assign_pointer(ei->i_ec, ec);
	if (old)
		kvfree_rcu(old, rcu);
}

/* From ->free_inode, after an RCU grace period: no reader is left. */
void aiosfs_ext_cache_free(struct inode *inode)
{
	kvfree(rcu_dereference_protected(AIOSFS_I(inode)->i_ec, 1));
}
