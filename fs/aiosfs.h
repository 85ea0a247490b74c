/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aiosfs internals shared by the files of fs/.
 */
#ifndef _AIOSFS_H
#define _AIOSFS_H

#include <linux/fs.h>
#include <linux/buffer_head.h>
#include <linux/xattr.h>
#include <linux/ratelimit.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include "ext4_fs.h"
#include <aios/compat.h>
#include <aios/lbio.h>

/* The kernel keeps these two private to ext4/xfs/jbd2; ours mean the same. */
#define AIOSFS_EFSBADCRC	EBADMSG
#define AIOSFS_EFSCORRUPTED	EUCLEAN

struct aiosfs_sb_info {
	struct aiosfs_super_block *s_es;	/* points into s_sbh */
	struct buffer_head *s_sbh;
	struct buffer_head **s_gd_bh;		/* the descriptor table blocks */
	u64 s_blocks_count;
	u64 s_r_blocks_count;
	u64 s_overhead;				/* metadata blocks, for statfs */
	u64 s_free_blocks;
	u64 s_free_inodes;
	u32 s_groups_count;
	u32 s_gdb_count;
	u32 s_desc_size;
	u32 s_desc_per_block;
	u32 s_blocks_per_group;
	u32 s_inodes_per_group;
	u32 s_inodes_count;
	u32 s_itb_per_group;			/* inode table blocks per group */
	u32 s_inode_size;
	u32 s_first_ino;
	u32 s_first_data_block;
	u32 s_incompat;
	u32 s_ro_compat;
	u32 s_compat;
	u32 s_csum_seed;
	u32 s_hash_seed[4];
	u8 s_hash_unsigned;			/* 3 to pick the unsigned variants */
	bool s_has_csum;			/* metadata_csum */
	bool s_inode_csum;			/* metadata_csum on a Linux-made fs */
	struct ratelimit_state s_err_ratelimit;
	struct aios_lbio_dev *s_lbio;		/* the device, for the read paths */
	bool s_poll;				/* spin before sleeping on its I/O */
	struct aiosfs_jdisk *s_jdisk;		/* from recovery or the first rw start */

	/* The write side: all NULL/0 on a read-only mount. */
	struct aiosfs_journal *s_journal;
	struct aiosfs_balloc *s_balloc;		/* balloc.c/ialloc.c state */
	u32 s_want_extra_isize;			/* for new inodes */
	u32 s_commit_interval;			/* jiffies */
	u32 s_mount_opt;			/* AIOSFS_MOUNT_* */
	struct mutex s_orphan_lock;		/* the on-disk orphan list */
	struct list_head s_orphans;		/* ... newest first, as on disk */
	/* errors=remount-ro took effect: the journal is aborted until unmount. */
	bool s_aborted;
	struct work_struct s_error_work;	/* writes the error state home */
};

#define AIOSFS_MOUNT_ERRORS_CONT	0x1
#define AIOSFS_MOUNT_ERRORS_RO		0x2
#define AIOSFS_MOUNT_ERRORS_PANIC	0x4
#define AIOSFS_MOUNT_ERRORS_MASK	0x7

struct aiosfs_ext_cache;

struct aiosfs_inode_info {
	__le32 i_data[AIOSFS_N_BLOCKS + 1];	/* +1: a fast symlink's NUL */
	u32 i_flags;
	u32 i_csum_seed;
	u64 i_file_acl;
	u16 i_extra_isize;
	bool i_has_crtime;
	struct timespec64 i_crtime;
	struct aiosfs_ext_cache __rcu *i_ec;	/* all extents, for files with few */
	/*
	 * Taken for write around every change of the extent tree and i_data,
	 * for read by whoever walks the tree; always inside a handle.
	 */
	struct rw_semaphore i_data_sem;
	u64 i_disksize;				/* i_size as the journal has it */
	u32 i_dtime;				/* on the orphan list: next orphan */
	u32 i_block_group;			/* where its blocks are sought */
	u32 i_sync_tid;				/* last transaction that changed it */
	u32 i_datasync_tid;			/* ... in a way fdatasync must keep */
	struct list_head i_orphan;		/* sbi's in-memory orphan list */
	u32 i_ordered_tid;			/* ordered data in this transaction */
	u32 i_ordered_idx;			/* ... its entry there */
	bool i_ordered;				/* ... if set */
	/*
	 * Writebacks other than fsync's own (the flusher's, O_DIRECT), and
	 * how many of them the last fsync found flushed: with no new one,
	 * an fsync that finds nothing to write needs no cache flush.
	 */
	atomic_t i_wb_seq;
	u32 i_flushed_seq;
	/*
	 * O_DIRECT writes completed: a read that sent its device command
	 * before one of them may hold old data, and must not publish it.
	 */
	atomic_t i_dio_seq;
	struct inode vfs_inode;
};

static inline struct aiosfs_sb_info *AIOSFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct aiosfs_inode_info *AIOSFS_I(struct inode *inode)
{
	return container_of(inode, struct aiosfs_inode_info, vfs_inode);
}

