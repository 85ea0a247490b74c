// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: journal recovery at mount.
 *
 * A volume marked needs_recovery may have committed jbd2 transactions in
 * its journal whose blocks never reached their home locations.  Like jbd2
 * and e2fsck we walk the log three times: SCAN finds where it ends (the
 * first block that is not the next expected one, or whose checksum fails),
 * REVOKE collects the revoke records, and REPLAY writes every logged block
 * home unless a transaction at least as new revoked it.  Nothing is written
 * before SCAN has checked the whole log, so a hostile journal is refused
 * untouched.  Writes go through the block device's buffer cache and are
 * flushed before the journal is marked empty and needs_recovery cleared,
 * so a crash during recovery only means recovering again.
 *
 * Every number read from the log is checked before use, and each pass
 * walks at most the length of the log, so a looping journal cannot hang.
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include "aiosfs.h"

#define AIOSFS_JBD_INCOMPAT_SUPPORTED						\
	(AIOSFS_JBD_INCOMPAT_REVOKE | AIOSFS_JBD_INCOMPAT_64BIT |		\
	 AIOSFS_JBD_INCOMPAT_ASYNC_COMMIT | AIOSFS_JBD_INCOMPAT_CSUM_V2 |	\
	 AIOSFS_JBD_INCOMPAT_CSUM_V3)

enum aiosfs_jbd_pass {
	AIOSFS_PASS_SCAN,
	AIOSFS_PASS_REVOKE,
	AIOSFS_PASS_REPLAY,
};

struct aiosfs_journal {
	struct super_block *sb;
	struct aiosfs_jext *ext;	/* sorted, covering [0, maxlen) */
	u32 nr_ext;
	struct buffer_head *sbh;	/* the journal superblock */
	u32 first;			/* the log is [first, maxlen) */
	u32 maxlen;
	u32 start;
	u32 sequence;
	u32 end;			/* SCAN: first transaction not committed */
	s32 rec_errno;			/* an error jbd2 recorded before the crash */
	bool csum;			/* csum v2 or v3 */
	bool csum_v3;
	bool crc32;			/* the old v1 transaction crc32 */
	bool is64;
	u32 seed;
	unsigned int tag_bytes;
	u32 crc;			/* v1: crc32 of the transaction so far */
	bool crc_seen;			/* v1: a commit carried one */
	struct xarray revoked;		/* home block -> newest revoking transaction */
	u32 nr_replayed;
	u32 nr_revoke_hits;
	u32 nr_bad;
};

