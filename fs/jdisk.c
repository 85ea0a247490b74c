// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the on-disk journal, as recovery (recovery.c) and the writer
 * (journal.c and its commit and checkpoint) both see it: the journal inode
 * mapped once, the journal superblock checked with one set of rules, and
 * the block layout and checksums of the jbd2 format.  Each user adds only what it needs beyond
 * that: recovery its replay state, the writer the features it can write.
 *
 * The object is opened at the first use of a mount and kept until
 * unmount, as jbd2 keeps one journal_t: a remount read-write after a
 * read-only mount that replayed the log finds it as recovery left it.
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/buffer_head.h>
#include <linux/slab.h>
#include "aiosfs.h"

/* What recovery can read; the writer writes a subset (journal.c). */
#define AIOSFS_JBD_INCOMPAT_KNOWN						\
	(AIOSFS_JBD_INCOMPAT_REVOKE | AIOSFS_JBD_INCOMPAT_64BIT |		\
	 AIOSFS_JBD_INCOMPAT_ASYNC_COMMIT | AIOSFS_JBD_INCOMPAT_CSUM_V2 |	\
	 AIOSFS_JBD_INCOMPAT_CSUM_V3)

static const char *aiosfs_jdisk_id(const struct aiosfs_jdisk *jd)
{
	return jd->sb->s_id;
}

/* The physical block of journal block lblk, inside the mapped extents. */
u64 aiosfs_jdisk_pblk(const struct aiosfs_jdisk *jd, u32 lblk)
{
	u32 lo = 0, hi = jd->nr_ext;

	while (hi - lo > 1) {
		u32 mid = lo + (hi - lo) / 2;

		if (jd->ext[mid].lblk <= lblk)
			lo = mid;
		else
			hi = mid;
	}
	return jd->ext[lo].pblk + (lblk - jd->ext[lo].lblk);
}

/* The log is circular between first and maxlen. */
u32 aiosfs_jdisk_wrap(const struct aiosfs_jdisk *jd, u64 lblk)
{
	while (lblk >= jd->maxlen)
		lblk -= jd->maxlen - jd->first;
	return lblk;
}

bool aiosfs_jdisk_contains(const struct aiosfs_jdisk *jd, u64 blk)
{
	u32 i;

	for (i = 0; i < jd->nr_ext; i++)
		if (blk >= jd->ext[i].pblk && blk - jd->ext[i].pblk < jd->ext[i].len)
			return true;
	return false;
}

struct buffer_head *aiosfs_jdisk_bread(const struct aiosfs_jdisk *jd, u32 lblk)
{
	u64 pblk = aiosfs_jdisk_pblk(jd, lblk);
	struct buffer_head *bh = sb_bread(jd->sb, pblk);

	if (!bh) {
		pr_err("(%s): cannot read journal block %u (block %llu)\n", aiosfs_jdisk_id(jd),
		       lblk, pblk);
		return ERR_PTR(-EIO);
	}
	return bh;
}

/* crc32c of buf[0, len) with the 4 bytes at csum_off read as zero. */
static u32 aiosfs_jbd_crc(u32 seed, const void *buf, size_t len, size_t csum_off)
{
	static const u8 zeroes[4];
	u32 crc;

	crc = aiosfs_crc(seed, buf, csum_off);
	crc = aiosfs_crc(crc, zeroes, sizeof(zeroes));
	return aiosfs_crc(crc, buf + csum_off + 4, len - csum_off - 4);
}

/* Bytes of a descriptor or revoke block before its checksum tail. */
unsigned int aiosfs_jdisk_room(const struct aiosfs_jdisk *jd)
{
	return jd->sb->s_blocksize - (jd->csum ? sizeof(struct aiosfs_jbd_tail) : 0);
}

/* The tail checksum a descriptor or revoke block must carry (csum v2/v3). */
u32 aiosfs_jdisk_tail_csum(const struct aiosfs_jdisk *jd, const void *block)
{
	return aiosfs_jbd_crc(jd->seed, block, jd->sb->s_blocksize, aiosfs_jdisk_room(jd));
}

