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

enum aiosfs_jbd_pass {
	AIOSFS_PASS_SCAN,
	AIOSFS_PASS_REVOKE,
	AIOSFS_PASS_REPLAY,
};

/* Recovery's state over the on-disk journal (jdisk.c). */
struct aiosfs_replay {
	struct aiosfs_jdisk *jd;
	struct super_block *sb;
	u32 end;			/* SCAN: first transaction not committed */
	u32 crc;			/* v1: crc32 of the transaction so far */
	bool crc_seen;			/* v1: a commit carried one */
	struct xarray revoked;		/* home block -> newest revoking transaction */
	u32 nr_replayed;
	u32 nr_revoke_hits;
	u32 nr_bad;
};

static const char *aiosfs_jid(struct aiosfs_replay *r)
{
	return r->sb->s_id;
}

/* A descriptor's tags: each may be followed by a 16-byte uuid. */
struct aiosfs_jbd_tags {
	const u8 *p;
	const u8 *end;
	const void *tag;	/* the tag last returned */
	bool done;
};

static void aiosfs_jbd_tags_init(struct aiosfs_replay *r, struct aiosfs_jbd_tags *it,
				 const void *block)
{
	it->p = block + sizeof(struct aiosfs_jbd_header);
	it->end = block + aiosfs_jdisk_room(r->jd);
	it->done = false;
}

/* The next tag's home block and flags; false after the last one. */
static bool aiosfs_jbd_next_tag(struct aiosfs_replay *r, struct aiosfs_jbd_tags *it, u64 *blk,
				u32 *flags)
{
	const struct aiosfs_jbd_tag3 *t3 = (const void *)it->p;
	const struct aiosfs_jbd_tag *t = (const void *)it->p;

	/* A tag that does not fit ends the block, as it does for jbd2. */
	if (it->done || it->end - it->p < r->jd->tag_bytes)
		return false;
	*blk = be32_to_cpu(t->t_blocknr);
	if (r->jd->is64)	/* at the same offset in both layouts */
		*blk |= (u64)be32_to_cpu(t->t_blocknr_high) << 32;
	*flags = r->jd->csum_v3 ? be32_to_cpu(t3->t_flags) : be16_to_cpu(t->t_flags);
	it->tag = it->p;
	it->p += r->jd->tag_bytes;
	if (!(*flags & AIOSFS_JBD_FLAG_SAME_UUID))
		it->p += 16;
	it->done = *flags & AIOSFS_JBD_FLAG_LAST_TAG;
	return true;
}

/* The tail checksum of a descriptor or revoke block (csum v2/v3). */
static bool aiosfs_jbd_tail_ok(struct aiosfs_replay *r, const void *block)
{
	const struct aiosfs_jbd_tail *t = block + aiosfs_jdisk_room(r->jd);

	return aiosfs_jdisk_tail_csum(r->jd, block) == be32_to_cpu(t->t_checksum);
}

static bool aiosfs_jbd_tag_csum_ok(struct aiosfs_replay *r, const void *tag, const void *data,
				   u32 seq)
{
	u32 crc = aiosfs_jdisk_block_csum(r->jd, seq, data);

	if (r->jd->csum_v3)
		return be32_to_cpu(((const struct aiosfs_jbd_tag3 *)tag)->t_checksum) == crc;
	return be16_to_cpu(((const struct aiosfs_jbd_tag *)tag)->t_checksum) == crc;
}

/*
 * Whether a commit block closes its transaction.  A failed one ends the log
 * with async_commit too: jbd2 then wrote the commit block without waiting
 * for the transaction's other blocks.  With csum v2/v3 it has
 * its own checksum; the old v1 crc32 covers the transaction's descriptor
 * and data blocks, and a journal may have turned it on after commits that
 * carry none.
 */
static bool aiosfs_jbd_commit_ok(struct aiosfs_replay *r, const void *block)
{
	const struct aiosfs_jbd_commit *c = block;
	u32 found = be32_to_cpu(c->h_chksum[0]);

	if (r->jd->csum)
		return aiosfs_jdisk_commit_csum(r->jd, block) == found;
	if (!r->jd->crc32)
		return true;
	if (c->h_chksum_type == AIOSFS_JBD_CRC32_CHKSUM &&
	    c->h_chksum_size == AIOSFS_JBD_CRC32_CHKSUM_SIZE && found == r->crc) {
		r->crc_seen = true;
		return true;
	}
	return !c->h_chksum_type && !c->h_chksum_size && !found && !r->crc_seen;
}

/*
 * SCAN stops at pos: the log ends there.  why says which checksum failed,
 * or is NULL for the ordinary end.  The later passes stop before the end,
 * so for them this is a block that changed since the scan.
 */