static inline bool aiosfs_has_incompat(struct super_block *sb, u32 mask)
{
	return AIOSFS_SB(sb)->s_incompat & mask;
}

/* One mapped (or unmapped) run of logical blocks. */
struct aiosfs_map {
	u32 m_lblk;
	u32 m_len;		/* blocks from m_lblk with the same state */
	u64 m_pblk;		/* 0: a hole */
	bool m_unwritten;	/* allocated but reads as zeroes */
	bool m_new;		/* aiosfs_ext_map_create() just allocated it */
};

/*
 * transaction.c: transactions and handles, the journal writer's API (the
 * writer is split as jbd2 is: commit.c, checkpoint.c and journal.c are the
 * rest, journal.h their private header).
 *
 * Every change to metadata happens inside a handle: aiosfs_journal_start()
 * reserves credits (one per metadata block the handle may dirty),
 * get_write_access() before touching a buffer, dirty_metadata() after
 * (with its checksum already updated).  Metadata buffers are never marked
 * dirty for the VM: the journal writes them, first to the log, then home.
 * Handles nest through current->journal_info.  Never start a handle while
 * holding a page lock, a buffer lock or i_data_sem: the commit waits for
 * running handles.
 */
struct aiosfs_handle;

/**
 * aiosfs_journal_start() - opens a handle, or nests in the running one
 * @sb: the filesystem
 * @credits: metadata blocks the handle may dirty (AIOSFS_CREDITS_*)
 *
 * May first commit the running transaction, in the caller's context, to
 * make room in the log.  Context: task, may sleep.
 *
 * Return: the handle, ERR_PTR(-EROFS) when the filesystem is read-only,
 * has no journal or its journal is aborted, or another ERR_PTR().
 */
struct aiosfs_handle *aiosfs_journal_start(struct super_block *sb, int credits);

/**
 * aiosfs_journal_stop() - ends a handle (the outermost: lets a commit run)
 * @h: the handle
 *
 * Return: 0, or -EIO when the journal was aborted meanwhile, so that what
 * the handle changed will not commit.
 */
int aiosfs_journal_stop(struct aiosfs_handle *h);

/**
 * aiosfs_journal_ensure_credits() - tops up a handle's credits
 * @h: the handle
 * @credits: how many it needs from here on
 *
 * Restarts the handle (a commit between) if need be.  A restart waits for
 * every other handle to stop: drop i_data_sem (and any lock another handle
 * may wait for) around it.
 *
 * Return: 0, or a negative errno: the handle then has no credits left,
 * but must still be stopped.
 */
int aiosfs_journal_ensure_credits(struct aiosfs_handle *h, int credits);

/**
 * aiosfs_journal_try_extend() - tops up a handle's credits without a restart
 * @h: the handle
 * @credits: how many it needs from here on
 *
 * Return: whether it has them now.
 */
bool aiosfs_journal_try_extend(struct aiosfs_handle *h, int credits);

/**
 * aiosfs_journal_get_write_access() - before a handle changes a metadata block
 * @h: the handle
 * @bh: the block, up to date
 *
 * Return: 0, or -EROFS once the journal is aborted.
 */
int aiosfs_journal_get_write_access(struct aiosfs_handle *h, struct buffer_head *bh);

/**
 * aiosfs_journal_get_create_access() - write access to a new metadata block
 * @h: the handle
 * @bh: a block just allocated as metadata; the caller will fill all of it
 *
 * Return: 0 or a negative errno.
 */
int aiosfs_journal_get_create_access(struct aiosfs_handle *h, struct buffer_head *bh);

/**
 * aiosfs_journal_dirty_metadata() - after a handle changed a metadata block
 * @h: the handle that got write access to @bh
 * @bh: the block, with its checksum already updated
 *
 * The block joins the running transaction and is written to the log, then
 * home; never marked dirty for the VM.
 *
 * Return: 0 or a negative errno.
 */
int aiosfs_journal_dirty_metadata(struct aiosfs_handle *h, struct buffer_head *bh);

/**
 * aiosfs_journal_revoke() - a metadata block was freed
 * @h: the handle that frees it
 * @blk: the block
 *
 * Older copies of @blk in the log must not be replayed over its next use.
 *
 * Return: 0 or a negative errno.
 */
int aiosfs_journal_revoke(struct aiosfs_handle *h, u64 blk);

/**
 * aiosfs_journal_add_ordered() - the inode got newly allocated blocks
 * @h: the handle that mapped them
 * @inode: the inode, whose dirty pages in [@start, @end] the commit writes
 *         before its commit block
 * @start: the first byte of the range
 * @end: its last byte
 *
 * Several calls in one transaction widen one range.
 *
 * Return: 0, or -ENOMEM.
 */
int aiosfs_journal_add_ordered(struct aiosfs_handle *h, struct inode *inode,
			       loff_t start, loff_t end);

/* The same for @count blocks from logical block @lblk. */
static inline int aiosfs_journal_order_blocks(struct aiosfs_handle *h, struct inode *inode,
					      u64 lblk, u64 count)
{
	unsigned int bits = inode->i_blkbits;

	return aiosfs_journal_add_ordered(h, inode, lblk << bits, ((lblk + count) << bits) - 1);
}

