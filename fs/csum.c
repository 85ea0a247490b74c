// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: metadata_csum.  Every checksum is a crc32c (without the final
 * inversion) seeded per filesystem, and for per-inode objects by the inode
 * number and generation.  The checksum field itself is fed as zeroes.
 */
#include <linux/crc32c.h>
#include "aiosfs.h"

/* Set on a metadata buffer once its checksum has been verified. */
#define BH_AiosfsVerified	BH_PrivateStart

static const u8 aiosfs_zeroes[4];

u32 aiosfs_crc(u32 seed, const void *buf, size_t len)
{
	return crc32c(seed, buf, len);
}

bool aiosfs_buffer_verified(struct buffer_head *bh)
{
	return test_bit(BH_AiosfsVerified, &bh->b_state);
}

void aiosfs_set_buffer_verified(struct buffer_head *bh)
{
	set_bit(BH_AiosfsVerified, &bh->b_state);
}

u32 aiosfs_csum_seed_of(const struct aiosfs_super_block *es)
{
	if (le32_to_cpu(es->s_feature_incompat) & AIOSFS_FEATURE_INCOMPAT_CSUM_SEED)
		return le32_to_cpu(es->s_checksum_seed);
	return aiosfs_crc(~0U, es->s_uuid, sizeof(es->s_uuid));
}

bool aiosfs_sb_csum_ok(const struct aiosfs_super_block *es)
{
	u32 crc = aiosfs_crc(~0U, es, offsetof(struct aiosfs_super_block, s_checksum));

	return crc == le32_to_cpu(es->s_checksum);
}

/* Checksums buf[0, len) with the csum_len bytes at csum_off read as zero. */
static u32 aiosfs_crc_skip(u32 crc, const void *buf, size_t len, size_t csum_off,
			   size_t csum_len)
{
	crc = aiosfs_crc(crc, buf, csum_off);
	crc = aiosfs_crc(crc, aiosfs_zeroes, csum_len);
	return aiosfs_crc(crc, buf + csum_off + csum_len, len - csum_off - csum_len);
}

void aiosfs_sb_csum_set(struct aiosfs_super_block *es)
{
	size_t off = offsetof(struct aiosfs_super_block, s_checksum);

	es->s_checksum = cpu_to_le32(aiosfs_crc(~0U, es, off));
}

static u16 aiosfs_gd_csum(struct super_block *sb, u32 group, const struct aiosfs_group_desc *gd)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	__le32 le_group = cpu_to_le32(group);
	u32 crc;

	crc = aiosfs_crc(sbi->s_csum_seed, &le_group, sizeof(le_group));
	crc = aiosfs_crc_skip(crc, gd, sbi->s_desc_size,
			      offsetof(struct aiosfs_group_desc, bg_checksum),
			      sizeof(gd->bg_checksum));
	return crc & 0xffff;
}

bool aiosfs_gd_csum_ok(struct super_block *sb, u32 group, const struct aiosfs_group_desc *gd)
{
	return aiosfs_gd_csum(sb, group, gd) == le16_to_cpu(gd->bg_checksum);
}

void aiosfs_gd_csum_set(struct super_block *sb, u32 group, struct aiosfs_group_desc *gd)
{
	if (AIOSFS_SB(sb)->s_has_csum)
		gd->bg_checksum = cpu_to_le16(aiosfs_gd_csum(sb, group, gd));
}

/*
 * Bitmap checksums live in the descriptor: the low 16 bits always, the
 * high ones with 64-bit descriptors.  A block bitmap covers a group's
 * blocks, an inode bitmap its inodes, not the whole block.
 */
static u32 aiosfs_bitmap_csum(struct super_block *sb, const void *bitmap, u32 bits)
{
	return aiosfs_crc(AIOSFS_SB(sb)->s_csum_seed, bitmap, bits / 8);
}

static bool aiosfs_desc_is64(struct super_block *sb)
{
	return AIOSFS_SB(sb)->s_desc_size >= AIOSFS_MIN_DESC_SIZE_64BIT;
}

bool aiosfs_block_bitmap_csum_ok(struct super_block *sb, const struct aiosfs_group_desc *gd,
				 const void *bitmap)
{
	u32 crc = aiosfs_bitmap_csum(sb, bitmap, AIOSFS_SB(sb)->s_blocks_per_group);
	u32 stored = le16_to_cpu(gd->bg_block_bitmap_csum_lo);

	if (!aiosfs_desc_is64(sb))
		return (crc & 0xffff) == stored;
	return crc == (stored | (u32)le16_to_cpu(gd->bg_block_bitmap_csum_hi) << 16);
}

