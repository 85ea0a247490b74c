// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: block allocation, and the per-group state the inode allocator
 * shares.
 *
 * Each group has a mutex that serializes changes to its bitmaps and its
 * descriptor (several descriptors share a block: each group only touches
 * its own bytes and checksum).  Bitmaps live in the buffer cache; a
 * buffer is checked once, when it is read, and marked verified.  Groups
 * still flagged BLOCK_UNINIT or INODE_UNINIT have no bitmap on disk: the
 * buffer is computed in memory and reaches the disk, with the flag
 * cleared, in the handle that first changes it.
 *
 * Freed blocks stay "busy" until the transaction that freed them is
 * durable, so that a crash cannot leave their old owner pointing at a
 * new owner's data.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/rbtree.h>
#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include "aiosfs.h"

/* Why a group's bitmap cannot be trusted: found corrupt once, say so once. */
#define AIOSFS_GRP_BB_BAD	0x1
#define AIOSFS_GRP_IB_BAD	0x2

struct aiosfs_group {
	struct mutex g_lock;		/* the group's bitmaps and descriptor */
	u8 g_bad;			/* AIOSFS_GRP_*, under g_lock */
};

struct aiosfs_flex {
	atomic64_t f_free_blocks;
	atomic_t f_free_inodes;
	atomic_t f_used_dirs;
};

/* A run of metadata blocks: superblock copies, descriptors, bitmaps, inode tables. */
struct aiosfs_meta {
	u64 start;
	u64 len;
};

struct aiosfs_busy {
	struct rb_node b_node;		/* by start; busy extents never overlap */
	struct list_head b_link;	/* in the order they were freed */
	u64 b_start;
	u64 b_len;
	u32 b_tid;
};

struct aiosfs_balloc {
	struct aiosfs_group *groups;
	struct aiosfs_flex *flex;
	u32 flex_log;
	u32 flex_count;
	atomic_t used_dirs;
	struct aiosfs_meta *meta;	/* sorted, merged */
	u32 meta_count;
	/* sbi->s_free_blocks and s_free_inodes change under this. */
	spinlock_t count_lock;
	u64 resv;			/* kept for extent splits (like ext4) */
	kuid_t resuid;
	kgid_t resgid;
	spinlock_t busy_lock;		/* busy, busy_list, busy_blocks */
	struct rb_root busy;
	struct list_head busy_list;
	u64 busy_blocks;
};

static struct aiosfs_balloc *AIOSFS_BA(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_balloc;
}

/* Wrap-safe: is transaction a at or before b? */
static bool aiosfs_tid_le(u32 a, u32 b)
{
	return (s32)(a - b) <= 0;
}

/* Descriptor fields. */

static bool aiosfs_gd64(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_desc_size >= AIOSFS_MIN_DESC_SIZE_64BIT;
}

static u32 aiosfs_gd_get16(struct super_block *sb, const __le16 *lo, const __le16 *hi)
{
	u32 v = le16_to_cpu(READ_ONCE(*lo));

	if (aiosfs_gd64(sb))
		v |= (u32)le16_to_cpu(READ_ONCE(*hi)) << 16;
	return v;
}

static void aiosfs_gd_set16(struct super_block *sb, __le16 *lo, __le16 *hi, u32 v)
{
	WRITE_ONCE(*lo, cpu_to_le16(v & 0xffff));
	if (aiosfs_gd64(sb))
		WRITE_ONCE(*hi, cpu_to_le16(v >> 16));
}

static u64 aiosfs_gd_get32(struct super_block *sb, __le32 lo, __le32 hi)
{
	u64 v = le32_to_cpu(lo);

	if (aiosfs_gd64(sb))
		v |= (u64)le32_to_cpu(hi) << 32;
	return v;
}

u64 aiosfs_gd_block_bitmap(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get32(sb, gd->bg_block_bitmap_lo, gd->bg_block_bitmap_hi);
}

u64 aiosfs_gd_inode_bitmap(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get32(sb, gd->bg_inode_bitmap_lo, gd->bg_inode_bitmap_hi);
}

u32 aiosfs_gd_free_blocks(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get16(sb, &gd->bg_free_blocks_count_lo, &gd->bg_free_blocks_count_hi);
}

void aiosfs_gd_set_free_blocks(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n)
{
	aiosfs_gd_set16(sb, &gd->bg_free_blocks_count_lo, &gd->bg_free_blocks_count_hi, n);
}

u32 aiosfs_gd_free_inodes(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get16(sb, &gd->bg_free_inodes_count_lo, &gd->bg_free_inodes_count_hi);
}

void aiosfs_gd_set_free_inodes(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n)
{
	aiosfs_gd_set16(sb, &gd->bg_free_inodes_count_lo, &gd->bg_free_inodes_count_hi, n);
}

u32 aiosfs_gd_used_dirs(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get16(sb, &gd->bg_used_dirs_count_lo, &gd->bg_used_dirs_count_hi);
}

void aiosfs_gd_set_used_dirs(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n)
{
	aiosfs_gd_set16(sb, &gd->bg_used_dirs_count_lo, &gd->bg_used_dirs_count_hi, n);
}

u32 aiosfs_gd_itable_unused(struct super_block *sb, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_get16(sb, &gd->bg_itable_unused_lo, &gd->bg_itable_unused_hi);
}