/**
 * aiosfs_handle_tid() - the transaction a handle's changes commit in
 * @h: the handle
 *
 * Return: the transaction id.
 */
u32 aiosfs_handle_tid(struct aiosfs_handle *h);

/**
 * aiosfs_journal_dirty_super() - journals the superblock
 * @h: the handle, after its caller changed sbi->s_es
 *
 * The superblock's checksum is set here.
 *
 * Return: 0 or a negative errno.
 */
int aiosfs_journal_dirty_super(struct aiosfs_handle *h);

/* Credits of common operations (blocks a handle may dirty). */
#define AIOSFS_CREDITS_INODE	1	/* the inode table block */
#define AIOSFS_CREDITS_ALLOC	3	/* bitmap, descriptor, superblock */
/* Mapping one new extent: tree blocks of every level, split up to the root. */
#define AIOSFS_CREDITS_EXTENT	(2 * (AIOSFS_EXT_MAX_DEPTH + 1) + AIOSFS_CREDITS_ALLOC)
/* A directory entry added or removed, with a possible htree split. */
#define AIOSFS_CREDITS_DIRENT	(6 + AIOSFS_CREDITS_EXTENT)
/* A new inode: its bitmap, descriptor, table block, superblock. */
#define AIOSFS_CREDITS_NEWINODE	(AIOSFS_CREDITS_ALLOC + AIOSFS_CREDITS_INODE + \
				 AIOSFS_CREDITS_NEWXATTRS)

/* commit.c: making transactions durable (fsync, sync, the periodic commit). */
/*
 * What an fsync hands the commit: its data in flight, its time stamps.
 * Whoever commits the transaction the fsync waits for waits for its data
 * too, before the commit block's flush (group commit).
 */
struct aiosfs_fsync_ctx {
	struct aios_lbio_batch *data;		/* NULL once waited for */
	struct aiosfs_fsync_times *times;	/* NULL: not counted */
	struct list_head node;			/* on the transaction's t_syncers */
};

/**
 * aiosfs_journal_commit_tid() - makes transaction @tid durable
 * @sb: the filesystem
 * @tid: the transaction
 * @fc: the caller's data in flight, or NULL
 *
 * Commits in the caller's context if @tid is not yet durable, or waits for
 * the commit that is running.  Context: task, may sleep.
 *
 * Return: 0 or a negative errno (-EIO once the journal is aborted).
 */
int aiosfs_journal_commit_tid(struct super_block *sb, u32 tid, struct aiosfs_fsync_ctx *fc);
/**
 * aiosfs_journal_force_commit() - commits the running transaction, if any
 * @sb: the filesystem
 *
 * Return: 1 when a commit ran (its flush covers data sent before), 0 when
 * there was nothing to commit, or a negative errno.
 */
int aiosfs_journal_force_commit(struct super_block *sb);

/**
 * aiosfs_journal_tid_durable() - whether transaction @tid has committed
 * @sb: the filesystem
 * @tid: the transaction
 *
 * Return: true also when there is no journal.
 */
bool aiosfs_journal_tid_durable(struct super_block *sb, u32 tid);
/**
 * aiosfs_journal_running_tid() - the transaction that takes changes now
 * @sb: the filesystem
 *
 * Return: its tid, which no earlier change of any inode is newer than.
 */
u32 aiosfs_journal_running_tid(struct super_block *sb);

/* journal.c: the journal's life, from a read-write mount to unmount. */
/**
 * aiosfs_journal_load() - sets the journal up at a read-write mount
 * @sb: the filesystem, its journal recovered
 *
 * Also sets needs_recovery in sbi->s_es; the caller writes the superblock,
 * then calls aiosfs_journal_open_log().  Context: task, may sleep.
 *
 * Return: 0, or a negative errno with the reason logged (a journal the
 * writer cannot write: see aiosfs_jdisk_get()).
 */
int aiosfs_journal_load(struct super_block *sb);

/**
 * aiosfs_journal_open_log() - opens the log at its first block
 * @sb: the filesystem, whose superblock with needs_recovery is written
 *
 * Its journal superblock write goes after a cache flush, so that no crash
 * leaves a log the superblock does not mention.
 *
 * Return: 0 or a negative errno.
 */
int aiosfs_journal_open_log(struct super_block *sb);

/**
 * aiosfs_journal_abort_fs() - nothing more commits after an error
 * @sb: the filesystem
 * @err: the error, for the log line
 *
 * The log keeps what had committed, for recovery.  Context: any.
 */
void aiosfs_journal_abort_fs(struct super_block *sb, int err);

/**
 * aiosfs_journal_destroy() - the last commit, at unmount or remount read-only
 * @sb: the filesystem
 *
 * Writes everything home, marks the log empty and clears needs_recovery in
 * sbi->s_es (the caller writes the superblock).  An aborted journal stays
 * as it is, for recovery.  Context: task, may sleep.
 */