void aiosfs_block_bitmap_csum_set(struct super_block *sb, struct aiosfs_group_desc *gd,
				  const void *bitmap)
{
	u32 crc = aiosfs_bitmap_csum(sb, bitmap, AIOSFS_SB(sb)->s_blocks_per_group);

	if (!AIOSFS_SB(sb)->s_has_csum)
		return;
	gd->bg_block_bitmap_csum_lo = cpu_to_le16(crc & 0xffff);
	if (aiosfs_desc_is64(sb))
		gd->bg_block_bitmap_csum_hi = cpu_to_le16(crc >> 16);
}

bool aiosfs_inode_bitmap_csum_ok(struct super_block *sb, const struct aiosfs_group_desc *gd,
				 const void *bitmap)
{
	u32 crc = aiosfs_bitmap_csum(sb, bitmap, AIOSFS_SB(sb)->s_inodes_per_group);
	u32 stored = le16_to_cpu(gd->bg_inode_bitmap_csum_lo);

	if (!aiosfs_desc_is64(sb))
		return (crc & 0xffff) == stored;
	return crc == (stored | (u32)le16_to_cpu(gd->bg_inode_bitmap_csum_hi) << 16);
}

void aiosfs_inode_bitmap_csum_set(struct super_block *sb, struct aiosfs_group_desc *gd,
				  const void *bitmap)
{
	u32 crc = aiosfs_bitmap_csum(sb, bitmap, AIOSFS_SB(sb)->s_inodes_per_group);

	if (!AIOSFS_SB(sb)->s_has_csum)
		return;
	gd->bg_inode_bitmap_csum_lo = cpu_to_le16(crc & 0xffff);
	if (aiosfs_desc_is64(sb))
		gd->bg_inode_bitmap_csum_hi = cpu_to_le16(crc >> 16);
}

u32 aiosfs_inode_seed(struct super_block *sb, u32 ino, __le32 generation)
{
	__le32 le_ino = cpu_to_le32(ino);
	u32 crc = aiosfs_crc(AIOSFS_SB(sb)->s_csum_seed, &le_ino, sizeof(le_ino));

	return aiosfs_crc(crc, &generation, sizeof(generation));
}

/*
 * The caller has checked that i_extra_isize fits the on-disk inode.
 * Without i_checksum_hi only the low 16 bits count.
 */
static u32 aiosfs_inode_csum(struct super_block *sb, const struct aiosfs_inode *raw, u32 seed,
			     bool *has_hi)
{
	unsigned int size = AIOSFS_SB(sb)->s_inode_size;
	const size_t old = AIOSFS_GOOD_OLD_INODE_SIZE;
	const size_t lo = offsetof(struct aiosfs_inode, i_checksum_lo);
	const size_t hi = offsetof(struct aiosfs_inode, i_checksum_hi);
	u32 crc;

	*has_hi = false;
	crc = aiosfs_crc_skip(seed, raw, old, lo, sizeof(raw->i_checksum_lo));
	if (size > old) {
		*has_hi = AIOSFS_INODE_HAS(le16_to_cpu(raw->i_extra_isize), i_checksum_hi);
		crc = aiosfs_crc_skip(crc, (const u8 *)raw + old, size - old, hi - old,
				      *has_hi ? sizeof(raw->i_checksum_hi) : 0);
	}
	return *has_hi ? crc : crc & 0xffff;
}

bool aiosfs_inode_csum_ok(struct super_block *sb, const struct aiosfs_inode *raw, u32 seed)
{
	bool has_hi;
	u32 crc = aiosfs_inode_csum(sb, raw, seed, &has_hi);
	u32 stored = le16_to_cpu(raw->i_checksum_lo);

	if (has_hi)
		stored |= (u32)le16_to_cpu(raw->i_checksum_hi) << 16;
	return crc == stored;
}

void aiosfs_inode_csum_set(struct super_block *sb, struct aiosfs_inode *raw, u32 seed)
{
	bool has_hi;
	u32 crc;

	if (!AIOSFS_SB(sb)->s_inode_csum)
		return;
	crc = aiosfs_inode_csum(sb, raw, seed, &has_hi);
	raw->i_checksum_lo = cpu_to_le16(crc & 0xffff);
	if (has_hi)
		raw->i_checksum_hi = cpu_to_le16(crc >> 16);
}

/* The tail follows eh_max entries; the caller checked that it fits the block. */
bool aiosfs_extent_block_csum_ok(struct inode *inode, const struct aiosfs_extent_header *eh)
{
	size_t off = sizeof(*eh) + le16_to_cpu(eh->eh_max) * sizeof(struct aiosfs_extent);
	const struct aiosfs_extent_tail *et = (const void *)eh + off;

	return aiosfs_crc(AIOSFS_I(inode)->i_csum_seed, eh, off) ==
	       le32_to_cpu(et->et_checksum);
}