/* A commit block's own checksum (csum v2/v3). */
u32 aiosfs_jdisk_commit_csum(const struct aiosfs_jdisk *jd, const void *block)
{
	return aiosfs_jbd_crc(jd->seed, block, jd->sb->s_blocksize,
			      offsetof(struct aiosfs_jbd_commit, h_chksum));
}

/*
 * A logged block's checksum, over the block as it sits in the log (escaped),
 * and its transaction: a tag keeps all of it with v3, the low half with v2.
 */
u32 aiosfs_jdisk_block_csum(const struct aiosfs_jdisk *jd, u32 seq, const void *data)
{
	__be32 be_seq = cpu_to_be32(seq);
	u32 crc = aiosfs_crc(jd->seed, &be_seq, sizeof(be_seq));

	crc = aiosfs_crc(crc, data, jd->sb->s_blocksize);
	return jd->csum_v3 ? crc : crc & 0xffff;
}

/* After a change to the journal superblock buffer, which the caller holds locked. */
void aiosfs_jdisk_sb_csum(const struct aiosfs_jdisk *jd)
{
	const size_t off = offsetof(struct aiosfs_jbd_super, s_checksum);
	struct aiosfs_jbd_super *js = (void *)jd->sbh->b_data;

	if (jd->csum)
		js->s_checksum = cpu_to_be32(aiosfs_jbd_crc(~0U, js, sizeof(*js), off));
}

static int aiosfs_jdisk_features(struct aiosfs_jdisk *jd, const struct aiosfs_jbd_super *js)
{
	static const char * const names[] = {
		"revoke", "64bit", "async_commit", "csum_v2", "csum_v3", "fast_commit",
	};
	unsigned long unknown;
	unsigned int bit;

	jd->compat = be32_to_cpu(js->s_feature_compat);
	jd->incompat = be32_to_cpu(js->s_feature_incompat);
	unknown = jd->incompat & ~AIOSFS_JBD_INCOMPAT_KNOWN;
	for_each_set_bit(bit, &unknown, 32) {
		if (bit < ARRAY_SIZE(names))
			pr_err("(%s): unsupported journal feature %s (0x%x)\n",
			       aiosfs_jdisk_id(jd), names[bit], 1U << bit);
		else
			pr_err("(%s): unknown incompatible journal feature 0x%x\n",
			       aiosfs_jdisk_id(jd), 1U << bit);
	}
	if (unknown)
		return -EINVAL;
	if (js->s_feature_ro_compat) {
		pr_err("(%s): unknown read-only journal features 0x%x\n", aiosfs_jdisk_id(jd),
		       be32_to_cpu(js->s_feature_ro_compat));
		return -EINVAL;
	}
	jd->csum_v3 = jd->incompat & AIOSFS_JBD_INCOMPAT_CSUM_V3;
	jd->csum = jd->csum_v3 || (jd->incompat & AIOSFS_JBD_INCOMPAT_CSUM_V2);
	jd->crc32 = jd->compat & AIOSFS_JBD_COMPAT_CHECKSUM;
	jd->is64 = jd->incompat & AIOSFS_JBD_INCOMPAT_64BIT;
	/* The checksum schemes exclude each other; jbd2 refuses a mix too. */
	if ((jd->csum_v3 && (jd->incompat & AIOSFS_JBD_INCOMPAT_CSUM_V2)) ||
	    (jd->csum && jd->crc32)) {
		pr_err("(%s): the journal has several checksum features at once\n",
		       aiosfs_jdisk_id(jd));
		return -EINVAL;
	}
	return 0;
}

static int aiosfs_jdisk_check_csum(struct aiosfs_jdisk *jd, const struct aiosfs_jbd_super *js)
{
	u32 crc;

	if (!jd->csum)
		return 0;
	if (js->s_checksum_type != AIOSFS_JBD_CRC32C_CHKSUM) {
		pr_err("(%s): unknown journal checksum type %u\n", aiosfs_jdisk_id(jd),
		       js->s_checksum_type);
		return -EINVAL;
	}
	crc = aiosfs_jbd_crc(~0U, js, sizeof(*js), offsetof(struct aiosfs_jbd_super, s_checksum));
	if (crc != be32_to_cpu(js->s_checksum)) {
		pr_err("(%s): journal superblock checksum mismatch\n", aiosfs_jdisk_id(jd));
		return -AIOSFS_EFSBADCRC;
	}
	jd->seed = aiosfs_crc(~0U, js->s_uuid, sizeof(js->s_uuid));
	return 0;
}