void aiosfs_journal_destroy(struct super_block *sb);

/*
 * balloc.c: blocks.  Freed blocks stay unavailable until the transaction
 * that freed them is durable: reusing one earlier could let a crash leave
 * the old owner pointing at the new owner's data.
 */
#define AIOSFS_ALLOC_METADATA	0x1	/* tree, directory or xattr block */
#define AIOSFS_ALLOC_NOFAIL_RES	0x2	/* may use root's reserve (e.g. a split) */
#define AIOSFS_FREE_METADATA	0x1	/* revoke it too */

int aiosfs_new_blocks(struct aiosfs_handle *h, struct inode *inode, u64 goal, u32 *count,
		      u64 *pblk, unsigned int flags);
void aiosfs_free_blocks(struct aiosfs_handle *h, struct inode *inode, u64 pblk, u32 count,
			unsigned int flags);
/* Where an inode's first data block is sought: its (flex) group's data area. */
u64 aiosfs_inode_goal(struct inode *inode);
/* The journal calls this once transaction tid is durable. */
void aiosfs_release_busy(struct super_block *sb, u32 tid);
/* Whether freed blocks wait for a commit to be usable again. */
bool aiosfs_busy_pending(struct super_block *sb);
u64 aiosfs_count_free_blocks(struct super_block *sb);
u64 aiosfs_count_free_inodes(struct super_block *sb);
/* Writes exact free counts (from the descriptors) into sbi->s_es. */
void aiosfs_sync_counts(struct super_block *sb);
int aiosfs_balloc_init(struct super_block *sb);
void aiosfs_balloc_exit(struct super_block *sb);

/*
 * For ialloc.c: group descriptor fields (the high halves count with
 * 64-byte descriptors); the group lock serializes a group's bitmaps and
 * its descriptor.
 */
u64 aiosfs_gd_block_bitmap(struct super_block *sb, const struct aiosfs_group_desc *gd);
u64 aiosfs_gd_inode_bitmap(struct super_block *sb, const struct aiosfs_group_desc *gd);
u32 aiosfs_gd_free_blocks(struct super_block *sb, const struct aiosfs_group_desc *gd);
void aiosfs_gd_set_free_blocks(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n);
u32 aiosfs_gd_free_inodes(struct super_block *sb, const struct aiosfs_group_desc *gd);
void aiosfs_gd_set_free_inodes(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n);
u32 aiosfs_gd_used_dirs(struct super_block *sb, const struct aiosfs_group_desc *gd);
void aiosfs_gd_set_used_dirs(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n);
u32 aiosfs_gd_itable_unused(struct super_block *sb, const struct aiosfs_group_desc *gd);
void aiosfs_gd_set_itable_unused(struct super_block *sb, struct aiosfs_group_desc *gd, u32 n);
void aiosfs_group_lock(struct super_block *sb, u32 group);
void aiosfs_group_unlock(struct super_block *sb, u32 group);
/* With the group locked: the checked (or, if INODE_UNINIT, computed) bitmap. */
struct buffer_head *aiosfs_read_inode_bitmap(struct super_block *sb, u32 group);
/* Journal access to a locked group's bitmap bh and descriptor block, before a change. */
int aiosfs_group_get_write_access(struct aiosfs_handle *h, struct super_block *sb, u32 group,
				  struct buffer_head *bh);
/* After it: the descriptor's checksum, then both buffers to the journal. */
int aiosfs_group_dirty(struct aiosfs_handle *h, struct super_block *sb, u32 group,
		       struct buffer_head *bh);
/* A group's free inodes (and used directories) changed: the in-memory totals follow. */
void aiosfs_group_inodes_add(struct super_block *sb, u32 group, s32 inodes, s32 dirs);
/* Placement statistics of flex group flex (in-memory, approximate). */
struct aiosfs_flex_stats {
	u64 free_blocks;
	u32 free_inodes;
	u32 used_dirs;
};

u32 aiosfs_flex_log(struct super_block *sb);
u32 aiosfs_flex_count(struct super_block *sb);
void aiosfs_flex_stats(struct super_block *sb, u32 flex, struct aiosfs_flex_stats *st);
u32 aiosfs_total_dirs(struct super_block *sb);

/* ialloc.c: inodes */
/*
 * A new inode in dir's neighbourhood, locked (I_NEW), written to its
 * table slot; the caller sets its operations and unlocks it.
 */
struct inode *aiosfs_new_inode(struct aiosfs_handle *h, struct inode *dir, umode_t mode,
			       const struct qstr *name);
/* The last link and the last user are gone: release its number. */
void aiosfs_free_inode(struct aiosfs_handle *h, struct inode *inode);

/* extwrite.c: extent tree changes; the caller holds i_data_sem for write. */
#define AIOSFS_GET_CREATE	0x1	/* allocate holes */
#define AIOSFS_GET_UNWRITTEN	0x2	/* ... as unwritten extents */
#define AIOSFS_GET_CONVERT	0x4	/* unwritten blocks become written */
/*
 * Maps [lblk, lblk + len) like aiosfs_map_blocks(), allocating or
 * converting as flags ask; map->m_new says the blocks were just allocated.
 */