void aiosfs_gd_set_itable_unused(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n)
{
	aiosfs_gd_set16(sb, &gd->bg_itable_unused_lo, &gd->bg_itable_unused_hi, n);
}

/* The UNINIT flags mean something only with descriptor checksums. */
static bool aiosfs_gd_flag(struct super_block *sb, const struct aiosfs_group_desc *gd, u16 flag)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	if (!sbi->s_has_csum && !(sbi->s_ro_compat & AIOSFS_FEATURE_RO_COMPAT_GDT_CSUM))
		return false;
	return le16_to_cpu(READ_ONCE(gd->bg_flags)) & flag;
}

static void aiosfs_gd_clear_flag(struct aiosfs_group_desc *gd, u16 flag)
{
	WRITE_ONCE(gd->bg_flags, gd->bg_flags & ~cpu_to_le16(flag));
}

/* Geometry. */

static u64 aiosfs_group_first(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	return sbi->s_first_data_block + (u64)group * sbi->s_blocks_per_group;
}

static u32 aiosfs_group_blocks(struct super_block *sb, u32 group)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	return min_t(u64, sbi->s_blocks_per_group,
		     sbi->s_blocks_count - aiosfs_group_first(sb, group));
}

static u32 aiosfs_group_of(struct super_block *sb, u64 blk)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	return div_u64(blk - sbi->s_first_data_block, sbi->s_blocks_per_group);
}

/* Bitmaps: a set bit is in use.  Block buffers are long-aligned. */

static void aiosfs_set_bits(void *bm, u32 start, u32 len)
{
#ifdef __LITTLE_ENDIAN
	bitmap_set(bm, start, len);
#else
	while (len--)
		__set_bit_le(start++, bm);
#endif
}

static void aiosfs_clear_bits(void *bm, u32 start, u32 len)
{
#ifdef __LITTLE_ENDIAN
	bitmap_clear(bm, start, len);
#else
	while (len--)
		__clear_bit_le(start++, bm);
#endif
}

static bool aiosfs_bits_all_set(const void *bm, u32 start, u32 len)
{
	return find_next_zero_bit_le(bm, start + len, start) >= start + len;
}

static u32 aiosfs_count_clear(const void *bm, u32 nbits)
{
	u32 pos = 0, n = 0, end;

	while ((pos = find_next_zero_bit_le(bm, nbits, pos)) < nbits) {
		end = find_next_bit_le(bm, nbits, pos);
		n += end - pos;
		pos = end;
	}
	return n;
}

/* Metadata runs. */