/* Tag size: 16 with csum v3; otherwise 8, +4 with 64bit, +2 with csum v2. */
static unsigned int aiosfs_jdisk_tag_bytes(const struct aiosfs_jdisk *jd)
{
	unsigned int n = 8;

	if (jd->csum_v3)
		return sizeof(struct aiosfs_jbd_tag3);
	if (jd->is64)
		n += 4;
	if (jd->csum)
		n += 2;
	return n;
}

static int aiosfs_jdisk_geometry(struct aiosfs_jdisk *jd, const struct aiosfs_jbd_super *js)
{
	jd->maxlen = be32_to_cpu(js->s_maxlen);
	jd->first = be32_to_cpu(js->s_first);
	jd->start = be32_to_cpu(js->s_start);
	jd->sequence = be32_to_cpu(js->s_sequence);
	if (be32_to_cpu(js->s_blocksize) != jd->sb->s_blocksize || jd->maxlen > jd->nblocks ||
	    !jd->first || jd->first >= jd->maxlen ||
	    (jd->start && (jd->start < jd->first || jd->start >= jd->maxlen))) {
		pr_err("(%s): bad journal geometry: block size %u, %u blocks (inode: %u), log from %u, start %u\n",
		       aiosfs_jdisk_id(jd), be32_to_cpu(js->s_blocksize), jd->maxlen, jd->nblocks,
		       jd->first, jd->start);
		return -AIOSFS_EFSCORRUPTED;
	}
	return 0;
}

/*
 * Parses and checks the journal superblock from its buffer.  Called at
 * each use (recovery, every read-write start), since the buffer is what
 * the last of them left.
 */
int aiosfs_jdisk_read_super(struct aiosfs_jdisk *jd)
{
	const struct aiosfs_jbd_super *js = (const void *)jd->sbh->b_data;
	u32 type = be32_to_cpu(js->s_header.h_blocktype);
	int err;

	if (be32_to_cpu(js->s_header.h_magic) != AIOSFS_JBD_MAGIC ||
	    (type != AIOSFS_JBD_SUPER_V1 && type != AIOSFS_JBD_SUPER_V2)) {
		pr_err("(%s): bad journal superblock (magic 0x%08x, type %u)\n",
		       aiosfs_jdisk_id(jd), be32_to_cpu(js->s_header.h_magic), type);
		return -AIOSFS_EFSCORRUPTED;
	}
	jd->v2 = type == AIOSFS_JBD_SUPER_V2;
	jd->compat = 0;
	jd->incompat = 0;
	jd->csum = false;
	jd->csum_v3 = false;
	jd->crc32 = false;
	jd->is64 = false;
	if (jd->v2) {
		err = aiosfs_jdisk_features(jd, js);
		if (!err)
			err = aiosfs_jdisk_check_csum(jd, js);
		if (err)
			return err;
	}
	jd->tag_bytes = aiosfs_jdisk_tag_bytes(jd);
	jd->rec_errno = be32_to_cpu(js->s_errno);
	return aiosfs_jdisk_geometry(jd, js);
}

/*
 * The journal inode's blocks, which must all be written, as extents sorted
 * by logical block.
 */
static int aiosfs_jdisk_map(struct aiosfs_jdisk *jd, struct inode *inode)
{
	struct aiosfs_map map;
	u32 lblk, cap = 0;
	int err;

	for (lblk = 0; lblk < jd->nblocks; lblk += map.m_len) {
		err = aiosfs_map_blocks(inode, lblk, jd->nblocks - lblk, &map);
		if (err)
			return err;
		if (!map.m_pblk || map.m_unwritten) {
			pr_err("(%s): the journal has a hole at block %u\n", aiosfs_jdisk_id(jd),
			       lblk);
			return -AIOSFS_EFSCORRUPTED;
		}
		if (jd->nr_ext == cap) {
			struct aiosfs_jext *e;

			cap = max(16U, 2 * cap);
			e = krealloc_array(jd->ext, cap, sizeof(*e), GFP_KERNEL);
			if (!e)
				return -ENOMEM;
			jd->ext = e;
		}
		jd->ext[jd->nr_ext++] = (struct aiosfs_jext){ lblk, map.m_len, map.m_pblk };
	}
	return 0;
}

