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
#include <aios/ext4_fs.h>
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
};

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
};

/* super.c */
__printf(3, 4) void __aiosfs_error(struct super_block *sb, const char *func,
				   const char *fmt, ...);
#define aiosfs_error(sb, fmt, ...) __aiosfs_error(sb, __func__, fmt, ##__VA_ARGS__)
bool aiosfs_blocks_valid(struct super_block *sb, u64 blk, u64 len);
struct buffer_head *aiosfs_bread(struct super_block *sb, u64 blk, const char *what);
struct aiosfs_group_desc *aiosfs_group_desc(struct super_block *sb, u32 group);
u64 aiosfs_gd_inode_table(struct super_block *sb, struct aiosfs_group_desc *gd);

/* recovery.c */
int aiosfs_recover(struct super_block *sb, bool noload);

/* csum.c */
u32 aiosfs_crc(u32 seed, const void *buf, size_t len);
u32 aiosfs_csum_seed_of(const struct aiosfs_super_block *es);
bool aiosfs_sb_csum_ok(const struct aiosfs_super_block *es);
bool aiosfs_gd_csum_ok(struct super_block *sb, u32 group, const struct aiosfs_group_desc *gd);
u32 aiosfs_inode_seed(struct super_block *sb, u32 ino, __le32 generation);
bool aiosfs_inode_csum_ok(struct super_block *sb, const struct aiosfs_inode *raw, u32 seed);
bool aiosfs_extent_block_csum_ok(struct inode *inode, const struct aiosfs_extent_header *eh);
bool aiosfs_dirblock_csum_ok(struct inode *dir, const void *block);
bool aiosfs_dx_csum_ok(struct inode *dir, const void *block, unsigned int count_offset);
bool aiosfs_xattr_block_csum_ok(struct super_block *sb, u64 blk, const void *block);
bool aiosfs_buffer_verified(struct buffer_head *bh);
void aiosfs_set_buffer_verified(struct buffer_head *bh);

/* inode.c */
struct inode *aiosfs_iget(struct super_block *sb, unsigned long ino);
struct buffer_head *aiosfs_read_raw_inode(struct super_block *sb, unsigned long ino,
					  struct aiosfs_inode **raw);
int aiosfs_getattr(AIOS_IDMAP_ARG idmap, const struct path *path, struct kstat *stat,
		   u32 request_mask, unsigned int query_flags);
extern const struct address_space_operations aiosfs_aops;

/* extents.c */
int aiosfs_map_blocks(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map);
bool aiosfs_ext_cache_map(struct inode *inode, u32 lblk, u32 max_len, struct aiosfs_map *map);
void aiosfs_ext_cache_warm(struct inode *inode);
void aiosfs_ext_cache_free(struct inode *inode);

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

DECLARE_STATIC_KEY_FALSE(aiosfs_stats_key);
void aiosfs_stats_add(const struct aiosfs_read_times *t);
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

/* dir.c */
extern const struct file_operations aiosfs_dir_operations;
struct buffer_head *aiosfs_dir_bread(struct inode *dir, u32 lblk);
bool aiosfs_dirent_ok(struct inode *dir, const void *block, unsigned int offset);
bool aiosfs_is_dx_block(struct inode *dir, u32 lblk, const void *block);

/* namei.c */
extern const struct inode_operations aiosfs_dir_inode_operations;

/* hash.c */
int aiosfs_dirhash(unsigned int version, const u32 seed[4], const char *name,
		   unsigned int len, u32 *hash);

/* symlink.c */
extern const struct inode_operations aiosfs_fast_symlink_inode_operations;
extern const struct inode_operations aiosfs_symlink_inode_operations;

/* xattr.c */
extern const struct xattr_handler *aiosfs_xattr_handlers[];
ssize_t aiosfs_listxattr(struct dentry *dentry, char *buffer, size_t size);

#endif /* _AIOSFS_H */