int aiosfs_ext_map_create(struct aiosfs_handle *h, struct inode *inode, u32 lblk, u32 len,
			  unsigned int flags, struct aiosfs_map *map);
/* Frees the blocks of [from, to) (to may be U32_MAX), splitting extents. */
int aiosfs_ext_remove_range(struct aiosfs_handle *h, struct inode *inode, u32 from, u32 to);
/* Makes [lblk, lblk + len) unwritten where it is mapped (ZERO_RANGE). */
int aiosfs_ext_mark_unwritten(struct aiosfs_handle *h, struct inode *inode, u32 lblk,
			      u32 len);
/* An empty tree in i_data, for a new inode. */
void aiosfs_ext_tree_init(struct inode *inode);

/*
 * dirwrite.c: directory entries; the caller holds the directory's i_rwsem.
 * An operation that adds a name first makes room for it, then tops its
 * handle up to credits, before it changes anything else.
 */
int aiosfs_dir_make_room(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			 int credits);
int aiosfs_add_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode);
int aiosfs_delete_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
			struct inode *inode);
/* Points the existing entry name at inode (rename over a target). */
int aiosfs_set_entry(struct aiosfs_handle *h, struct inode *dir, const struct qstr *name,
		     struct inode *inode);
/* The first block of a new directory: "." and "..". */
int aiosfs_make_empty(struct aiosfs_handle *h, struct inode *dir, struct inode *parent);
int aiosfs_set_dotdot(struct aiosfs_handle *h, struct inode *dir, struct inode *parent);
bool aiosfs_empty_dir(struct inode *dir);

/* Where an entry was found: its block (the caller releases it) and offset. */
struct aiosfs_dirent_loc {
	struct buffer_head *bh;
	unsigned int off;
};

/*
 * The inode number name points to, 0 if it is not there, or an error.
 * With loc, a found entry's block stays referenced in loc->bh.
 */
long aiosfs_find_entry(struct inode *dir, const struct qstr *name, struct aiosfs_dirent_loc *loc);

/* Walking an htree. */
struct aiosfs_dx_level {
	struct buffer_head *bh;
	struct aiosfs_dx_entry *entries;	/* entries[0].hash is the count/limit */
	unsigned int count;
	unsigned int limit;
	unsigned int at;			/* the entry followed down */
};

struct aiosfs_dx_path {
	struct aiosfs_dx_level lv[AIOSFS_DX_MAX_LEVELS_LARGEDIR];
	unsigned int levels;			/* index levels in use */
	unsigned int version;			/* the hash, unsigned variant applied */
	u32 nblocks;				/* the directory's size in blocks */
	u32 hash;
};

/* Descends from the root to the leaf whose range holds hash. */
int aiosfs_dx_probe_hash(struct inode *dir, u32 hash, struct aiosfs_dx_path *p);
int aiosfs_dx_leaf(struct inode *dir, struct aiosfs_dx_path *p, u32 *leaf);
int aiosfs_dx_next(struct inode *dir, struct aiosfs_dx_path *p, const u32 *hash, u32 *next);
void aiosfs_dx_release(struct aiosfs_dx_path *p);
int aiosfs_dx_hash(struct inode *dir, struct aiosfs_dx_path *p, const char *name,
		   unsigned int len, u32 *hash, u32 *minor);

/* super.c */
__printf(3, 4) void __aiosfs_error(struct super_block *sb, const char *func,
				   const char *fmt, ...);
#define aiosfs_error(sb, fmt, ...) __aiosfs_error(sb, __func__, fmt, ##__VA_ARGS__)
bool aiosfs_blocks_valid(struct super_block *sb, u64 blk, u64 len);
bool aiosfs_group_has_super(struct super_block *sb, u32 group);
struct buffer_head *aiosfs_bread(struct super_block *sb, u64 blk, const char *what);
struct aiosfs_group_desc *aiosfs_group_desc(struct super_block *sb, u32 group);
u64 aiosfs_gd_inode_table(struct super_block *sb, struct aiosfs_group_desc *gd);

/* jdisk.c: the on-disk journal, shared by recovery and the writer. */
struct aiosfs_jext {
	u32 lblk;
	u32 len;
	u64 pblk;
};

/* mke2fs makes 1024 blocks at least: a smaller journal inode is damage. */
#define AIOSFS_JBD_MIN_BLOCKS	32

struct aiosfs_jdisk {
	struct super_block *sb;
	u32 ino;
	u32 nblocks;			/* the journal inode's size */
	struct aiosfs_jext *ext;	/* sorted, covering [0, nblocks) */
	u32 nr_ext;
	struct buffer_head *sbh;	/* the journal superblock, block 0 */
	/* From the journal superblock, as aiosfs_jdisk_read_super() found it: */
	bool v2;
	u32 compat, incompat;
	u32 first, maxlen;		/* the log is [first, maxlen) */
	u32 start;			/* 0: the log is empty */
	u32 sequence;			/* of the transaction at start */
	s32 rec_errno;			/* an error jbd2 recorded before a crash */
	bool csum;			/* csum v2 or v3 */
	bool csum_v3;
	bool crc32;			/* the old v1 transaction crc32 */
	bool is64;
	u32 seed;
	unsigned int tag_bytes;
};