static int aiosfs_meta_cmp(const void *a, const void *b)
{
	const struct aiosfs_meta *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* The index of the first metadata run that ends after blk. */
static u32 aiosfs_meta_first(struct aiosfs_balloc *ba, u64 blk)
{
	u32 lo = 0, hi = ba->meta_count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ba->meta[mid].start + ba->meta[mid].len <= blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool aiosfs_is_metadata(struct aiosfs_balloc *ba, u64 start, u64 len)
{
	u32 i = aiosfs_meta_first(ba, start);

	return i < ba->meta_count && ba->meta[i].start < start + len;
}

/*
 * Calls fn(bm, first bit, bits) for each piece of metadata inside the
 * group; stops at, and returns, the first nonzero result.
 */
static int aiosfs_group_meta_each(struct super_block *sb, u32 group, void *bm,
				  int (*fn)(void *bm, u32 start, u32 len))
{
	struct aiosfs_balloc *ba = AIOSFS_BA(sb);
	u64 gs = aiosfs_group_first(sb, group);
	u64 ge = gs + aiosfs_group_blocks(sb, group);
	u32 i;
	int ret;

	for (i = aiosfs_meta_first(ba, gs); i < ba->meta_count && ba->meta[i].start < ge; i++) {
		u64 s = max(ba->meta[i].start, gs);
		u64 e = min(ba->meta[i].start + ba->meta[i].len, ge);

		ret = fn(bm, s - gs, e - s);
		if (ret)
			return ret;
	}
	return 0;
}

static int aiosfs_meta_mark(void *bm, u32 start, u32 len)
{
	aiosfs_set_bits(bm, start, len);
	return 0;
}

static int aiosfs_meta_check(void *bm, u32 start, u32 len)
{
	return aiosfs_bits_all_set(bm, start, len) ? 0 : -AIOSFS_EFSCORRUPTED;
}

static void aiosfs_meta_add(struct aiosfs_meta *m, u32 *n, u64 start, u64 len)
{
	if (len) {
		m[*n].start = start;
		m[*n].len = len;
		(*n)++;
	}
}

/* Every group's fixed metadata, sorted and merged, for checks and placement. */
static int aiosfs_meta_build(struct super_block *sb, struct aiosfs_balloc *ba)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 gdt = 1 + sbi->s_gdb_count + le16_to_cpu(sbi->s_es->s_reserved_gdt_blocks);
	struct aiosfs_meta *m;
	u32 g, i, j, n = 0;

	m = kvmalloc_array((size_t)sbi->s_groups_count * 4, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	for (g = 0; g < sbi->s_groups_count; g++) {
		struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, g);
		u64 gs = aiosfs_group_first(sb, g);

		if (aiosfs_group_has_super(sb, g))
			aiosfs_meta_add(m, &n, gs, min_t(u32, gdt, aiosfs_group_blocks(sb, g)));
		aiosfs_meta_add(m, &n, aiosfs_gd_block_bitmap(sb, gd), 1);
		aiosfs_meta_add(m, &n, aiosfs_gd_inode_bitmap(sb, gd), 1);
		aiosfs_meta_add(m, &n, aiosfs_gd_inode_table(sb, gd), sbi->s_itb_per_group);
	}
	sort(m, n, sizeof(*m), aiosfs_meta_cmp, NULL);
	/* Merge overlapping and touching runs: lookups assume none overlap. */
	for (i = 1, j = 0; i < n; i++) {
		if (m[i].start <= m[j].start + m[j].len) {
			m[j].len = max(m[j].len, m[i].start + m[i].len - m[j].start);
			continue;
		}
		m[++j] = m[i];
	}
	ba->meta = m;
	ba->meta_count = n ? j + 1 : 0;
	return 0;
}

/* Bitmap buffers. */

static void aiosfs_init_block_bitmap(struct super_block *sb, u32 group, void *bm)
{
	u32 n = aiosfs_group_blocks(sb, group);

	memset(bm, 0, sb->s_blocksize);
	aiosfs_group_meta_each(sb, group, bm, aiosfs_meta_mark);
	/* Padding past the end of a short last group. */
	aiosfs_set_bits(bm, n, sb->s_blocksize * 8 - n);
}

static void aiosfs_init_inode_bitmap(struct super_block *sb, void *bm)
{
	u32 ipg = AIOSFS_SB(sb)->s_inodes_per_group;

	memset(bm, 0, sb->s_blocksize);
	aiosfs_set_bits(bm, ipg, sb->s_blocksize * 8 - ipg);
}

/* A group's bitmap, checked or computed once per buffer; the group is locked. */
static struct buffer_head *aiosfs_read_bitmap(struct super_block *sb, u32 group, bool inodes)
{
	struct aiosfs_group *grp = &AIOSFS_BA(sb)->groups[group];
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	u8 bad = inodes ? AIOSFS_GRP_IB_BAD : AIOSFS_GRP_BB_BAD;
	u64 blk = inodes ? aiosfs_gd_inode_bitmap(sb, gd) : aiosfs_gd_block_bitmap(sb, gd);
	const char *what = inodes ? "inode bitmap" : "block bitmap";
	struct buffer_head *bh;
	bool ok;

	lockdep_assert_held(&grp->g_lock);
	if (grp->g_bad & bad)
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	if (aiosfs_gd_flag(sb, gd, inodes ? AIOSFS_BG_INODE_UNINIT : AIOSFS_BG_BLOCK_UNINIT)) {
		if (!aiosfs_blocks_valid(sb, blk, 1)) {
			aiosfs_error(sb, "group %u: %s block %llu is outside the filesystem",
				     group, what, blk);
			return ERR_PTR(-AIOSFS_EFSCORRUPTED);
		}
		bh = sb_getblk(sb, blk);
		if (!bh)
			return ERR_PTR(-ENOMEM);
		if (buffer_uptodate(bh) && aiosfs_buffer_verified(bh))
			return bh;
		lock_buffer(bh);
		if (inodes)
			aiosfs_init_inode_bitmap(sb, bh->b_data);
		else
			aiosfs_init_block_bitmap(sb, group, bh->b_data);
		set_buffer_uptodate(bh);
		unlock_buffer(bh);
		aiosfs_set_buffer_verified(bh);
		return bh;
	}
	bh = aiosfs_bread(sb, blk, what);
	if (IS_ERR(bh) || aiosfs_buffer_verified(bh))
		return bh;
	if (inodes)
		ok = aiosfs_inode_bitmap_csum_ok(sb, gd, bh->b_data);
	else
		ok = aiosfs_block_bitmap_csum_ok(sb, gd, bh->b_data);
	if (AIOSFS_SB(sb)->s_has_csum && !ok) {
		aiosfs_error(sb, "group %u: %s checksum mismatch", group, what);
		grp->g_bad |= bad;
		brelse(bh);
		return ERR_PTR(-AIOSFS_EFSBADCRC);
	}
	/* Metadata must read as in use: then it can never be handed out. */
	if (!inodes && aiosfs_group_meta_each(sb, group, bh->b_data, aiosfs_meta_check)) {
		aiosfs_error(sb, "group %u: block bitmap %llu shows metadata as free", group, blk);
		grp->g_bad |= bad;
		brelse(bh);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	aiosfs_set_buffer_verified(bh);
	return bh;
}

struct buffer_head *aiosfs_read_inode_bitmap(struct super_block *sb, u32 group)
{
	return aiosfs_read_bitmap(sb, group, true);
}

void aiosfs_group_lock(struct super_block *sb, u32 group)
{
	mutex_lock(&AIOSFS_BA(sb)->groups[group].g_lock);
}

void aiosfs_group_unlock(struct super_block *sb, u32 group)
{
	mutex_unlock(&AIOSFS_BA(sb)->groups[group].g_lock);
}

static struct buffer_head *aiosfs_gd_bh(struct super_block *sb, u32 group)
{
	return AIOSFS_SB(sb)->s_gd_bh[group / AIOSFS_SB(sb)->s_desc_per_block];
}

int aiosfs_group_get_write_access(struct aiosfs_handle *h, struct super_block *sb, u32 group,
				  struct buffer_head *bh)
{
	int err = aiosfs_journal_get_write_access(h, bh);

	if (!err)
		err = aiosfs_journal_get_write_access(h, aiosfs_gd_bh(sb, group));
	return err;
}

int aiosfs_group_dirty(struct aiosfs_handle *h, struct super_block *sb, u32 group,
		       struct buffer_head *bh)
{
	struct buffer_head *gd_bh = aiosfs_gd_bh(sb, group);
	int err, err2;

	/* Several groups' descriptors share the block: checksum under its lock. */
	lock_buffer(gd_bh);
	aiosfs_gd_csum_set(sb, group, aiosfs_group_desc(sb, group));
	unlock_buffer(gd_bh);
	err = aiosfs_journal_dirty_metadata(h, bh);
	err2 = aiosfs_journal_dirty_metadata(h, gd_bh);
	if (err || err2)
		aiosfs_error(sb, "group %u: cannot journal the bitmap or descriptor: %d", group,
			     err ?: err2);
	return err ?: err2;
}

/* Counts. */

void aiosfs_group_inodes_add(struct super_block *sb, u32 group, s32 inodes, s32 dirs)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_balloc *ba = sbi->s_balloc;
	struct aiosfs_flex *fl = &ba->flex[group >> ba->flex_log];

	atomic_add(inodes, &fl->f_free_inodes);
	spin_lock(&ba->count_lock);
	WRITE_ONCE(sbi->s_free_inodes, sbi->s_free_inodes + inodes);
	spin_unlock(&ba->count_lock);
	if (dirs) {
		atomic_add(dirs, &fl->f_used_dirs);
		atomic_add(dirs, &ba->used_dirs);
	}
}

/* The flex group's count; the total moves with claims (aiosfs_claim()). */
static void aiosfs_flex_blocks_add(struct super_block *sb, u32 group, s64 n)
{
	struct aiosfs_balloc *ba = AIOSFS_BA(sb);

	atomic64_add(n, &ba->flex[group >> ba->flex_log].f_free_blocks);
}

static void aiosfs_free_blocks_add(struct super_block *sb, s64 n)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_balloc *ba = sbi->s_balloc;

	spin_lock(&ba->count_lock);
	WRITE_ONCE(sbi->s_free_blocks, sbi->s_free_blocks + n);
	spin_unlock(&ba->count_lock);
}