/* Finds the journal inode and maps it; external journals are not supported. */
static int aiosfs_jdisk_open_inode(struct aiosfs_jdisk *jd)
{
	struct super_block *sb = jd->sb;
	struct aiosfs_super_block *es = AIOSFS_SB(sb)->s_es;
	struct inode *inode;
	u64 nblocks;
	int err;

	jd->ino = le32_to_cpu(es->s_journal_inum);
	if (!jd->ino) {
		pr_err("(%s): the journal is on an external device (0x%x), which aiosfs does not support\n",
		       sb->s_id, le32_to_cpu(es->s_journal_dev));
		return -EOPNOTSUPP;
	}
	inode = aiosfs_iget(sb, jd->ino);
	if (IS_ERR(inode)) {
		pr_err("(%s): cannot read the journal inode %u: %ld\n", sb->s_id, jd->ino,
		       PTR_ERR(inode));
		return PTR_ERR(inode);
	}
	nblocks = i_size_read(inode) >> sb->s_blocksize_bits;
	if (!S_ISREG(inode->i_mode) || !inode->i_nlink || nblocks < AIOSFS_JBD_MIN_BLOCKS ||
	    nblocks > U32_MAX) {
		pr_err("(%s): bad journal inode %u (mode 0%o, %u links, %llu blocks)\n",
		       sb->s_id, jd->ino, inode->i_mode, inode->i_nlink, nblocks);
		err = -AIOSFS_EFSCORRUPTED;
		goto out;
	}
	jd->nblocks = nblocks;
	err = aiosfs_jdisk_map(jd, inode);
out:
	iput(inode);
	return err;
}

static void aiosfs_jdisk_free(struct aiosfs_jdisk *jd)
{
	brelse(jd->sbh);
	kfree(jd->ext);
	kfree(jd);
}

static struct aiosfs_jdisk *aiosfs_jdisk_open(struct super_block *sb)
{
	struct aiosfs_jdisk *jd;
	int err;

	jd = kzalloc(sizeof(*jd), GFP_KERNEL);
	if (!jd)
		return ERR_PTR(-ENOMEM);
	jd->sb = sb;
	err = aiosfs_jdisk_open_inode(jd);
	if (err)
		goto fail;
	jd->sbh = aiosfs_jdisk_bread(jd, 0);
	if (IS_ERR(jd->sbh)) {
		err = PTR_ERR(jd->sbh);
		jd->sbh = NULL;
		goto fail;
	}
	return jd;

fail:
	aiosfs_jdisk_free(jd);
	return ERR_PTR(err);
}

/**
 * aiosfs_jdisk_get() - the mount's on-disk journal, opened at the first call
 * @sb: the filesystem, whose superblock says it has a journal (has_journal)
 *
 * The superblock of the journal is read but not checked: each user calls
 * aiosfs_jdisk_read_super() when it starts.
 *
 * Return: the journal, kept until aiosfs_jdisk_put(), or an ERR_PTR().
 */
struct aiosfs_jdisk *aiosfs_jdisk_get(struct super_block *sb)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_jdisk *jd;

	if (sbi->s_jdisk)
		return sbi->s_jdisk;
	jd = aiosfs_jdisk_open(sb);
	if (!IS_ERR(jd))
		sbi->s_jdisk = jd;
	return jd;
}

/* At unmount, or when the mount fails. */
void aiosfs_jdisk_put(struct aiosfs_sb_info *sbi)
{
	if (!sbi->s_jdisk)
		return;
	aiosfs_jdisk_free(sbi->s_jdisk);
	sbi->s_jdisk = NULL;
}