/* Transaction ids wrap: compare them like jbd2 does. */
static inline bool aiosfs_tid_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

struct aiosfs_jdisk *aiosfs_jdisk_get(struct super_block *sb);
void aiosfs_jdisk_put(struct aiosfs_sb_info *sbi);
int aiosfs_jdisk_read_super(struct aiosfs_jdisk *jd);
u64 aiosfs_jdisk_pblk(const struct aiosfs_jdisk *jd, u32 lblk);
u32 aiosfs_jdisk_wrap(const struct aiosfs_jdisk *jd, u64 lblk);
bool aiosfs_jdisk_contains(const struct aiosfs_jdisk *jd, u64 blk);
struct buffer_head *aiosfs_jdisk_bread(const struct aiosfs_jdisk *jd, u32 lblk);
unsigned int aiosfs_jdisk_room(const struct aiosfs_jdisk *jd);
u32 aiosfs_jdisk_tail_csum(const struct aiosfs_jdisk *jd, const void *block);
u32 aiosfs_jdisk_commit_csum(const struct aiosfs_jdisk *jd, const void *block);
u32 aiosfs_jdisk_block_csum(const struct aiosfs_jdisk *jd, u32 seq, const void *data);
void aiosfs_jdisk_sb_csum(const struct aiosfs_jdisk *jd);

/* recovery.c */
int aiosfs_recover(struct super_block *sb, bool noload);

/* csum.c */
u32 aiosfs_crc(u32 seed, const void *buf, size_t len);
u32 aiosfs_csum_seed_of(const struct aiosfs_super_block *es);
bool aiosfs_sb_csum_ok(const struct aiosfs_super_block *es);
bool aiosfs_gd_csum_ok(struct super_block *sb, u32 group, const struct aiosfs_group_desc *gd);
void aiosfs_gd_csum_set(struct super_block *sb, u32 group, struct aiosfs_group_desc *gd);
u32 aiosfs_inode_seed(struct super_block *sb, u32 ino, __le32 generation);
bool aiosfs_inode_csum_ok(struct super_block *sb, const struct aiosfs_inode *raw, u32 seed);
bool aiosfs_extent_block_csum_ok(struct inode *inode, const struct aiosfs_extent_header *eh);
bool aiosfs_dirblock_csum_ok(struct inode *dir, const void *block);
bool aiosfs_dx_csum_ok(struct inode *dir, const void *block, unsigned int count_offset);
bool aiosfs_xattr_block_csum_ok(struct super_block *sb, u64 blk, const void *block);
void aiosfs_sb_csum_set(struct aiosfs_super_block *es);
void aiosfs_inode_csum_set(struct super_block *sb, struct aiosfs_inode *raw, u32 seed);
void aiosfs_extent_block_csum_set(struct inode *inode, struct aiosfs_extent_header *eh);
void aiosfs_dirblock_init_tail(struct super_block *sb, void *block);
void aiosfs_dirblock_csum_set(struct inode *dir, void *block);
void aiosfs_dx_csum_set(struct inode *dir, void *block, unsigned int count_offset);
void aiosfs_xattr_block_csum_set(struct super_block *sb, u64 blk, void *block);
bool aiosfs_block_bitmap_csum_ok(struct super_block *sb, const struct aiosfs_group_desc *gd,
				 const void *bitmap);
void aiosfs_block_bitmap_csum_set(struct super_block *sb, struct aiosfs_group_desc *gd,
				  const void *bitmap);
bool aiosfs_inode_bitmap_csum_ok(struct super_block *sb, const struct aiosfs_group_desc *gd,
				 const void *bitmap);
void aiosfs_inode_bitmap_csum_set(struct super_block *sb, struct aiosfs_group_desc *gd,
				  const void *bitmap);
bool aiosfs_buffer_verified(struct buffer_head *bh);
void aiosfs_set_buffer_verified(struct buffer_head *bh);

/* inode.c */
struct inode *aiosfs_iget(struct super_block *sb, unsigned long ino);
/* Also an inode with no links left, which only the orphan list may name. */
struct inode *aiosfs_iget_orphan(struct super_block *sb, unsigned long ino);
struct buffer_head *aiosfs_read_raw_inode(struct super_block *sb, unsigned long ino,
					  struct aiosfs_inode **raw);
int aiosfs_getattr(AIOS_IDMAP_ARG idmap, const struct path *path, struct kstat *stat,
		   u32 request_mask, unsigned int query_flags);
void aiosfs_inode_set_tid(struct aiosfs_handle *h, struct inode *inode, bool datasync);
/* Copies the in-memory inode to its table slot, with its checksum. */
int __aiosfs_mark_inode_dirty(struct aiosfs_handle *h, struct inode *inode, bool datasync);