u32 aiosfs_flex_log(struct super_block *sb)
{
	return AIOSFS_BA(sb)->flex_log;
}

u32 aiosfs_flex_count(struct super_block *sb)
{
	return AIOSFS_BA(sb)->flex_count;
}

void aiosfs_flex_stats(struct super_block *sb, u32 flex, struct aiosfs_flex_stats *st)
{
	struct aiosfs_flex *fl = &AIOSFS_BA(sb)->flex[flex];

	st->free_blocks = max_t(s64, atomic64_read(&fl->f_free_blocks), 0);
	st->free_inodes = max(atomic_read(&fl->f_free_inodes), 0);
	st->used_dirs = max(atomic_read(&fl->f_used_dirs), 0);
}

u32 aiosfs_total_dirs(struct super_block *sb)
{
	return max(atomic_read(&AIOSFS_BA(sb)->used_dirs), 0);
}

u64 aiosfs_count_free_blocks(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u64 n = 0;
	u32 g;

	for (g = 0; g < sbi->s_groups_count; g++)
		n += aiosfs_gd_free_blocks(sb, aiosfs_group_desc(sb, g));
	return n;
}

u64 aiosfs_count_free_inodes(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u64 n = 0;
	u32 g;

	for (g = 0; g < sbi->s_groups_count; g++)
		n += aiosfs_gd_free_inodes(sb, aiosfs_group_desc(sb, g));
	return n;
}

void aiosfs_sync_counts(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	u64 blocks = aiosfs_count_free_blocks(sb);
	u64 inodes = aiosfs_count_free_inodes(sb);

	es->s_free_blocks_count_lo = cpu_to_le32(lower_32_bits(blocks));
	if (sbi->s_incompat & AIOSFS_FEATURE_INCOMPAT_64BIT)
		es->s_free_blocks_count_hi = cpu_to_le32(upper_32_bits(blocks));
	es->s_free_inodes_count = cpu_to_le32(min_t(u64, inodes, U32_MAX));
}

/* Busy extents. */

/* The first busy extent that ends after blk; busy_lock held. */
static struct aiosfs_busy *aiosfs_busy_after(struct aiosfs_balloc *ba, u64 blk)
{
	struct rb_node *n = ba->busy.rb_node;
	struct aiosfs_busy *found = NULL;