static int aiosfs_jbd_end(struct aiosfs_replay *r, enum aiosfs_jbd_pass pass, u32 pos, u32 seq,
			  const char *why)
{
	if (pass != AIOSFS_PASS_SCAN) {
		pr_err("(%s): journal block %u changed during recovery\n", aiosfs_jid(r), pos);
		return -EIO;
	}
	if (why)
		pr_warn("(%s): journal block %u of transaction %u: %s; the log ends before it\n",
			aiosfs_jid(r), pos, seq, why);
	return 0;
}

/* SCAN: the tag must point into the filesystem, outside the journal. */
static int aiosfs_jbd_scan_tag(struct aiosfs_replay *r, u64 blk, u32 seq, u32 dpos)
{
	struct buffer_head *bh;

	if (blk >= AIOSFS_SB(r->sb)->s_blocks_count || aiosfs_jdisk_contains(r->jd, blk)) {
		pr_err("(%s): transaction %u logs block %llu, outside the filesystem or inside the journal\n",
		       aiosfs_jid(r), seq, blk);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (!r->jd->crc32)
		return 0;
	bh = aiosfs_jdisk_bread(r->jd, dpos);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	r->crc = crc32_be(r->crc, (const u8 *)bh->b_data, r->sb->s_blocksize);
	brelse(bh);
	return 0;
}

/* REPLAY: writes one logged block home, unless revoked or damaged. */
static int aiosfs_jbd_replay_tag(struct aiosfs_replay *r, const void *tag, u64 blk, u32 flags,
				 u32 seq, u32 dpos)
{
	void *revoked = xa_load(&r->revoked, blk);
	struct buffer_head *bh, *home;

	if (revoked && !aiosfs_tid_before(xa_to_value(revoked), seq)) {
		r->nr_revoke_hits++;
		return 0;
	}
	bh = aiosfs_jdisk_bread(r->jd, dpos);
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	if (r->jd->csum && !aiosfs_jbd_tag_csum_ok(r, tag, bh->b_data, seq)) {
		pr_err("(%s): journal block %u (transaction %u, block %llu) fails its checksum: not replayed\n",
		       aiosfs_jid(r), dpos, seq, blk);
		r->nr_bad++;
		brelse(bh);
		return 0;
	}
	home = sb_getblk(r->sb, blk);
	if (!home) {
		brelse(bh);
		return -ENOMEM;
	}
	lock_buffer(home);
	memcpy(home->b_data, bh->b_data, r->sb->s_blocksize);
	/* jbd2 escaped a block that began with its magic: put it back. */
	if (flags & AIOSFS_JBD_FLAG_ESCAPE)
		*(__be32 *)home->b_data = cpu_to_be32(AIOSFS_JBD_MAGIC);
	set_buffer_uptodate(home);
	unlock_buffer(home);
	mark_buffer_dirty(home);
	brelse(home);
	brelse(bh);
	r->nr_replayed++;
	return 0;
}

/* Returns the blocks the descriptor and its data take, 0 at the log's end. */
static int aiosfs_jbd_descriptor(struct aiosfs_replay *r, enum aiosfs_jbd_pass pass,
				 struct buffer_head *bh, u32 pos, u32 seq)
{
	struct aiosfs_jbd_tags it;
	u32 flags, n = 0;
	int err = 0;
	u64 blk;

	if (pass == AIOSFS_PASS_SCAN) {
		if (r->jd->csum && !aiosfs_jbd_tail_ok(r, bh->b_data))
			return aiosfs_jbd_end(r, pass, pos, seq,
					      "descriptor block checksum mismatch");
		if (r->jd->crc32)
			r->crc = crc32_be(r->crc, (const u8 *)bh->b_data, r->sb->s_blocksize);
	}
	aiosfs_jbd_tags_init(r, &it, bh->b_data);
	while (aiosfs_jbd_next_tag(r, &it, &blk, &flags)) {
		u32 dpos = aiosfs_jdisk_wrap(r->jd, (u64)pos + ++n);

		if (pass == AIOSFS_PASS_SCAN)
			err = aiosfs_jbd_scan_tag(r, blk, seq, dpos);
		else if (pass == AIOSFS_PASS_REPLAY)
			err = aiosfs_jbd_replay_tag(r, it.tag, blk, flags, seq, dpos);
		if (err)
			return err;
	}
	return 1 + n;
}

static int aiosfs_jbd_add_revoke(struct aiosfs_replay *r, u64 blk, u32 seq)
{
	void *old;

	/* A revoke can only matter for a block that a tag may log. */
	if (blk >= AIOSFS_SB(r->sb)->s_blocks_count)
		return 0;
	old = xa_load(&r->revoked, blk);
	if (old && !aiosfs_tid_before(xa_to_value(old), seq))
		return 0;
	return xa_err(xa_store(&r->revoked, blk, xa_mk_value(seq), GFP_KERNEL));
}

static int aiosfs_jbd_revoke(struct aiosfs_replay *r, enum aiosfs_jbd_pass pass,
			     struct buffer_head *bh, u32 pos, u32 seq)
{
	const struct aiosfs_jbd_revoke_header *rh = (const void *)bh->b_data;
	size_t room = aiosfs_jdisk_room(r->jd);
	u32 used = be32_to_cpu(rh->r_count), rec = r->jd->is64 ? 8 : 4, off;
	int err;

	if (pass == AIOSFS_PASS_SCAN) {
		if (r->jd->csum && !aiosfs_jbd_tail_ok(r, bh->b_data))
			return aiosfs_jbd_end(r, pass, pos, seq, "revoke block checksum mismatch");
		if (used < sizeof(*rh) || used > room) {
			pr_err("(%s): revoke block %u of transaction %u claims %u bytes\n",
			       aiosfs_jid(r), pos, seq, used);
			return -AIOSFS_EFSCORRUPTED;
		}
	}
	if (pass != AIOSFS_PASS_REVOKE)
		return 1;
	for (off = sizeof(*rh); off + rec <= used; off += rec) {
		const __be32 *p = (const void *)(bh->b_data + off);
		u64 blk = rec == 8 ? (u64)be32_to_cpu(p[0]) << 32 | be32_to_cpu(p[1]) :
				     be32_to_cpu(p[0]);

		err = aiosfs_jbd_add_revoke(r, blk, seq);
		if (err)
			return err;
	}
	return 1;
}

/* One log block: returns the blocks it takes, 0 at the log's end, or an error. */
static int aiosfs_jbd_block(struct aiosfs_replay *r, enum aiosfs_jbd_pass pass,
			    struct buffer_head *bh, u32 pos, u32 *seq)
{
	const struct aiosfs_jbd_header *h = (const void *)bh->b_data;

	if (be32_to_cpu(h->h_magic) != AIOSFS_JBD_MAGIC || be32_to_cpu(h->h_sequence) != *seq)
		return aiosfs_jbd_end(r, pass, pos, *seq, NULL);
	switch (be32_to_cpu(h->h_blocktype)) {
	case AIOSFS_JBD_DESCRIPTOR:
		return aiosfs_jbd_descriptor(r, pass, bh, pos, *seq);
	case AIOSFS_JBD_REVOKE:
		return aiosfs_jbd_revoke(r, pass, bh, pos, *seq);
	case AIOSFS_JBD_COMMIT:
		if (pass == AIOSFS_PASS_SCAN && !aiosfs_jbd_commit_ok(r, bh->b_data))
			return aiosfs_jbd_end(r, pass, pos, *seq, "commit block checksum mismatch");
		(*seq)++;
		r->crc = ~0U;
		return 1;
	}
	return aiosfs_jbd_end(r, pass, pos, *seq, "unknown block type");
}

/*
 * One walk of the log from its start.  SCAN stops at the end it finds and
 * records it; the others stop there.  A log longer than the journal is a
 * loop: a real log always ends before it comes back to its start.
 */
static int aiosfs_jbd_pass(struct aiosfs_replay *r, enum aiosfs_jbd_pass pass)
{
	u32 loglen = r->jd->maxlen - r->jd->first, pos = r->jd->start, seq = r->jd->sequence;
	u64 walked = 0;
	int n;

	r->crc = ~0U;
	r->crc_seen = false;
	for (;;) {
		struct buffer_head *bh;

		if (pass != AIOSFS_PASS_SCAN && !aiosfs_tid_before(seq, r->end))
			return 0;
		if (walked >= loglen) {
			if (walked == loglen && pass == AIOSFS_PASS_SCAN)
				break;
			pr_err("(%s): the journal log runs over its own start: corrupt\n",
			       aiosfs_jid(r));
			return -AIOSFS_EFSCORRUPTED;
		}
		bh = aiosfs_jdisk_bread(r->jd, pos);
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		n = aiosfs_jbd_block(r, pass, bh, pos, &seq);
		brelse(bh);
		if (n < 0)
			return n;
		if (!n)
			break;
		walked += n;
		pos = aiosfs_jdisk_wrap(r->jd, (u64)pos + n);
	}
	r->end = seq;
	return 0;
}

/* The three passes, then the replayed blocks on stable storage. */
static int aiosfs_jbd_replay(struct aiosfs_replay *r)
{
	struct block_device *bdev = r->sb->s_bdev;
	int err;

	err = aiosfs_jbd_pass(r, AIOSFS_PASS_SCAN);
	if (!err)
		err = aiosfs_jbd_pass(r, AIOSFS_PASS_REVOKE);
	if (!err)
		err = aiosfs_jbd_pass(r, AIOSFS_PASS_REPLAY);
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
static int aiosfs_jbd_mark_empty(struct aiosfs_replay *r)
{
	struct aiosfs_jbd_super *js = (void *)r->jd->sbh->b_data;

	if (!r->jd->start && !r->jd->rec_errno)
		return 0;
	lock_buffer(r->jd->sbh);
	js->s_start = 0;
	js->s_errno = 0;
	js->s_sequence = cpu_to_be32(r->end + 1);
	aiosfs_jdisk_sb_csum(r->jd);
	unlock_buffer(r->jd->sbh);
	return aiosfs_write_flush(r->sb, r->jd->sbh);
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
static int aiosfs_clear_needs_recovery(struct aiosfs_replay *r)
{
	struct super_block *sb = r->sb;
	struct aiosfs_sb_info *sbi = AIOSFS_SB(sb);
	struct aiosfs_super_block *es = sbi->s_es;
	const size_t off = offsetof(struct aiosfs_super_block, s_checksum);

	lock_buffer(sbi->s_sbh);
	es->s_feature_incompat &= ~cpu_to_le32(AIOSFS_FEATURE_INCOMPAT_RECOVER);
	if (r->jd->rec_errno)
		es->s_state |= cpu_to_le16(AIOSFS_STATE_ERROR);
	aiosfs_jbd_update_counts(sb, es);
	if (le32_to_cpu(es->s_feature_ro_compat) & AIOSFS_FEATURE_RO_COMPAT_METADATA_CSUM)
		es->s_checksum = cpu_to_le32(aiosfs_crc(~0U, es, off));
	unlock_buffer(sbi->s_sbh);
	return aiosfs_write_flush(sb, sbi->s_sbh);
}

/* The journal the superblock names, mapped, with its superblock checked. */
static int aiosfs_jbd_open(struct aiosfs_replay *r)
{
	struct aiosfs_jdisk *jd;

	if (!(AIOSFS_SB(r->sb)->s_compat & AIOSFS_FEATURE_COMPAT_HAS_JOURNAL)) {
		pr_err("(%s): needs_recovery is set but the filesystem has no journal; run e2fsck\n",
		       aiosfs_jid(r));
		return -AIOSFS_EFSCORRUPTED;
	}
	jd = aiosfs_jdisk_get(r->sb);
	if (IS_ERR(jd))
		return PTR_ERR(jd);
	r->jd = jd;
	return aiosfs_jdisk_read_super(jd);
}

static int aiosfs_jbd_recover(struct aiosfs_replay *r)
{
	int err;

	err = aiosfs_jbd_open(r);
	if (err)
		return err;
	r->end = r->jd->sequence;
	if (r->jd->start) {
		pr_info("(%s): recovering journal\n", aiosfs_jid(r));
		err = aiosfs_jbd_replay(r);
		if (err)
			return err;
	}
	/*
	 * As jbd2: the rest is replayed, but the log stays for e2fsck, and
	 * the mount fails; what the bad blocks held is lost to it otherwise.
	 */
	if (r->nr_bad) {
		pr_err("(%s): %u logged blocks failed their checksums and were not replayed: the journal is kept, run e2fsck\n",
		       aiosfs_jid(r), r->nr_bad);
		return -AIOSFS_EFSBADCRC;
	}
	if (r->jd->rec_errno)
		pr_warn("(%s): the journal records error %d from before: marking the filesystem in error, run e2fsck\n",
			aiosfs_jid(r), r->jd->rec_errno);
	err = aiosfs_jbd_mark_empty(r);
	if (!err)
		err = aiosfs_clear_needs_recovery(r);
	if (err)
		return err;
	pr_info("(%s): recovery complete: %u transactions, %u blocks replayed, %u revoked\n",
		aiosfs_jid(r), r->end - r->jd->sequence, r->nr_replayed, r->nr_revoke_hits);
	return 0;
}

/*
 * Called at mount when the superblock says needs_recovery.  Returns 1 when
 * the journal was replayed (the caller must read the filesystem again), 0
 * when noload left it as it is, or an error.
 */
int aiosfs_recover(struct super_block *sb, bool noload)
{
	struct aiosfs_replay *r;
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
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->sb = sb;
	xa_init(&r->revoked);
	err = aiosfs_jbd_recover(r);
	if (err)
		pr_err("(%s): journal recovery failed: %d\n", sb->s_id, err);
	xa_destroy(&r->revoked);
	kfree(r);
	return err ?: 1;
}