void aiosfs_extent_block_csum_set(struct inode *inode, struct aiosfs_extent_header *eh)
{
	size_t off = sizeof(*eh) + le16_to_cpu(eh->eh_max) * sizeof(struct aiosfs_extent);
	struct aiosfs_extent_tail *et = (void *)eh + off;

	if (AIOSFS_SB(inode->i_sb)->s_has_csum)
		et->et_checksum = cpu_to_le32(aiosfs_crc(AIOSFS_I(inode)->i_csum_seed, eh, off));
}

bool aiosfs_dirblock_csum_ok(struct inode *dir, const void *block)
{
	size_t off = dir->i_sb->s_blocksize - sizeof(struct aiosfs_dir_tail);
	const struct aiosfs_dir_tail *t = block + off;

	if (t->det_reserved_zero1 || le16_to_cpu(t->det_rec_len) != sizeof(*t) ||
	    t->det_reserved_zero2 || t->det_reserved_ft != AIOSFS_FT_DIR_CSUM)
		return false;
	return aiosfs_crc(AIOSFS_I(dir)->i_csum_seed, block, off) ==
	       le32_to_cpu(t->det_checksum);
}

/* The fake entry that ends a leaf block, without its checksum yet. */
void aiosfs_dirblock_init_tail(struct super_block *sb, void *block)
{
	struct aiosfs_dir_tail *t = block + sb->s_blocksize - sizeof(*t);

	memset(t, 0, sizeof(*t));
	t->det_rec_len = cpu_to_le16(sizeof(*t));
	t->det_reserved_ft = AIOSFS_FT_DIR_CSUM;
}

void aiosfs_dirblock_csum_set(struct inode *dir, void *block)
{
	size_t off = dir->i_sb->s_blocksize - sizeof(struct aiosfs_dir_tail);
	struct aiosfs_dir_tail *t = block + off;

	if (AIOSFS_SB(dir->i_sb)->s_has_csum)
		t->det_checksum = cpu_to_le32(aiosfs_crc(AIOSFS_I(dir)->i_csum_seed, block, off));
}

/*
 * An htree node: the used entries, then the tail after all limit entries.
 * The caller checked count <= limit and that the tail fits the block.
 */
static u32 aiosfs_dx_csum(struct inode *dir, const void *block, unsigned int count_offset,
			  struct aiosfs_dx_tail **tail)
{
	const struct aiosfs_dx_countlimit *cl = block + count_offset;
	struct aiosfs_dx_tail *t;
	size_t used;
	u32 crc;

	used = count_offset + le16_to_cpu(cl->count) * sizeof(struct aiosfs_dx_entry);
	t = (void *)block + count_offset + le16_to_cpu(cl->limit) * sizeof(struct aiosfs_dx_entry);
	crc = aiosfs_crc(AIOSFS_I(dir)->i_csum_seed, block, used);
	crc = aiosfs_crc_skip(crc, t, sizeof(*t), offsetof(struct aiosfs_dx_tail, dt_checksum),
			      sizeof(t->dt_checksum));
	*tail = t;
	return crc;
}

bool aiosfs_dx_csum_ok(struct inode *dir, const void *block, unsigned int count_offset)
{
	struct aiosfs_dx_tail *t;
	u32 crc = aiosfs_dx_csum(dir, block, count_offset, &t);

	return crc == le32_to_cpu(t->dt_checksum);
}

void aiosfs_dx_csum_set(struct inode *dir, void *block, unsigned int count_offset)
{
	struct aiosfs_dx_tail *t;
	u32 crc;

	if (!AIOSFS_SB(dir->i_sb)->s_has_csum)
		return;
	crc = aiosfs_dx_csum(dir, block, count_offset, &t);
	t->dt_checksum = cpu_to_le32(crc);
}

static u32 aiosfs_xattr_block_csum(struct super_block *sb, u64 blk, const void *block)
{
	const struct aiosfs_xattr_header *h = block;
	__le64 le_blk = cpu_to_le64(blk);
	u32 crc;

	crc = aiosfs_crc(AIOSFS_SB(sb)->s_csum_seed, &le_blk, sizeof(le_blk));
	return aiosfs_crc_skip(crc, block, sb->s_blocksize,
			       offsetof(struct aiosfs_xattr_header, h_checksum),
			       sizeof(h->h_checksum));
}

bool aiosfs_xattr_block_csum_ok(struct super_block *sb, u64 blk, const void *block)
{
	const struct aiosfs_xattr_header *h = block;

	return aiosfs_xattr_block_csum(sb, blk, block) == le32_to_cpu(h->h_checksum);
}

void aiosfs_xattr_block_csum_set(struct super_block *sb, u64 blk, void *block)
{
	struct aiosfs_xattr_header *h = block;

	if (AIOSFS_SB(sb)->s_has_csum)
		h->h_checksum = cpu_to_le32(aiosfs_xattr_block_csum(sb, blk, block));
}