	while (n) {
		struct aiosfs_busy *b = rb_entry(n, struct aiosfs_busy, b_node);

		if (b->b_start + b->b_len > blk) {
			found = b;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}

/*
 * Clips [*start, *start + *len) to its part before the first busy block;
 * if the run begins busy, *len becomes 0 and *skip where to look next.
 */
static void aiosfs_busy_clip(struct aiosfs_balloc *ba, u64 *start, u64 *len, u64 *skip)
{
	struct aiosfs_busy *b;

	if (!READ_ONCE(ba->busy_blocks))
		return;
	spin_lock(&ba->busy_lock);
	b = aiosfs_busy_after(ba, *start);
	if (b && b->b_start < *start + *len) {
		if (b->b_start <= *start) {
			*len = 0;
			*skip = b->b_start + b->b_len;
		} else {
			*len = b->b_start - *start;
		}
	}
	spin_unlock(&ba->busy_lock);
}

/* new comes from the caller, allocated outside the lock; freed if merged. */
static void aiosfs_busy_add(struct aiosfs_balloc *ba, u64 start, u64 len, u32 tid,
			    struct aiosfs_busy *new)
{
	struct rb_node **p = &ba->busy.rb_node, *parent = NULL;
	struct aiosfs_busy *last;

	spin_lock(&ba->busy_lock);
	ba->busy_blocks += len;
	/* Files are mostly freed in order: grow the last extent if it touches. */
	last = list_empty(&ba->busy_list) ? NULL :
	       list_last_entry(&ba->busy_list, struct aiosfs_busy, b_link);
	if (last && last->b_tid == tid) {
		if (last->b_start + last->b_len == start) {
			last->b_len += len;
			goto merged;
		}
		if (start + len == last->b_start) {
			last->b_start = start;
			last->b_len += len;
			goto merged;
		}
	}
	while (*p) {
		struct aiosfs_busy *b = rb_entry(*p, struct aiosfs_busy, b_node);

		parent = *p;
		WARN_ON_ONCE(start < b->b_start + b->b_len && b->b_start < start + len);
		p = start < b->b_start ? &parent->rb_left : &parent->rb_right;
	}
	new->b_start = start;
	new->b_len = len;
	new->b_tid = tid;
	rb_link_node(&new->b_node, parent, p);
	rb_insert_color(&new->b_node, &ba->busy);
	list_add_tail(&new->b_link, &ba->busy_list);
	spin_unlock(&ba->busy_lock);
	return;

merged:
	spin_unlock(&ba->busy_lock);
	kfree(new);
}

void aiosfs_release_busy(struct super_block *sb, u32 tid)
{
	struct aiosfs_balloc *ba = AIOSFS_BA(sb);
	struct aiosfs_busy *b, *tmp;

	if (!ba)
		return;
	spin_lock(&ba->busy_lock);
	/* Not sorted by tid: handles of two transactions may interleave their frees. */
	list_for_each_entry_safe(b, tmp, &ba->busy_list, b_link) {
		if (!aiosfs_tid_le(b->b_tid, tid))
			continue;
		rb_erase(&b->b_node, &ba->busy);
		list_del(&b->b_link);
		ba->busy_blocks -= b->b_len;
		kfree(b);
	}
	spin_unlock(&ba->busy_lock);
}

/* Searching a group. */

struct aiosfs_run {
	u32 start;	/* bit in the group */
	u32 len;
};

/* The next run at or after bit from, below end, free in bm and not busy. */
static bool aiosfs_next_run(struct super_block *sb, u32 group, const void *bm, u32 end,
			    u32 from, struct aiosfs_run *run)
{
	struct aiosfs_balloc *ba = AIOSFS_BA(sb);
	u64 gs = aiosfs_group_first(sb, group);
	u64 start, len, skip;
	u32 s, e;

	while (from < end) {
		s = find_next_zero_bit_le(bm, end, from);
		if (s >= end)
			return false;
		e = find_next_bit_le(bm, end, s);
		start = gs + s;
		len = e - s;
		aiosfs_busy_clip(ba, &start, &len, &skip);
		if (len) {
			run->start = s;
			run->len = len;
			return true;
		}
		from = min_t(u64, skip - gs, end);
	}
	return false;
}

/*
 * The goal bit itself if free (with the run that follows it), else the
 * first run at or after it that holds want blocks, else the first before
 * it that does, else the longest run.  goal >= nbits: no goal.
 */
static bool aiosfs_pick_run(struct super_block *sb, u32 group, const void *bm, u32 nbits,
			    u32 goal, u32 want, struct aiosfs_run *out)
{
	struct aiosfs_run r, best = { 0, 0 };
	u32 from = goal < nbits ? goal : 0;
	int pass;

	if (goal < nbits && aiosfs_next_run(sb, group, bm, nbits, goal, &r) && r.start == goal) {
		out->start = goal;
		out->len = min(r.len, want);
		return true;
	}
	for (pass = 0; pass < 2; pass++) {
		u32 pos = pass ? 0 : from, end = pass ? from : nbits;

		while (aiosfs_next_run(sb, group, bm, end, pos, &r)) {
			if (r.len >= want) {
				out->start = r.start;
				out->len = want;
				return true;
			}
			if (r.len > best.len)
				best = r;
			pos = r.start + r.len;
		}
	}
	*out = best;
	return best.len > 0;
}

/* Marks the run in use, in the bitmap and the descriptor; the group is locked. */
static int aiosfs_take_blocks(struct aiosfs_handle *h, struct super_block *sb, u32 group,
			      struct buffer_head *bh, const struct aiosfs_run *run)
{
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	struct buffer_head *gd_bh = aiosfs_gd_bh(sb, group);
	u32 free = aiosfs_gd_free_blocks(sb, gd);
	int err;

	err = aiosfs_group_get_write_access(h, sb, group, bh);
	if (err)
		return err;
	lock_buffer(bh);
	lock_buffer(gd_bh);
	if (aiosfs_gd_flag(sb, gd, AIOSFS_BG_BLOCK_UNINIT)) {
		/* The computed bitmap is the truth from now on, counts included. */
		u32 real = aiosfs_count_clear(bh->b_data, aiosfs_group_blocks(sb, group));

		aiosfs_gd_clear_flag(gd, AIOSFS_BG_BLOCK_UNINIT);
		if (real != free) {
			aiosfs_free_blocks_add(sb, (s64)real - free);
			aiosfs_flex_blocks_add(sb, group, (s64)real - free);
			free = real;
		}
	}
	aiosfs_set_bits(bh->b_data, run->start, run->len);
	aiosfs_block_bitmap_csum_set(sb, gd, bh->b_data);
	if (WARN_ON_ONCE(free < run->len))
		free = run->len;
	aiosfs_gd_set_free_blocks(sb, gd, free - run->len);
	unlock_buffer(gd_bh);
	unlock_buffer(bh);
	return aiosfs_group_dirty(h, sb, group, bh);
}

/* Allocates up to want blocks in one group: 0, -ENOSPC (none here) or an error. */
static int aiosfs_alloc_in_group(struct aiosfs_handle *h, struct super_block *sb, u32 group,
				 u64 goal, u32 want, u32 *got, u64 *pblk)
{
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	u64 gs = aiosfs_group_first(sb, group);
	u32 nbits = aiosfs_group_blocks(sb, group);
	u32 gbit = goal >= gs && goal < gs + nbits ? goal - gs : U32_MAX;
	struct buffer_head *bh;
	struct aiosfs_run run;
	int err = -ENOSPC;

	/* A racy peek: a full group is not worth its lock. */
	if (!aiosfs_gd_free_blocks(sb, gd))
		return -ENOSPC;
	aiosfs_group_lock(sb, group);
	if (!aiosfs_gd_free_blocks(sb, gd))
		goto out;
	bh = aiosfs_read_bitmap(sb, group, false);
	if (IS_ERR(bh)) {
		err = PTR_ERR(bh);
		goto out;
	}
	if (aiosfs_pick_run(sb, group, bh->b_data, nbits, gbit, want, &run)) {
		err = aiosfs_take_blocks(h, sb, group, bh, &run);
		if (!err) {
			*got = run.len;
			*pblk = gs + run.start;
		}
	}
	brelse(bh);
out:
	aiosfs_group_unlock(sb, group);
	if (!err)
		aiosfs_flex_blocks_add(sb, group, -(s64)*got);
	return err;
}

/* Every group from the goal's, wrapping; corrupt groups are skipped. */
static int aiosfs_alloc_search(struct aiosfs_handle *h, struct super_block *sb, u64 goal,
			       u32 want, u32 *got, u64 *pblk)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u32 first = aiosfs_group_of(sb, goal), i, g;
	int err;

	for (i = 0; i < sbi->s_groups_count; i++) {
		g = first + i;
		if (g >= sbi->s_groups_count)
			g -= sbi->s_groups_count;
		err = aiosfs_alloc_in_group(h, sb, g, goal, want, got, pblk);
		if (!err)
			return 0;
		/* A corrupt group was logged once and is skipped; other errors stop us. */
		if (err != -ENOSPC && err != -AIOSFS_EFSBADCRC && err != -AIOSFS_EFSCORRUPTED)
			return err;
	}
	return -ENOSPC;
}

/* May the caller dip into root's reserve (ext4's resuid/resgid rules)? */
static bool aiosfs_may_use_reserve(struct aiosfs_balloc *ba)
{
	if (uid_eq(ba->resuid, current_fsuid()))
		return true;
	if (!gid_eq(ba->resgid, GLOBAL_ROOT_GID) && in_group_p(ba->resgid))
		return true;
	return capable(CAP_SYS_RESOURCE);
}

/*
 * Takes up to want blocks off the free count, leaving the reserves:
 * root's (s_r_blocks_count) for the unprivileged, and ext4's few blocks
 * for extent splits for all but AIOSFS_ALLOC_NOFAIL_RES.
 */
static u32 aiosfs_claim(struct super_block *sb, u32 want, unsigned int flags)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_balloc *ba = sbi->s_balloc;
	bool nofail = flags & AIOSFS_ALLOC_NOFAIL_RES;
	bool priv = nofail;
	u64 keep, got = 0;