/* Transaction ids wrap: compare them like jbd2 does. */
static bool aiosfs_tid_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static const char *aiosfs_jid(struct aiosfs_journal *j)
{
	return j->sb->s_id;
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

static struct buffer_head *aiosfs_jbd_bread(struct aiosfs_journal *j, u32 lblk)
{
	u64 pblk = aiosfs_jext_pblk(j->ext, j->nr_ext, lblk);
	struct buffer_head *bh = sb_bread(j->sb, pblk);

	if (!bh) {
		pr_err("(%s): cannot read journal block %u (block %llu)\n", aiosfs_jid(j), lblk,
		       pblk);
		return ERR_PTR(-EIO);
	}
	return bh;
}

/* The log is circular between first and maxlen. */
static u32 aiosfs_jbd_wrap(struct aiosfs_journal *j, u64 lblk)
{
	while (lblk >= j->maxlen)
		lblk -= j->maxlen - j->first;
	return lblk;
}

static bool aiosfs_jbd_in_journal(struct aiosfs_journal *j, u64 blk)
{
	u32 i;

	for (i = 0; i < j->nr_ext; i++)
		if (blk >= j->ext[i].pblk && blk - j->ext[i].pblk < j->ext[i].len)
			return true;
	return false;
}

static int aiosfs_jbd_check_features(struct aiosfs_journal *j, const struct aiosfs_jbd_super *js)
{
	static const char * const names[] = {
		"revoke", "64bit", "async_commit", "csum_v2", "csum_v3", "fast_commit",
	};
	unsigned long unknown = be32_to_cpu(js->s_feature_incompat) &
				~AIOSFS_JBD_INCOMPAT_SUPPORTED;
	u32 incompat = be32_to_cpu(js->s_feature_incompat);
	unsigned int bit;

	for_each_set_bit(bit, &unknown, 32) {
		if (bit < ARRAY_SIZE(names))
			pr_err("(%s): unsupported journal feature %s (0x%x)\n", aiosfs_jid(j),
			       names[bit], 1U << bit);
		else
			pr_err("(%s): unknown incompatible journal feature 0x%x\n",
			       aiosfs_jid(j), 1U << bit);
	}
	if (unknown)
		return -EINVAL;
	if (js->s_feature_ro_compat) {
		pr_err("(%s): unknown read-only journal features 0x%x\n", aiosfs_jid(j),
		       be32_to_cpu(js->s_feature_ro_compat));
		return -EINVAL;
	}
	j->csum_v3 = incompat & AIOSFS_JBD_INCOMPAT_CSUM_V3;
	j->csum = j->csum_v3 || (incompat & AIOSFS_JBD_INCOMPAT_CSUM_V2);
	j->crc32 = be32_to_cpu(js->s_feature_compat) & AIOSFS_JBD_COMPAT_CHECKSUM;
	j->is64 = incompat & AIOSFS_JBD_INCOMPAT_64BIT;
	/* The checksum schemes exclude each other; jbd2 refuses a mix too. */
	if ((j->csum_v3 && (incompat & AIOSFS_JBD_INCOMPAT_CSUM_V2)) || (j->csum && j->crc32)) {
		pr_err("(%s): the journal has several checksum features at once\n",
		       aiosfs_jid(j));
		return -EINVAL;
	}
	return 0;
}

/* Tag size: 16 with csum v3; otherwise 8, +4 with 64bit, +2 with csum v2. */
static unsigned int aiosfs_jbd_tag_bytes(struct aiosfs_journal *j)
{
	unsigned int n = 8;

	if (j->csum_v3)
		return sizeof(struct aiosfs_jbd_tag3);
	if (j->is64)
		n += 4;
	if (j->csum)
		n += 2;
	return n;
}

static int aiosfs_jbd_check_csum(struct aiosfs_journal *j, const struct aiosfs_jbd_super *js)
{
	u32 crc;

	if (!j->csum)
		return 0;
	if (js->s_checksum_type != AIOSFS_JBD_CRC32C_CHKSUM) {
		pr_err("(%s): unknown journal checksum type %u\n", aiosfs_jid(j),
		       js->s_checksum_type);
		return -EINVAL;
	}
	crc = aiosfs_jbd_crc(~0U, js, sizeof(*js), offsetof(struct aiosfs_jbd_super, s_checksum));
	if (crc != be32_to_cpu(js->s_checksum)) {
		pr_err("(%s): journal superblock checksum mismatch\n", aiosfs_jid(j));
		return -AIOSFS_EFSBADCRC;
	}
	j->seed = aiosfs_crc(~0U, js->s_uuid, sizeof(js->s_uuid));
	return 0;
}

/* Reads and checks the journal superblock; nblocks is the inode's size. */
static int aiosfs_jbd_load_super(struct aiosfs_journal *j, u32 nblocks)
{
	const struct aiosfs_jbd_super *js;
	u32 type;
	int err;

	j->sbh = aiosfs_jbd_bread(j, 0);
	if (IS_ERR(j->sbh)) {
		err = PTR_ERR(j->sbh);
		j->sbh = NULL;
		return err;
	}
	js = (const void *)j->sbh->b_data;
	type = be32_to_cpu(js->s_header.h_blocktype);
	if (be32_to_cpu(js->s_header.h_magic) != AIOSFS_JBD_MAGIC ||
	    (type != AIOSFS_JBD_SUPER_V1 && type != AIOSFS_JBD_SUPER_V2)) {
		pr_err("(%s): bad journal superblock (magic 0x%08x, type %u)\n", aiosfs_jid(j),
		       be32_to_cpu(js->s_header.h_magic), type);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (type == AIOSFS_JBD_SUPER_V2) {
		err = aiosfs_jbd_check_features(j, js);
		if (!err)
			err = aiosfs_jbd_check_csum(j, js);
		if (err)
			return err;
	}
	j->tag_bytes = aiosfs_jbd_tag_bytes(j);
	j->maxlen = be32_to_cpu(js->s_maxlen);
	j->first = be32_to_cpu(js->s_first);
	j->start = be32_to_cpu(js->s_start);
	j->sequence = be32_to_cpu(js->s_sequence);
	if (be32_to_cpu(js->s_blocksize) != j->sb->s_blocksize || j->maxlen > nblocks ||
	    !j->first || j->first >= j->maxlen || (j->start && (j->start < j->first ||
							       j->start >= j->maxlen))) {
		pr_err("(%s): bad journal geometry: block size %u, %u blocks (inode: %u), log from %u, start %u\n",
		       aiosfs_jid(j), be32_to_cpu(js->s_blocksize), j->maxlen, nblocks, j->first,
		       j->start);
		return -AIOSFS_EFSCORRUPTED;
	}
	j->rec_errno = be32_to_cpu(js->s_errno);
	return 0;
}

/* Finds the journal inode and maps it; external journals are not supported. */
static int aiosfs_jbd_open(struct aiosfs_journal *j)
{
	struct super_block *sb = j->sb;
	struct aiosfs_super_block *es = AIOSFS_SB(sb)->s_es;
	u32 ino = le32_to_cpu(es->s_journal_inum);
	struct inode *inode;
	u64 nblocks;
	int err;

	if (!(AIOSFS_SB(sb)->s_compat & AIOSFS_FEATURE_COMPAT_HAS_JOURNAL)) {
		pr_err("(%s): needs_recovery is set but the filesystem has no journal; run e2fsck\n",
		       sb->s_id);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (!ino) {
		pr_err("(%s): the journal is on an external device (0x%x), which aiosfs does not support\n",
		       sb->s_id, le32_to_cpu(es->s_journal_dev));
		return -EOPNOTSUPP;
	}
	inode = aiosfs_iget(sb, ino);
	if (IS_ERR(inode)) {
		pr_err("(%s): cannot read the journal inode %u: %ld\n", sb->s_id, ino,
		       PTR_ERR(inode));
		return PTR_ERR(inode);
	}
	nblocks = i_size_read(inode) >> sb->s_blocksize_bits;
	if (!S_ISREG(inode->i_mode) || !inode->i_nlink || nblocks < 2 || nblocks > U32_MAX) {
		pr_err("(%s): bad journal inode %u (mode 0%o, %u links, %llu blocks)\n",
		       sb->s_id, ino, inode->i_mode, inode->i_nlink, nblocks);
		err = -AIOSFS_EFSCORRUPTED;
		goto out;
	}
	err = aiosfs_jext_map(sb, inode, nblocks, &j->ext, &j->nr_ext);
	if (!err)
		err = aiosfs_jbd_load_super(j, nblocks);
out:
	iput(inode);
	return err;
}

/* A descriptor's tags: each may be followed by a 16-byte uuid. */
struct aiosfs_jbd_tags {
	const u8 *p;
	const u8 *end;
	const void *tag;	/* the tag last returned */
	bool done;
};

static void aiosfs_jbd_tags_init(struct aiosfs_journal *j, struct aiosfs_jbd_tags *it,
				 const void *block)
{
	it->p = block + sizeof(struct aiosfs_jbd_header);
	it->end = block + j->sb->s_blocksize - (j->csum ? sizeof(struct aiosfs_jbd_tail) : 0);
	it->done = false;
}

/* The next tag's home block and flags; false after the last one. */
static bool aiosfs_jbd_next_tag(struct aiosfs_journal *j, struct aiosfs_jbd_tags *it, u64 *blk,
				u32 *flags)
{
	const struct aiosfs_jbd_tag3 *t3 = (const void *)it->p;
	const struct aiosfs_jbd_tag *t = (const void *)it->p;

	/* A tag that does not fit ends the block, as it does for jbd2. */
	if (it->done || it->end - it->p < j->tag_bytes)
		return false;
	*blk = be32_to_cpu(t->t_blocknr);
	if (j->is64)	/* at the same offset in both layouts */
		*blk |= (u64)be32_to_cpu(t->t_blocknr_high) << 32;
	*flags = j->csum_v3 ? be32_to_cpu(t3->t_flags) : be16_to_cpu(t->t_flags);
	it->tag = it->p;
	it->p += j->tag_bytes;
	if (!(*flags & AIOSFS_JBD_FLAG_SAME_UUID))
		it->p += 16;
	it->done = *flags & AIOSFS_JBD_FLAG_LAST_TAG;
	return true;
}

/* The tail checksum of a descriptor or revoke block (csum v2/v3). */
static bool aiosfs_jbd_tail_ok(struct aiosfs_journal *j, const void *block)
{
	size_t off = j->sb->s_blocksize - sizeof(struct aiosfs_jbd_tail);
	const struct aiosfs_jbd_tail *t = block + off;

	return aiosfs_jbd_crc(j->seed, block, j->sb->s_blocksize, off) ==
	       be32_to_cpu(t->t_checksum);
}

/* A logged block's checksum, over its escaped form, as it sits in the log. */
static bool aiosfs_jbd_tag_csum_ok(struct aiosfs_journal *j, const void *tag, const void *data,
				   u32 seq)
{
	__be32 be_seq = cpu_to_be32(seq);
	u32 crc = aiosfs_crc(j->seed, &be_seq, sizeof(be_seq));

	crc = aiosfs_crc(crc, data, j->sb->s_blocksize);
	if (j->csum_v3)
		return be32_to_cpu(((const struct aiosfs_jbd_tag3 *)tag)->t_checksum) == crc;
	return be16_to_cpu(((const struct aiosfs_jbd_tag *)tag)->t_checksum) == (crc & 0xffff);
}

/*
 * Whether a commit block closes its transaction.  A failed one ends the log
 * with async_commit too: jbd2 then wrote the commit block without waiting
 * for the transaction's other blocks.  With csum v2/v3 it has
 * its own checksum; the old v1 crc32 covers the transaction's descriptor
 * and data blocks, and a journal may have turned it on after commits that
 * carry none.
 */
static bool aiosfs_jbd_commit_ok(struct aiosfs_journal *j, const void *block)
{
	const struct aiosfs_jbd_commit *c = block;
	u32 found = be32_to_cpu(c->h_chksum[0]);

	if (j->csum)
		return aiosfs_jbd_crc(j->seed, block, j->sb->s_blocksize,
				      offsetof(struct aiosfs_jbd_commit, h_chksum)) == found;
	if (!j->crc32)
		return true;
	if (c->h_chksum_type == AIOSFS_JBD_CRC32_CHKSUM &&
	    c->h_chksum_size == AIOSFS_JBD_CRC32_CHKSUM_SIZE && found == j->crc) {
		j->crc_seen = true;
		return true;
	}
	return !c->h_chksum_type && !c->h_chksum_size && !found && !j->crc_seen;
}

/*
 * SCAN stops at pos: the log ends there.  why says which checksum failed,
 * or is NULL for the ordinary end.  The later passes stop before the end,
 * so for them this is a block that changed since the scan.
 */
static int aiosfs_jbd_end(struct aiosfs_journal *j, enum aiosfs_jbd_pass pass, u32 pos, u32 seq,
			  const char *why)
{
	if (pass != AIOSFS_PASS_SCAN) {
		pr_err("(%s): journal block %u changed during recovery\n", aiosfs_jid(j), pos);
		return -EIO;
	}
	if (why)
		pr_warn("(%s): journal block %u of transaction %u: %s; the log ends before it\n",
			aiosfs_jid(j), pos, seq, why);
	return 0;
}

/* SCAN: the tag must point into the filesystem, outside the journal. */
static int aiosfs_jbd_scan_tag(struct aiosfs_journal *j, u64 blk, u32 seq, u32 dpos)
{
	struct buffer_head *bh;

	if (blk >= AIOSFS_SB(j->sb)->s_blocks_count || aiosfs_jbd_in_journal(j, blk)) {
		pr_err("(%s): transaction %u logs block %llu, outside the filesystem or inside the journal\n",
		       aiosfs_jid(j), seq, blk);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (!j->crc32)
		return 0;
	bh = aiosfs_jbd_bread(j, dpos);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	j->crc = crc32_be(j->crc, (const u8 *)bh->b_data, j->sb->s_blocksize);
	brelse(bh);
	return 0;
}

/* REPLAY: writes one logged block home, unless revoked or damaged. */
static int aiosfs_jbd_replay_tag(struct aiosfs_journal *j, const void *tag, u64 blk, u32 flags,
				 u32 seq, u32 dpos)
{
	void *revoked = xa_load(&j->revoked, blk);
	struct buffer_head *bh, *home;

	if (revoked && !aiosfs_tid_before(xa_to_value(revoked), seq)) {
		j->nr_revoke_hits++;
		return 0;
	}
	bh = aiosfs_jbd_bread(j, dpos);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	if (j->csum && !aiosfs_jbd_tag_csum_ok(j, tag, bh->b_data, seq)) {
		pr_err("(%s): journal block %u (transaction %u, block %llu) fails its checksum: not replayed\n",
		       aiosfs_jid(j), dpos, seq, blk);
		j->nr_bad++;
		brelse(bh);
		return 0;
	}
	home = sb_getblk(j->sb, blk);
	if (!home) {
		brelse(bh);
		return -ENOMEM;
	}
	lock_buffer(home);
	memcpy(home->b_data, bh->b_data, j->sb->s_blocksize);
	/* jbd2 escaped a block that began with its magic: put it back. */
	if (flags & AIOSFS_JBD_FLAG_ESCAPE)
		*(__be32 *)home->b_data = cpu_to_be32(AIOSFS_JBD_MAGIC);
	set_buffer_uptodate(home);
	unlock_buffer(home);
	mark_buffer_dirty(home);
	brelse(home);
	brelse(bh);
	j->nr_replayed++;
	return 0;
}

/* Returns the blocks the descriptor and its data take, 0 at the log's end. */
static int aiosfs_jbd_descriptor(struct aiosfs_journal *j, enum aiosfs_jbd_pass pass,
				 struct buffer_head *bh, u32 pos, u32 seq)
{
	struct aiosfs_jbd_tags it;
	u32 flags, n = 0;
	int err = 0;
	u64 blk;

	if (pass == AIOSFS_PASS_SCAN) {
		if (j->csum && !aiosfs_jbd_tail_ok(j, bh->b_data))
			return aiosfs_jbd_end(j, pass, pos, seq,
					      "descriptor block checksum mismatch");
		if (j->crc32)
			j->crc = crc32_be(j->crc, (const u8 *)bh->b_data, j->sb->s_blocksize);
	}
	aiosfs_jbd_tags_init(j, &it, bh->b_data);
	while (aiosfs_jbd_next_tag(j, &it, &blk, &flags)) {
		u32 dpos = aiosfs_jbd_wrap(j, (u64)pos + ++n);

		if (pass == AIOSFS_PASS_SCAN)
			err = aiosfs_jbd_scan_tag(j, blk, seq, dpos);
		else if (pass == AIOSFS_PASS_REPLAY)
			err = aiosfs_jbd_replay_tag(j, it.tag, blk, flags, seq, dpos);
		if (err)
			return err;
	}
	return 1 + n;
}

static int aiosfs_jbd_add_revoke(struct aiosfs_journal *j, u64 blk, u32 seq)
{
	void *old;

	/* A revoke can only matter for a block that a tag may log. */
	if (blk >= AIOSFS_SB(j->sb)->s_blocks_count)
		return 0;
	old = xa_load(&j->revoked, blk);
	if (old && !aiosfs_tid_before(xa_to_value(old), seq))
		return 0;
	return xa_err(xa_store(&j->revoked, blk, xa_mk_value(seq), GFP_KERNEL));
}

static int aiosfs_jbd_revoke(struct aiosfs_journal *j, enum aiosfs_jbd_pass pass,
			     struct buffer_head *bh, u32 pos, u32 seq)
{
	const struct aiosfs_jbd_revoke_header *r = (const void *)bh->b_data;
	size_t room = j->sb->s_blocksize - (j->csum ? sizeof(struct aiosfs_jbd_tail) : 0);
	u32 used = be32_to_cpu(r->r_count), rec = j->is64 ? 8 : 4, off;
	int err;

	if (pass == AIOSFS_PASS_SCAN) {
		if (j->csum && !aiosfs_jbd_tail_ok(j, bh->b_data))
			return aiosfs_jbd_end(j, pass, pos, seq, "revoke block checksum mismatch");
		if (used < sizeof(*r) || used > room) {
			pr_err("(%s): revoke block %u of transaction %u claims %u bytes\n",
			       aiosfs_jid(j), pos, seq, used);
			return -AIOSFS_EFSCORRUPTED;
		}
	}
	if (pass != AIOSFS_PASS_REVOKE)
		return 1;
	for (off = sizeof(*r); off + rec <= used; off += rec) {
		const __be32 *p = (const void *)(bh->b_data + off);
		u64 blk = rec == 8 ? (u64)be32_to_cpu(p[0]) << 32 | be32_to_cpu(p[1]) :
				     be32_to_cpu(p[0]);

		err = aiosfs_jbd_add_revoke(j, blk, seq);
		if (err)
			return err;
	}
	return 1;
}

/* One log block: returns the blocks it takes, 0 at the log's end, or an error. */
static int aiosfs_jbd_block(struct aiosfs_journal *j, enum aiosfs_jbd_pass pass,
			    struct buffer_head *bh, u32 pos, u32 *seq)
{
	const struct aiosfs_jbd_header *h = (const void *)bh->b_data;

	if (be32_to_cpu(h->h_magic) != AIOSFS_JBD_MAGIC || be32_to_cpu(h->h_sequence) != *seq)
		return aiosfs_jbd_end(j, pass, pos, *seq, NULL);
	switch (be32_to_cpu(h->h_blocktype)) {
	case AIOSFS_JBD_DESCRIPTOR:
		return aiosfs_jbd_descriptor(j, pass, bh, pos, *seq);
	case AIOSFS_JBD_REVOKE:
		return aiosfs_jbd_revoke(j, pass, bh, pos, *seq);
	case AIOSFS_JBD_COMMIT:
		if (pass == AIOSFS_PASS_SCAN && !aiosfs_jbd_commit_ok(j, bh->b_data))
			return aiosfs_jbd_end(j, pass, pos, *seq, "commit block checksum mismatch");
		(*seq)++;
		j->crc = ~0U;
		return 1;
	}
	return aiosfs_jbd_end(j, pass, pos, *seq, "unknown block type");
}

/*
 * One walk of the log from its start.  SCAN stops at the end it finds and
 * records it; the others stop there.  A log longer than the journal is a
 * loop: a real log always ends before it comes back to its start.
 */
static int aiosfs_jbd_pass(struct aiosfs_journal *j, enum aiosfs_jbd_pass pass)
{
	u32 loglen = j->maxlen - j->first, pos = j->start, seq = j->sequence;
	u64 walked = 0;
	int n;

	j->crc = ~0U;
	j->crc_seen = false;
	for (;;) {
		struct buffer_head *bh;

		if (pass != AIOSFS_PASS_SCAN && !aiosfs_tid_before(seq, j->end))
			return 0;
		if (walked >= loglen) {
			if (walked == loglen && pass == AIOSFS_PASS_SCAN)
				break;
			pr_err("(%s): the journal log runs over its own start: corrupt\n",
			       aiosfs_jid(j));
			return -AIOSFS_EFSCORRUPTED;
		}
		bh = aiosfs_jbd_bread(j, pos);
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		n = aiosfs_jbd_block(j, pass, bh, pos, &seq);
		brelse(bh);
		if (n < 0)
			return n;
		if (!n)
			break;
		walked += n;
		pos = aiosfs_jbd_wrap(j, (u64)pos + n);
	}
	j->end = seq;
	return 0;
}

/* The three passes, then the replayed blocks on stable storage. */
static int aiosfs_jbd_replay(struct aiosfs_journal *j)
{
	struct block_device *bdev = j->sb->s_bdev;
	int err;

	err = aiosfs_jbd_pass(j, AIOSFS_PASS_SCAN);
	if (!err)
		err = aiosfs_jbd_pass(j, AIOSFS_PASS_REVOKE);
	if (!err)
		err = aiosfs_jbd_pass(j, AIOSFS_PASS_REPLAY);
	if (!err)
		err = sync_blockdev(bdev);
	if (!err)
		err = blkdev_issue_flush(bdev);
	return err;
}

static int aiosfs_write_flush(struct super_block *sb, struct buffer_head *bh)
{
	int err;

	mark_buffer_dirty(bh);
	err = sync_dirty_buffer(bh);
	if (!err)
		err = blkdev_issue_flush(sb->s_bdev);
	if (err)
		pr_err("(%s): cannot write block %llu: %d\n", sb->s_id, (u64)bh->b_blocknr, err);
	return err;
}

/*
 * An empty journal, as jbd2 and e2fsck leave it: s_start 0, and a sequence
 * past everything in the log, so that old blocks never pass for new ones.
 * A recorded error moves to the filesystem superblock, as they move it.
 */
static int aiosfs_jbd_mark_empty(struct aiosfs_journal *j)
{
	struct aiosfs_jbd_super *js = (void *)j->sbh->b_data;
	const size_t off = offsetof(struct aiosfs_jbd_super, s_checksum);

	if (!j->start && !j->rec_errno)
		return 0;
	lock_buffer(j->sbh);
	js->s_start = 0;
	js->s_errno = 0;
	js->s_sequence = cpu_to_be32(j->end + 1);
	if (j->csum)
		js->s_checksum = cpu_to_be32(aiosfs_jbd_crc(~0U, js, sizeof(*js), off));
	unlock_buffer(j->sbh);
	return aiosfs_write_flush(j->sb, j->sbh);
}

/*
 * ext4 keeps the superblock's free counts only roughly and writes them from
 * the group descriptors when it marks recovery complete; so do we, or e2fsck
 * reports them.  The descriptor buffers hold what the replay wrote.
 */
static void aiosfs_jbd_update_counts(struct super_block *sb, struct aiosfs_super_block *es)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	bool is64 = sbi->s_desc_size >= AIOSFS_MIN_DESC_SIZE_64BIT;
	u64 blocks = 0, inodes = 0;
	u32 g;

	for (g = 0; g < sbi->s_groups_count; g++) {
		struct aiosfs_group_desc *gd = aiosfs_group_desc(sb, g);

		blocks += le16_to_cpu(gd->bg_free_blocks_count_lo);
		inodes += le16_to_cpu(gd->bg_free_inodes_count_lo);
		if (is64) {
			blocks += (u32)le16_to_cpu(gd->bg_free_blocks_count_hi) << 16;
			inodes += (u32)le16_to_cpu(gd->bg_free_inodes_count_hi) << 16;
		}
	}
	if (blocks > sbi->s_blocks_count || inodes > sbi->s_inodes_count)
		return;		/* e2fsck's business, not a reason to fail */
	es->s_free_blocks_count_lo = cpu_to_le32(lower_32_bits(blocks));
	if (sbi->s_incompat & AIOSFS_FEATURE_INCOMPAT_64BIT)
		es->s_free_blocks_count_hi = cpu_to_le32(upper_32_bits(blocks));
	es->s_free_inodes_count = cpu_to_le32(inodes);
}

/* The superblock buffer may hold a replayed copy: its own features decide. */
static int aiosfs_clear_needs_recovery(struct aiosfs_journal *j)
{
	struct super_block *sb = j->sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	const size_t off = offsetof(struct aiosfs_super_block, s_checksum);

	lock_buffer(sbi->s_sbh);
	es->s_feature_incompat &= ~cpu_to_le32(AIOSFS_FEATURE_INCOMPAT_RECOVER);
	if (j->rec_errno)
		es->s_state |= cpu_to_le16(AIOSFS_STATE_ERROR);
	aiosfs_jbd_update_counts(sb, es);
	if (le32_to_cpu(es->s_feature_ro_compat) & AIOSFS_FEATURE_RO_COMPAT_METADATA_CSUM)
		es->s_checksum = cpu_to_le32(aiosfs_crc(~0U, es, off));
	unlock_buffer(sbi->s_sbh);
	return aiosfs_write_flush(sb, sbi->s_sbh);
}

static int aiosfs_jbd_recover(struct aiosfs_journal *j)
{
	int err;

	err = aiosfs_jbd_open(j);
	if (err)
		return err;
	j->end = j->sequence;
	if (j->start) {
		pr_info("(%s): recovering journal\n", aiosfs_jid(j));
		err = aiosfs_jbd_replay(j);
		if (err)
			return err;
	}
	/*
	 * As jbd2: the rest is replayed, but the log stays for e2fsck, and
	 * the mount fails; what the bad blocks held is lost to it otherwise.
	 */
	if (j->nr_bad) {
		pr_err("(%s): %u logged blocks failed their checksums and were not replayed: the journal is kept, run e2fsck\n",
		       aiosfs_jid(j), j->nr_bad);
		return -AIOSFS_EFSBADCRC;
	}
	if (j->rec_errno)
		pr_warn("(%s): the journal records error %d from before: marking the filesystem in error, run e2fsck\n",
			aiosfs_jid(j), j->rec_errno);
	err = aiosfs_jbd_mark_empty(j);
	if (!err)
		err = aiosfs_clear_needs_recovery(j);
	if (err)
		return err;
	pr_info("(%s): recovery complete: %u transactions, %u blocks replayed, %u revoked\n",
		aiosfs_jid(j), j->end - j->sequence, j->nr_replayed, j->nr_revoke_hits);
	return 0;
}

/*
 * Called at mount when the superblock says needs_recovery.  Returns 1 when
 * the journal was replayed (the caller must read the filesystem again), 0
 * when noload left it as it is, or an error.
 */
int aiosfs_recover(struct super_block *sb, bool noload)
{
	struct aiosfs_journal *j;
	int err;

	if (noload) {
		pr_warn("(%s): the journal needs recovery but noload is set: not replaying it, what is read may be inconsistent\n",
			sb->s_id);
		return 0;
	}
	/* Like ext4: replay needs a writable device, even for a read-only mount. */
	if (bdev_read_only(sb->s_bdev)) {
		pr_err("(%s): the journal needs recovery but the device is read-only, and aiosfs does not replay in memory; make the device writable or mount with -o noload\n",
		       sb->s_id);
		return -EROFS;
	}
	j = kzalloc(sizeof(*j), GFP_KERNEL);
	if (!j)
		return -ENOMEM;
	j->sb = sb;
	xa_init(&j->revoked);
	err = aiosfs_jbd_recover(j);
	if (err)
		pr_err("(%s): journal recovery failed: %d\n", sb->s_id, err);
	xa_destroy(&j->revoked);
	brelse(j->sbh);
	kfree(j->ext);
	kfree(j);
	return err ?: 1;
}