/* Any change but of timestamps alone: fdatasync keeps it. */
static inline int aiosfs_mark_inode_dirty(struct aiosfs_handle *h, struct inode *inode)
{
	return __aiosfs_mark_inode_dirty(h, inode, true);
}

/* Sets the operations of an inode by its type (rdev for special files). */
int aiosfs_set_inode_ops(struct inode *inode, dev_t rdev);

/* extents.c */
/* Takes i_data_sem for read; __aiosfs_map_blocks() is for its holders. */
int aiosfs_map_blocks(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map);
int __aiosfs_map_blocks(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map);
bool aiosfs_ext_cache_map(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map);
void aiosfs_ext_cache_warm(struct inode *inode);
void aiosfs_ext_cache_free(struct inode *inode);
/* After a tree change (i_data_sem held for write): rebuild or drop the cache. */
void aiosfs_ext_cache_update(struct inode *inode, bool rebuild);
int aiosfs_ext_check_block(struct inode *inode, struct buffer_head *bh, u16 depth);
/* The last of n entries (extents or index entries) starting at or before lblk. */
unsigned int aiosfs_ext_search(const void *base, unsigned int n, size_t esize, u32 lblk);

/*
 * stats.c: the stages of a read that missed the page cache, in order;
 * t[i] is when stage i began, t[AIOSFS_ST_NR] when the read ended.
 */
enum {
	AIOSFS_ST_SUBMIT,
	AIOSFS_ST_INSERT,
	AIOSFS_ST_WAIT,
	AIOSFS_ST_COPY,
	AIOSFS_ST_NR
};

struct aiosfs_read_times {
	u64 t[AIOSFS_ST_NR + 1];
};

/* The stages of an fsync that commits, likewise. */
enum {
	AIOSFS_FS_DATA,
	AIOSFS_FS_CLOSE,
	AIOSFS_FS_BUILD,
	AIOSFS_FS_WAIT,
	AIOSFS_FS_COMMIT,
	AIOSFS_FS_NR
};

struct aiosfs_fsync_times {
	u64 t[AIOSFS_FS_NR + 1];
};

/* fsyncs that did not commit, as aiosfs_fsync_stats_add() kinds (-1: it committed). */
enum { AIOSFS_FSYNC_NOTHING, AIOSFS_FSYNC_FLUSH, AIOSFS_FSYNC_JOINED };

DECLARE_STATIC_KEY_FALSE(aiosfs_stats_key);
DECLARE_STATIC_KEY_FALSE(aiosfs_fsync_stats_key);
void aiosfs_stats_add(const struct aiosfs_read_times *t);
void aiosfs_fsync_stats_add(const struct aiosfs_fsync_times *t, int kind);

/* Stage i of an fsync begins, if anybody is counting. */
static inline void aiosfs_fstamp(struct aiosfs_fsync_times *t, int i)
{
	if (static_branch_unlikely(&aiosfs_fsync_stats_key) && t)
		t->t[i] = ktime_get_ns();
}

void aiosfs_stats_init(void);
void aiosfs_stats_exit(void);

/* The first time stage i begins, if anybody is counting. */
static inline void aiosfs_stamp(struct aiosfs_read_times *t, int i)
{
	if (static_branch_unlikely(&aiosfs_stats_key) && t && !t->t[i])
		t->t[i] = ktime_get_ns();
}

/* read.c */
ssize_t aiosfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to);
int aiosfs_file_mmap(struct file *file, struct vm_area_struct *vma);
int aiosfs_read_folio(struct file *file, struct folio *folio);
void aiosfs_readahead(struct readahead_control *rac);

/* file.c */
extern const struct file_operations aiosfs_file_operations;
extern const struct inode_operations aiosfs_file_inode_operations;
extern const struct inode_operations aiosfs_special_inode_operations;
extern const struct address_space_operations aiosfs_aops;
/*
 * After ENOSPC: whether to try again, having committed the transaction
 * whose freed blocks are still busy (the caller holds no handle).
 */
bool aiosfs_retry_alloc(struct super_block *sb, int *retries);
int aiosfs_get_block(struct inode *inode, sector_t iblock, struct buffer_head *bh, int create);
vm_fault_t aiosfs_page_mkwrite(struct vm_fault *vmf);

/* seek.c */
loff_t aiosfs_file_llseek(struct file *file, loff_t offset, int whence);
int aiosfs_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 start, u64 len);

/* page-io.c: runs of pages written through lbio, for fsync and the journal. */
struct aiosfs_runs {
	struct super_block *sb;
	struct aios_lbio_batch *batch;
	aios_lbio_end_t end_io;
	void *private;
	struct aios_lbio *cur;		/* being filled */
	u64 next;			/* the block that would extend cur */
	int submitted;			/* lbios */
	int pages;
};

void aiosfs_runs_init(struct aiosfs_runs *r, struct super_block *sb,
		      struct aios_lbio_batch *batch, aios_lbio_end_t end_io, void *private);