	/* capable() may sleep and audits: ask only when the reserve is at stake. */
	if (!priv && READ_ONCE(sbi->s_free_blocks) < (u64)want + ba->resv + sbi->s_r_blocks_count)
		priv = aiosfs_may_use_reserve(ba);
	keep = nofail ? 0 : ba->resv + (priv ? 0 : sbi->s_r_blocks_count);
	spin_lock(&ba->count_lock);
	if (sbi->s_free_blocks > keep) {
		got = min_t(u64, want, sbi->s_free_blocks - keep);
		WRITE_ONCE(sbi->s_free_blocks, sbi->s_free_blocks - got);
	}
	spin_unlock(&ba->count_lock);
	return got;
}

bool aiosfs_busy_pending(struct super_block *sb)
{
	struct aiosfs_balloc *ba = AIOSFS_SB(sb)->s_balloc;

	return ba && READ_ONCE(ba->busy_blocks);
}

int aiosfs_new_blocks(struct aiosfs_handle *h, struct inode *inode, u64 goal, u32 *count,
		      u64 *pblk, unsigned int flags)
{
	struct super_block *sb;
	struct aiosfs_sb_info *sbi;
	struct aiosfs_balloc *ba;
	u32 want, got = 0;
	int err;

	/* The handle does not say its filesystem: the inode must. */
	if (WARN_ON_ONCE(!inode || !*count))
		return -EINVAL;
	sb = inode->i_sb;
	sbi = AIOSFS_SB(sb);
	ba = sbi->s_balloc;
	if (WARN_ON_ONCE(!ba))
		return -EROFS;
	if (goal <= sbi->s_first_data_block || goal >= sbi->s_blocks_count)
		goal = aiosfs_inode_goal(inode);
	want = aiosfs_claim(sb, *count, flags);
	if (!want)
		return -ENOSPC;
	/*
	 * ENOSPC while the count says there is room: the room is busy, and
	 * comes back when its transaction commits.  Committing from here
	 * could wait on a commit that writes this inode's data, whose
	 * i_data_sem our caller holds: callers without locks retry
	 * instead (aiosfs_retry_alloc()).
	 */
	err = aiosfs_alloc_search(h, sb, goal, want, &got, pblk);
	if (err) {
		aiosfs_free_blocks_add(sb, want);
		return err;
	}
	if (got < want)
		aiosfs_free_blocks_add(sb, want - got);
	*count = got;
	inode_add_bytes(inode, (loff_t)got << sb->s_blocksize_bits);
	return 0;
}

