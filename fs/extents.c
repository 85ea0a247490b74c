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
#include "aiosfs.h"

static int aiosfs_ext_bad(struct inode *inode, u64 blk, const char *why)
{
	aiosfs_error(inode->i_sb, "inode %lu: extent tree block %llu: %s", inode->i_ino, blk, why);
	return -AIOSFS_EFSCORRUPTED;
}

/* Checks a tree block read from disk: header, depth, room for the tail. */
static int aiosfs_ext_check_block(struct inode *inode, struct buffer_head *bh, u16 depth)
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
static unsigned int aiosfs_ext_search(const void *base, unsigned int n, size_t esize,
				      u32 lblk)
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

struct aiosfs_ext_cache {
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
 * outside [first, end) or the filesystem, or too many.  The slow path
 * then reports what is wrong when the blocks are read.
 */
static bool aiosfs_ec_add_leaf(struct inode *inode, struct aiosfs_ext_cache *ec,
			       const struct aiosfs_extent_header *eh, u64 first, u64 end)
{
	const struct aiosfs_extent *ex = (const void *)(eh + 1);
	unsigned int n = le16_to_cpu(eh->eh_entries), i;
	u64 floor = first;

	if (ec->nr + n > AIOSFS_EC_MAX_EXTENTS)
		return false;
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

static struct aiosfs_ext_cache *aiosfs_ec_build(struct inode *inode)
{
	struct aiosfs_extent_header *eh = (void *)AIOSFS_I(inode)->i_data;
	struct aiosfs_extent_idx *ix = (void *)(eh + 1);
	unsigned int n = le16_to_cpu(eh->eh_entries), i;
	u16 depth = le16_to_cpu(eh->eh_depth);
	struct aiosfs_ext_cache *ec;

	if (depth > 1 || (depth == 1 && (!n || n > AIOSFS_EC_MAX_LEAVES)))
		return NULL;
	ec = kvmalloc(struct_size(ec, ext, AIOSFS_EC_MAX_EXTENTS), GFP_KERNEL);
	if (!ec)
		return NULL;
	ec->nr = 0;
	if (!depth) {
		if (aiosfs_ec_add_leaf(inode, ec, eh, 0, 1ULL << 32))
			return ec;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		u64 first = le32_to_cpu(ix[i].ei_block);
		u64 end = i + 1 < n ? le32_to_cpu(ix[i + 1].ei_block) : 1ULL << 32;
		u64 leaf = le32_to_cpu(ix[i].ei_leaf_lo) | (u64)le16_to_cpu(ix[i].ei_leaf_hi) << 32;
		struct buffer_head *bh = aiosfs_bread(inode->i_sb, leaf, "extent tree");
		bool ok;

		if (IS_ERR(bh))
			goto fail;
		ok = !aiosfs_ext_check_block(inode, bh, 0) &&
		     aiosfs_ec_add_leaf(inode, ec, (void *)bh->b_data, first, end);
		brelse(bh);
		if (!ok)
			goto fail;
	}
	return ec;
fail:
	kvfree(ec);
	return NULL;
}

/* A copy of just the size it needs: the build buffer has room for the most. */
static struct aiosfs_ext_cache *aiosfs_ec_shrink(struct aiosfs_ext_cache *big)
{
	struct aiosfs_ext_cache *ec = kvmalloc(struct_size(ec, ext, big->nr), GFP_KERNEL);

	if (ec)
		memcpy(ec, big, struct_size(ec, ext, big->nr));
	kvfree(big);
	return ec;
}

/* Called at open: fills the extent cache of a file with few extents. */
void aiosfs_ext_cache_warm(struct inode *inode)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct aiosfs_ext_cache *ec;

	if (!(ei->i_flags & AIOSFS_EXTENTS_FL) || rcu_access_pointer(ei->i_ec))
		return;
	ec = aiosfs_ec_build(inode);
	if (ec)
		ec = aiosfs_ec_shrink(ec);
	if (!ec)
		return;
	spin_lock(&inode->i_lock);
	if (!rcu_access_pointer(ei->i_ec)) {
		rcu_assign_pointer(ei->i_ec, ec);
		ec = NULL;
	}
	spin_unlock(&inode->i_lock);
	kvfree(ec);
}

/* From ->free_inode, after an RCU grace period: no reader is left. */
void aiosfs_ext_cache_free(struct inode *inode)
{
	kvfree(rcu_dereference_protected(AIOSFS_I(inode)->i_ec, 1));
}