void aiosfs_runs_add(struct aiosfs_runs *r, u64 pblk, struct page *page);
void aiosfs_runs_submit(struct aiosfs_runs *r);
int aiosfs_send_data(struct inode *inode, loff_t start, loff_t end,
		     struct aios_lbio_batch *batch, bool *fua);
int aiosfs_dev_flush(struct super_block *sb);

/*
 * Whether the block at device block pblk extends the run being built in
 * lbio, whose next block would be next: the one test of every run builder
 * (page-io.c and both read paths).
 */
static inline bool aiosfs_run_continues(const struct aios_lbio *lbio, u64 next, u64 pblk)
{
	return !aios_lbio_full(lbio) && pblk == next;
}

/* fsync.c */
int aiosfs_fsync(struct file *file, loff_t start, loff_t end, int datasync);

/* falloc.c */
long aiosfs_fallocate(struct file *file, int mode, loff_t offset, loff_t len);

/* truncate.c: sizes, freeing a file's blocks, and the orphan list. */
int aiosfs_setattr(AIOS_IDMAP_ARG idmap, struct dentry *dentry, struct iattr *attr);
/* Frees the blocks past i_size (the caller holds i_rwsem). */
int aiosfs_truncate_blocks(struct inode *inode);
/* Zeroes [from, from + len) inside one block, through the page cache. */
int aiosfs_zero_partial(struct inode *inode, loff_t from, loff_t len);
void aiosfs_evict_inode(struct inode *inode);
int aiosfs_orphan_add(struct aiosfs_handle *h, struct inode *inode);
int aiosfs_orphan_del(struct aiosfs_handle *h, struct inode *inode);
int aiosfs_orphan_recover(struct super_block *sb);

/* dir.c */
extern const struct file_operations aiosfs_dir_operations;
struct buffer_head *aiosfs_dir_bread(struct inode *dir, u32 lblk);
bool aiosfs_dirent_ok(struct inode *dir, const void *block, unsigned int offset);
bool aiosfs_is_dx_block(struct inode *dir, u32 lblk, const void *block);
/* Has the directory an htree index that must be kept? */
bool aiosfs_dir_indexed(struct inode *dir);

/* namei.c */
extern const struct inode_operations aiosfs_dir_inode_operations;
/* Links beyond which a directory counts as "many" (1, with dir_nlink). */
#define AIOSFS_LINK_MAX		65000
/* The on-disk orphan list: the superblock and up to two inodes. */
#define AIOSFS_CREDITS_ORPHAN	(1 + 2 * AIOSFS_CREDITS_INODE)

/* hash.c */
int aiosfs_dirhash(unsigned int version, const u32 seed[4], const char *name,
		   unsigned int len, u32 *hash, u32 *minor);

/* symlink.c */
extern const struct inode_operations aiosfs_fast_symlink_inode_operations;
extern const struct inode_operations aiosfs_symlink_inode_operations;

/* acl.c */
struct posix_acl *aiosfs_get_acl(struct inode *inode, int type, bool rcu);
int aiosfs_set_acl(AIOS_IDMAP_ARG idmap, AIOS_ACL_TARGET target, struct posix_acl *acl, int type);
/* Stores a new inode's ACLs (from posix_acl_create()), in the caller's handle. */
int aiosfs_init_acl(struct inode *inode, struct posix_acl *default_acl, struct posix_acl *acl);
/* Both ACLs and the security labels of a new inode: see aiosfs_new_inode(). */
#define AIOSFS_CREDITS_NEWXATTRS	(3 * AIOSFS_CREDITS_XATTR)

/* xattr.c */
extern const struct xattr_handler *aiosfs_xattr_handlers[];
/* The value's size (copied if buffer is not NULL), or -ENODATA, -ERANGE... */
ssize_t aiosfs_xattr_get_value(struct inode *inode, int index, const char *name, void *buffer,
			       size_t size);
ssize_t aiosfs_listxattr(struct dentry *dentry, char *buffer, size_t size);
/*
 * Sets (value non-NULL, XATTR_CREATE/XATTR_REPLACE in flags) or removes
 * attribute name of namespace index (AIOSFS_XATTR_INDEX_*), in a handle of
 * its own; the caller holds i_rwsem.
 */
int aiosfs_xattr_set(struct inode *inode, int index, const char *name, const void *value,
		     size_t size, int flags);
/*
 * Drops the inode's reference to its xattr block (the last frees it) and
 * clears i_file_acl; the caller writes the inode.  Sharers drop their
 * references concurrently: this reads and changes the count under the
 * buffer's lock.
 */
int aiosfs_xattr_release_block(struct aiosfs_handle *h, struct inode *inode);
/*
 * A new inode's security labels (security.*), as the LSMs ask, in the
 * caller's handle; name is NULL for an O_TMPFILE inode.
 */
int aiosfs_init_security(struct inode *inode, struct inode *dir, const struct qstr *name);
/* The inode table block, the old and the new xattr block, an allocation and a free. */
#define AIOSFS_CREDITS_XATTR	(AIOSFS_CREDITS_INODE + 2 + 2 * AIOSFS_CREDITS_ALLOC)

#endif /* _AIOSFS_H */