/* Frees [bit, bit + len) of one group; the caller checked it is not metadata. */
static int aiosfs_free_in_group(struct aiosfs_handle *h, struct super_block *sb, u32 group,
				u32 bit, u32 len, bool *freed)
{
	struct aiosfs_balloc *ba = AIOSFS_BA(sb);
	struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, group);
	struct buffer_head *gd_bh = aiosfs_gd_bh(sb, group);
	u64 start = aiosfs_group_first(sb, group) + bit;
	struct aiosfs_busy *busy;
	struct buffer_head *bh;
	int err;

	/* Before the lock: the busy record must not be allowed to fail. */
	busy = kmalloc(sizeof(*busy), GFP_NOFS | __GFP_NOFAIL);
	aiosfs_group_lock(sb, group);
	bh = aiosfs_read_bitmap(sb, group, false);
	if (IS_ERR(bh)) {
		err = PTR_ERR(bh);
		goto out;
	}
	if (!aiosfs_bits_all_set(bh->b_data, bit, len)) {
		aiosfs_error(sb, "freeing blocks %llu-%llu, some of which are already free",
			     start, start + len - 1);
		err = -AIOSFS_EFSCORRUPTED;
		goto out_brelse;
	}
	err = aiosfs_group_get_write_access(h, sb, group, bh);
	if (err)
		goto out_brelse;
	/* Busy before the bits clear: no allocator may see them free and not busy. */
	aiosfs_busy_add(ba, start, len, aiosfs_handle_tid(h), busy);
	busy = NULL;
	*freed = true;
	lock_buffer(bh);
	lock_buffer(gd_bh);
	/* A set bit means the bitmap is real; BLOCK_UNINIT cannot be left set. */
	aiosfs_gd_clear_flag(gd, AIOSFS_BG_BLOCK_UNINIT);
	aiosfs_clear_bits(bh->b_data, bit, len);
	aiosfs_block_bitmap_csum_set(sb, gd, bh->b_data);
	aiosfs_gd_set_free_blocks(sb, gd, aiosfs_gd_free_blocks(sb, gd) + len);
	unlock_buffer(gd_bh);
	unlock_buffer(bh);
	err = aiosfs_group_dirty(h, sb, group, bh);
out_brelse:
	brelse(bh);
out:
	aiosfs_group_unlock(sb, group);
	kfree(busy);
	if (*freed) {
		aiosfs_flex_blocks_add(sb, group, len);
		aiosfs_free_blocks_add(sb, len);
	}
	return err;
}

void aiosfs_free_blocks(struct aiosfs_handle *h, struct inode *inode, u64 pblk, u32 count,
			unsigned int flags)
{
	struct super_block *sb;
	struct aiosfs_balloc *ba;
	u64 blk, end = pblk + count;
	u32 group, bit, len;
	bool freed;
	int err;

	if (WARN_ON_ONCE(!inode) || !count)
		return;
	sb = inode->i_sb;
	ba = AIOSFS_BA(sb);
	if (WARN_ON_ONCE(!ba))
		return;
	if (!aiosfs_blocks_valid(sb, pblk, count) || aiosfs_is_metadata(ba, pblk, count)) {
		aiosfs_error(sb, "inode %lu: freeing blocks %llu-%llu, %s", inode->i_ino, pblk,
			     end - 1, aiosfs_blocks_valid(sb, pblk, count) ?
			     "which hold filesystem metadata" : "outside the filesystem");
		return;
	}
	for (blk = pblk; blk < end; blk += len) {
		group = aiosfs_group_of(sb, blk);
		bit = blk - aiosfs_group_first(sb, group);
		len = min_t(u64, end - blk, aiosfs_group_blocks(sb, group) - bit);
		freed = false;
		err = aiosfs_free_in_group(h, sb, group, bit, len, &freed);
		if (freed)
			inode_sub_bytes(inode, (loff_t)len << sb->s_blocksize_bits);
		if (err)
			return;
	}
	if (!(flags & AIOSFS_FREE_METADATA))
		return;
	for (blk = pblk; blk < end; blk++)
		if (aiosfs_journal_revoke(h, blk))
			return;
}

u64 aiosfs_inode_goal(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_balloc *ba = sbi->s_balloc;
	u32 group = AIOSFS_I(inode)->i_block_group;
	u64 gs, ge, goal;
	u32 i;

	if (!ba || group >= sbi->s_groups_count)
		return sbi->s_first_data_block + 1;
	/* The flex group's metadata sits in its first group: data goes after it. */
	group &= ~((1U << ba->flex_log) - 1);
	gs = aiosfs_group_first(sb, group);
	ge = gs + aiosfs_group_blocks(sb, group);
	goal = gs;
	for (i = aiosfs_meta_first(ba, gs); i < ba->meta_count && ba->meta[i].start < ge; i++)
		goal = max(goal, ba->meta[i].start + ba->meta[i].len);
	if (goal >= sbi->s_blocks_count || goal <= sbi->s_first_data_block)
		goal = sbi->s_first_data_block + 1;
	return goal;
}

static void aiosfs_balloc_free(struct aiosfs_balloc *ba)
{
	struct aiosfs_busy *b, *tmp;

	list_for_each_entry_safe(b, tmp, &ba->busy_list, b_link)
		kfree(b);
	kvfree(ba->meta);
	kvfree(ba->flex);
	kvfree(ba->groups);
	kfree(ba);
}

/* The in-memory totals, from the descriptors. */
static void aiosfs_balloc_count(struct super_block *sb, struct aiosfs_balloc *ba)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	u64 blocks = 0, inodes = 0;
	u32 g;

	for (g = 0; g < sbi->s_groups_count; g++) {
		struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, g);
		struct aiosfs_flex *fl = &ba->flex[g >> ba->flex_log];
		u32 fb = aiosfs_gd_free_blocks(sb, gd), fi = aiosfs_gd_free_inodes(sb, gd);
		u32 dirs = aiosfs_gd_used_dirs(sb, gd);

		atomic64_add(fb, &fl->f_free_blocks);
		atomic_add(fi, &fl->f_free_inodes);
		atomic_add(dirs, &fl->f_used_dirs);
		atomic_add(dirs, &ba->used_dirs);
		blocks += fb;
		inodes += fi;
	}
	spin_lock(&ba->count_lock);
	WRITE_ONCE(sbi->s_free_blocks, blocks);
	WRITE_ONCE(sbi->s_free_inodes, inodes);
	spin_unlock(&ba->count_lock);
}

int aiosfs_balloc_init(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	struct aiosfs_balloc *ba;
	u32 g;
	int err;

	ba = kzalloc(sizeof(*ba), GFP_KERNEL);
	if (!ba)
		return -ENOMEM;
	spin_lock_init(&ba->count_lock);
	spin_lock_init(&ba->busy_lock);
	ba->busy = RB_ROOT;
	INIT_LIST_HEAD(&ba->busy_list);
	if (sbi->s_incompat & AIOSFS_FEATURE_INCOMPAT_FLEX_BG)
		ba->flex_log = min_t(u32, es->s_log_groups_per_flex, 31);
	ba->flex_count = ((u64)sbi->s_groups_count + (1U << ba->flex_log) - 1) >> ba->flex_log;
	ba->resv = min_t(u64, div_u64(sbi->s_blocks_count, 50), 4096);
	ba->resuid = make_kuid(&init_user_ns, le16_to_cpu(es->s_def_resuid));
	ba->resgid = make_kgid(&init_user_ns, le16_to_cpu(es->s_def_resgid));
	err = -ENOMEM;
	ba->groups = kvcalloc(sbi->s_groups_count, sizeof(*ba->groups), GFP_KERNEL);
	ba->flex = kvcalloc(ba->flex_count, sizeof(*ba->flex), GFP_KERNEL);
	if (!ba->groups || !ba->flex)
		goto fail;
	for (g = 0; g < sbi->s_groups_count; g++)
		mutex_init(&ba->groups[g].g_lock);
	err = aiosfs_meta_build(sb, ba);
	if (err)
		goto fail;
	aiosfs_balloc_count(sb, ba);
	sbi->s_balloc = ba;
	return 0;

fail:
	aiosfs_balloc_free(ba);
	return err;
}

void aiosfs_balloc_exit(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);

	if (!sbi->s_balloc)
		return;
	aiosfs_balloc_free(sbi->s_balloc);
	sbi->s_balloc = NULL;
}
