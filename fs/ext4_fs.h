/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ext4 on-disk format as aiosfs reads it.  Every multi-byte field is
 * little-endian on disk; the layouts are fixed by the format, and the
 * static_asserts at the end pin the offsets that matter.
 */
#ifndef _AIOS_EXT4_FS_H
#define _AIOS_EXT4_FS_H

#include <linux/types.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>

#define AIOSFS_SUPER_MAGIC		0xEF53
#define AIOSFS_SUPER_OFFSET		1024	/* bytes from the start of the device */
#define AIOSFS_MIN_BLOCK_LOG		10	/* s_log_block_size counts from 1 KiB */
#define AIOSFS_GOOD_OLD_INODE_SIZE	128
#define AIOSFS_GOOD_OLD_FIRST_INO	11
#define AIOSFS_GOOD_OLD_REV		0
#define AIOSFS_DYNAMIC_REV		1
#define AIOSFS_OS_LINUX			0
#define AIOSFS_CRC32C_CHKSUM		1
#define AIOSFS_MIN_DESC_SIZE		32
#define AIOSFS_MIN_DESC_SIZE_64BIT	64
#define AIOSFS_MAX_DESC_SIZE		1024

/* Well-known inode numbers. */
#define AIOSFS_BAD_INO			1
#define AIOSFS_ROOT_INO			2
#define AIOSFS_RESIZE_INO		7
#define AIOSFS_JOURNAL_INO		8

/* s_state */
#define AIOSFS_STATE_VALID		0x0001
#define AIOSFS_STATE_ERROR		0x0002

/* s_default_mount_opts */
#define AIOSFS_DEFM_ACL			0x0008

/* s_flags */
#define AIOSFS_FLAGS_SIGNED_HASH	0x0001
#define AIOSFS_FLAGS_UNSIGNED_HASH	0x0002

/* Compatible features: unknown ones are harmless. */
#define AIOSFS_FEATURE_COMPAT_DIR_PREALLOC	0x0001
#define AIOSFS_FEATURE_COMPAT_IMAGIC_INODES	0x0002
#define AIOSFS_FEATURE_COMPAT_HAS_JOURNAL	0x0004
#define AIOSFS_FEATURE_COMPAT_EXT_ATTR		0x0008
#define AIOSFS_FEATURE_COMPAT_RESIZE_INODE	0x0010
#define AIOSFS_FEATURE_COMPAT_DIR_INDEX		0x0020
#define AIOSFS_FEATURE_COMPAT_SPARSE_SUPER2	0x0200
#define AIOSFS_FEATURE_COMPAT_FAST_COMMIT	0x0400
#define AIOSFS_FEATURE_COMPAT_STABLE_INODES	0x0800
#define AIOSFS_FEATURE_COMPAT_ORPHAN_FILE	0x1000

/* Read-only compatible features: unknown ones forbid writing. */
#define AIOSFS_FEATURE_RO_COMPAT_SPARSE_SUPER	0x0001
#define AIOSFS_FEATURE_RO_COMPAT_LARGE_FILE	0x0002
#define AIOSFS_FEATURE_RO_COMPAT_BTREE_DIR	0x0004
#define AIOSFS_FEATURE_RO_COMPAT_HUGE_FILE	0x0008
#define AIOSFS_FEATURE_RO_COMPAT_GDT_CSUM	0x0010
#define AIOSFS_FEATURE_RO_COMPAT_DIR_NLINK	0x0020
#define AIOSFS_FEATURE_RO_COMPAT_EXTRA_ISIZE	0x0040
#define AIOSFS_FEATURE_RO_COMPAT_QUOTA		0x0100
#define AIOSFS_FEATURE_RO_COMPAT_BIGALLOC	0x0200
#define AIOSFS_FEATURE_RO_COMPAT_METADATA_CSUM	0x0400
#define AIOSFS_FEATURE_RO_COMPAT_READONLY	0x1000
#define AIOSFS_FEATURE_RO_COMPAT_PROJECT	0x2000
#define AIOSFS_FEATURE_RO_COMPAT_VERITY		0x8000
#define AIOSFS_FEATURE_RO_COMPAT_ORPHAN_PRESENT	0x10000

/* Incompatible features: unknown ones forbid mounting at all. */
#define AIOSFS_FEATURE_INCOMPAT_COMPRESSION	0x0001
#define AIOSFS_FEATURE_INCOMPAT_FILETYPE	0x0002
#define AIOSFS_FEATURE_INCOMPAT_RECOVER		0x0004
#define AIOSFS_FEATURE_INCOMPAT_JOURNAL_DEV	0x0008
#define AIOSFS_FEATURE_INCOMPAT_META_BG		0x0010
#define AIOSFS_FEATURE_INCOMPAT_EXTENTS		0x0040
#define AIOSFS_FEATURE_INCOMPAT_64BIT		0x0080
#define AIOSFS_FEATURE_INCOMPAT_MMP		0x0100
#define AIOSFS_FEATURE_INCOMPAT_FLEX_BG		0x0200
#define AIOSFS_FEATURE_INCOMPAT_EA_INODE	0x0400
#define AIOSFS_FEATURE_INCOMPAT_DIRDATA		0x1000
#define AIOSFS_FEATURE_INCOMPAT_CSUM_SEED	0x2000
#define AIOSFS_FEATURE_INCOMPAT_LARGEDIR	0x4000
#define AIOSFS_FEATURE_INCOMPAT_INLINE_DATA	0x8000
#define AIOSFS_FEATURE_INCOMPAT_ENCRYPT		0x10000
#define AIOSFS_FEATURE_INCOMPAT_CASEFOLD	0x20000

struct aiosfs_super_block {
	__le32	s_inodes_count;
	__le32	s_blocks_count_lo;
	__le32	s_r_blocks_count_lo;
	__le32	s_free_blocks_count_lo;
	__le32	s_free_inodes_count;
	__le32	s_first_data_block;
	__le32	s_log_block_size;
	__le32	s_log_cluster_size;
	__le32	s_blocks_per_group;
	__le32	s_clusters_per_group;
	__le32	s_inodes_per_group;
	__le32	s_mtime;
	__le32	s_wtime;
	__le16	s_mnt_count;
	__le16	s_max_mnt_count;
	__le16	s_magic;
	__le16	s_state;
	__le16	s_errors;
	__le16	s_minor_rev_level;
	__le32	s_lastcheck;
	__le32	s_checkinterval;
	__le32	s_creator_os;
	__le32	s_rev_level;
	__le16	s_def_resuid;
	__le16	s_def_resgid;
	/* AIOSFS_DYNAMIC_REV superblocks only */
	__le32	s_first_ino;
	__le16	s_inode_size;
	__le16	s_block_group_nr;
	__le32	s_feature_compat;
	__le32	s_feature_incompat;
	__le32	s_feature_ro_compat;
	__u8	s_uuid[16];
	char	s_volume_name[16];
	char	s_last_mounted[64];
	__le32	s_algorithm_usage_bitmap;
	__u8	s_prealloc_blocks;
	__u8	s_prealloc_dir_blocks;
	__le16	s_reserved_gdt_blocks;
	__u8	s_journal_uuid[16];
	__le32	s_journal_inum;
	__le32	s_journal_dev;
	__le32	s_last_orphan;
	__le32	s_hash_seed[4];
	__u8	s_def_hash_version;
	__u8	s_jnl_backup_type;
	__le16	s_desc_size;
	__le32	s_default_mount_opts;
	__le32	s_first_meta_bg;
	__le32	s_mkfs_time;
	__le32	s_jnl_blocks[17];
	/* 64bit support */
	__le32	s_blocks_count_hi;
	__le32	s_r_blocks_count_hi;
	__le32	s_free_blocks_count_hi;
	__le16	s_min_extra_isize;
	__le16	s_want_extra_isize;
	__le32	s_flags;
	__le16	s_raid_stride;
	__le16	s_mmp_update_interval;
	__le64	s_mmp_block;
	__le32	s_raid_stripe_width;
	__u8	s_log_groups_per_flex;
	__u8	s_checksum_type;
	__u8	s_encryption_level;
	__u8	s_reserved_pad;
	__le64	s_kbytes_written;
	__le32	s_snapshot_inum;
	__le32	s_snapshot_id;
	__le64	s_snapshot_r_blocks_count;
	__le32	s_snapshot_list;
	__le32	s_error_count;
	__le32	s_first_error_time;
	__le32	s_first_error_ino;
	__le64	s_first_error_block;
	__u8	s_first_error_func[32];
	__le32	s_first_error_line;
	__le32	s_last_error_time;
	__le32	s_last_error_ino;
	__le32	s_last_error_line;
	__le64	s_last_error_block;
	__u8	s_last_error_func[32];
	__u8	s_mount_opts[64];
	__le32	s_usr_quota_inum;
	__le32	s_grp_quota_inum;
	__le32	s_overhead_clusters;
	__le32	s_backup_bgs[2];
	__u8	s_encrypt_algos[4];
	__u8	s_encrypt_pw_salt[16];
	__le32	s_lpf_ino;
	__le32	s_prj_quota_inum;
	__le32	s_checksum_seed;
	__u8	s_wtime_hi;
	__u8	s_mtime_hi;
	__u8	s_mkfs_time_hi;
	__u8	s_lastcheck_hi;
	__u8	s_first_error_time_hi;
	__u8	s_last_error_time_hi;
	__u8	s_first_error_errcode;
	__u8	s_last_error_errcode;
	__le16	s_encoding;
	__le16	s_encoding_flags;
	__le32	s_orphan_file_inum;
	__le32	s_reserved[94];
	__le32	s_checksum;		/* crc32c of everything before it */
};

/* A block group descriptor; the fields after bg_checksum exist with 64bit. */
struct aiosfs_group_desc {
	__le32	bg_block_bitmap_lo;
	__le32	bg_inode_bitmap_lo;
	__le32	bg_inode_table_lo;
	__le16	bg_free_blocks_count_lo;
	__le16	bg_free_inodes_count_lo;
	__le16	bg_used_dirs_count_lo;
	__le16	bg_flags;
	__le32	bg_exclude_bitmap_lo;
	__le16	bg_block_bitmap_csum_lo;
	__le16	bg_inode_bitmap_csum_lo;
	__le16	bg_itable_unused_lo;
	__le16	bg_checksum;
	__le32	bg_block_bitmap_hi;
	__le32	bg_inode_bitmap_hi;
	__le32	bg_inode_table_hi;
	__le16	bg_free_blocks_count_hi;
	__le16	bg_free_inodes_count_hi;
	__le16	bg_used_dirs_count_hi;
	__le16	bg_itable_unused_hi;
	__le32	bg_exclude_bitmap_hi;
	__le16	bg_block_bitmap_csum_hi;
	__le16	bg_inode_bitmap_csum_hi;
	__le32	bg_reserved;
};

/* bg_flags */
#define AIOSFS_BG_INODE_UNINIT		0x0001
#define AIOSFS_BG_BLOCK_UNINIT		0x0002
#define AIOSFS_BG_INODE_ZEROED		0x0004

#define AIOSFS_N_BLOCKS			15	/* i_block[] words */
/* What ext4 gives new inodes beyond the old 128 bytes: up to i_projid. */
#define AIOSFS_WANT_EXTRA_ISIZE		32

struct aiosfs_inode {
	__le16	i_mode;
	__le16	i_uid;
	__le32	i_size_lo;
	__le32	i_atime;
	__le32	i_ctime;
	__le32	i_mtime;
	__le32	i_dtime;
	__le16	i_gid;
	__le16	i_links_count;
	__le32	i_blocks_lo;
	__le32	i_flags;
	__le32	i_version_lo;		/* osd1 on Linux */
	__le32	i_block[AIOSFS_N_BLOCKS];
	__le32	i_generation;
	__le32	i_file_acl_lo;
	__le32	i_size_high;
	__le32	i_obso_faddr;
	/* osd2 on Linux */
	__le16	i_blocks_high;
	__le16	i_file_acl_high;
	__le16	i_uid_high;
	__le16	i_gid_high;
	__le16	i_checksum_lo;
	__le16	i_reserved;
	/* the fields below exist when i_extra_isize covers them */
	__le16	i_extra_isize;
	__le16	i_checksum_hi;
	__le32	i_ctime_extra;		/* epoch bits 0-1, nanoseconds << 2 */
	__le32	i_mtime_extra;
	__le32	i_atime_extra;
	__le32	i_crtime;
	__le32	i_crtime_extra;
	__le32	i_version_hi;
	__le32	i_projid;
};

/* Does the in-inode area of an inode with this extra_isize hold field? */
#define AIOSFS_INODE_HAS(extra_isize, field)					\
	(AIOSFS_GOOD_OLD_INODE_SIZE + (extra_isize) >= offsetofend(struct aiosfs_inode, field))

#define AIOSFS_EXTRA_EPOCH_MASK		0x3
#define AIOSFS_EXTRA_NSEC_SHIFT		2

/* i_flags */
#define AIOSFS_SECRM_FL			0x00000001
#define AIOSFS_IMMUTABLE_FL		0x00000010
#define AIOSFS_APPEND_FL		0x00000020
#define AIOSFS_NODUMP_FL		0x00000040
#define AIOSFS_NOATIME_FL		0x00000080
#define AIOSFS_ENCRYPT_FL		0x00000800
#define AIOSFS_INDEX_FL			0x00001000
#define AIOSFS_HUGE_FILE_FL		0x00040000
#define AIOSFS_EXTENTS_FL		0x00080000
#define AIOSFS_VERITY_FL		0x00100000
#define AIOSFS_EA_INODE_FL		0x00200000
#define AIOSFS_INLINE_DATA_FL		0x10000000
#define AIOSFS_CASEFOLD_FL		0x40000000

/* Extent tree: a header, then index entries (interior) or extents (leaf). */
#define AIOSFS_EXT_MAGIC		0xF30A
#define AIOSFS_EXT_MAX_DEPTH		5
#define AIOSFS_EXT_INIT_MAX_LEN		32768	/* longer ee_len: unwritten */

struct aiosfs_extent_header {
	__le16	eh_magic;
	__le16	eh_entries;
	__le16	eh_max;
	__le16	eh_depth;		/* 0: entries are extents */
	__le32	eh_generation;
};

struct aiosfs_extent_idx {
	__le32	ei_block;		/* first logical block covered */
	__le32	ei_leaf_lo;
	__le16	ei_leaf_hi;
	__u16	ei_unused;
};

struct aiosfs_extent {
	__le32	ee_block;
	__le16	ee_len;
	__le16	ee_start_hi;
	__le32	ee_start_lo;
};

/* Follows eh_max entries in a tree block (not in the inode). */
struct aiosfs_extent_tail {
	__le32	et_checksum;
};

/* Directory entries (with the filetype feature). */
#define AIOSFS_NAME_LEN			255
#define AIOSFS_DIR_REC_ALIGN		4
#define AIOSFS_DIRENT_HDR_LEN		8

struct aiosfs_dir_entry {
	__le32	inode;
	__le16	rec_len;
	__u8	name_len;
	__u8	file_type;
	char	name[];
};

/* file_type values; the same numbering as the kernel's FT_* */
#define AIOSFS_FT_UNKNOWN		0
#define AIOSFS_FT_REG_FILE		1
#define AIOSFS_FT_DIR			2
#define AIOSFS_FT_CHRDEV		3
#define AIOSFS_FT_BLKDEV		4
#define AIOSFS_FT_FIFO			5
#define AIOSFS_FT_SOCK			6
#define AIOSFS_FT_SYMLINK		7
#define AIOSFS_FT_MAX			8
#define AIOSFS_FT_DIR_CSUM		0xDE

/* The last 12 bytes of a leaf block with metadata_csum: a fake entry. */
struct aiosfs_dir_tail {
	__le32	det_reserved_zero1;
	__le16	det_rec_len;		/* 12 */
	__u8	det_reserved_zero2;
	__u8	det_reserved_ft;	/* AIOSFS_FT_DIR_CSUM */
	__le32	det_checksum;
};

/* htree: block 0 holds "." and "..", whose rec_len hides this root. */
struct aiosfs_dx_root_info {
	__le32	reserved_zero;
	__u8	hash_version;
	__u8	info_length;		/* 8 */
	__u8	indirect_levels;
	__u8	unused_flags;
};

/* Overlays the hash of the first dx_entry of a node. */
struct aiosfs_dx_countlimit {
	__le16	limit;
	__le16	count;
};

struct aiosfs_dx_entry {
	__le32	hash;
	__le32	block;			/* logical block in the directory */
};

/* Follows limit entries of a node with metadata_csum. */
struct aiosfs_dx_tail {
	__le32	dt_reserved;
	__le32	dt_checksum;
};

#define AIOSFS_DX_ROOT_COUNT_OFFSET	32	/* ".", "..", root info */
#define AIOSFS_DX_NODE_COUNT_OFFSET	8	/* one empty fake entry */
#define AIOSFS_DX_MAX_LEVELS		2	/* 3 with largedir */
#define AIOSFS_DX_MAX_LEVELS_LARGEDIR	3

#define AIOSFS_HASH_LEGACY		0
#define AIOSFS_HASH_HALF_MD4		1
#define AIOSFS_HASH_TEA			2
#define AIOSFS_HASH_LEGACY_UNSIGNED	3
#define AIOSFS_HASH_HALF_MD4_UNSIGNED	4
#define AIOSFS_HASH_TEA_UNSIGNED	5
#define AIOSFS_HASH_SIPHASH		6

/* Extended attributes. */
#define AIOSFS_XATTR_MAGIC		0xEA020000
#define AIOSFS_XATTR_ROUND		3	/* entries and values are 4-aligned */

#define AIOSFS_XATTR_INDEX_USER			1
#define AIOSFS_XATTR_INDEX_POSIX_ACL_ACCESS	2
#define AIOSFS_XATTR_INDEX_POSIX_ACL_DEFAULT	3
#define AIOSFS_XATTR_INDEX_TRUSTED		4
#define AIOSFS_XATTR_INDEX_LUSTRE		5
#define AIOSFS_XATTR_INDEX_SECURITY		6
#define AIOSFS_XATTR_INDEX_SYSTEM		7

/* Starts an external xattr block. */
struct aiosfs_xattr_header {
	__le32	h_magic;
	__le32	h_refcount;
	__le32	h_blocks;		/* 1 */
	__le32	h_hash;
	__le32	h_checksum;
	__u32	h_reserved[3];
};

/* Starts the in-inode xattr area (after i_extra_isize). */
struct aiosfs_xattr_ibody_header {
	__le32	h_magic;
};

struct aiosfs_xattr_entry {
	__u8	e_name_len;
	__u8	e_name_index;
	__le16	e_value_offs;
	__le32	e_value_inum;		/* ea_inode feature only */
	__le32	e_value_size;
	__le32	e_hash;
	char	e_name[];
};

#define AIOSFS_XATTR_ENTRY_LEN(name_len)					\
	(((name_len) + sizeof(struct aiosfs_xattr_entry) + AIOSFS_XATTR_ROUND) &	\
	 ~AIOSFS_XATTR_ROUND)

/*
 * The jbd2 journal, in the journal inode.  Unlike the rest of ext4, every
 * multi-byte field here is big-endian.
 */
#define AIOSFS_JBD_MAGIC		0xC03B3998U

/* h_blocktype */
#define AIOSFS_JBD_DESCRIPTOR		1
#define AIOSFS_JBD_COMMIT		2
#define AIOSFS_JBD_SUPER_V1		3
#define AIOSFS_JBD_SUPER_V2		4
#define AIOSFS_JBD_REVOKE		5

/* Journal features (version 2 superblocks only). */
#define AIOSFS_JBD_COMPAT_CHECKSUM	0x0001	/* crc32 of each transaction */
#define AIOSFS_JBD_INCOMPAT_REVOKE	0x0001
#define AIOSFS_JBD_INCOMPAT_64BIT	0x0002
#define AIOSFS_JBD_INCOMPAT_ASYNC_COMMIT 0x0004
#define AIOSFS_JBD_INCOMPAT_CSUM_V2	0x0008
#define AIOSFS_JBD_INCOMPAT_CSUM_V3	0x0010
#define AIOSFS_JBD_INCOMPAT_FAST_COMMIT	0x0020

/* Commit block h_chksum_type */
#define AIOSFS_JBD_CRC32_CHKSUM		1
#define AIOSFS_JBD_CRC32_CHKSUM_SIZE	4
#define AIOSFS_JBD_CRC32C_CHKSUM	4

/* Tag flags */
#define AIOSFS_JBD_FLAG_ESCAPE		0x1	/* the block began with the magic */
#define AIOSFS_JBD_FLAG_SAME_UUID	0x2	/* no uuid follows this tag */
#define AIOSFS_JBD_FLAG_DELETED		0x4
#define AIOSFS_JBD_FLAG_LAST_TAG	0x8

struct aiosfs_jbd_header {
	__be32	h_magic;
	__be32	h_blocktype;
	__be32	h_sequence;
};

struct aiosfs_jbd_super {
	struct aiosfs_jbd_header s_header;
	__be32	s_blocksize;
	__be32	s_maxlen;		/* blocks in the journal */
	__be32	s_first;		/* first block of the log */
	__be32	s_sequence;		/* first transaction expected in the log */
	__be32	s_start;		/* where the log starts; 0: empty */
	__be32	s_errno;
	/* version 2 only */
	__be32	s_feature_compat;
	__be32	s_feature_incompat;
	__be32	s_feature_ro_compat;
	__u8	s_uuid[16];
	__be32	s_nr_users;
	__be32	s_dynsuper;
	__be32	s_max_transaction;
	__be32	s_max_trans_data;
	__u8	s_checksum_type;
	__u8	s_padding2[3];
	__be32	s_num_fc_blks;
	__be32	s_head;
	__u32	s_padding[40];
	__be32	s_checksum;		/* crc32c of the 1024 bytes, this field 0 */
	__u8	s_users[16 * 48];
};

struct aiosfs_jbd_commit {
	struct aiosfs_jbd_header h;
	__u8	h_chksum_type;
	__u8	h_chksum_size;
	__u8	h_padding[2];
	__be32	h_chksum[8];		/* [0]: csum v2/v3 or the crc32 of v1 */
	__be64	h_commit_sec;
	__be32	h_commit_nsec;
};

/* A descriptor tag with csum v3: always 16 bytes. */
struct aiosfs_jbd_tag3 {
	__be32	t_blocknr;
	__be32	t_flags;
	__be32	t_blocknr_high;		/* 64bit only */
	__be32	t_checksum;
};

/* Otherwise: 8 bytes, +4 with 64bit, +2 with csum v2. */
struct aiosfs_jbd_tag {
	__be32	t_blocknr;
	__be16	t_checksum;		/* csum v2 only */
	__be16	t_flags;
	__be32	t_blocknr_high;
};

/* Ends descriptor and revoke blocks with csum v2/v3. */
struct aiosfs_jbd_tail {
	__be32	t_checksum;
};

struct aiosfs_jbd_revoke_header {
	struct aiosfs_jbd_header r_header;
	__be32	r_count;		/* bytes used, from the block start */
};

static_assert(sizeof(struct aiosfs_super_block) == 1024);
static_assert(offsetof(struct aiosfs_super_block, s_magic) == 56);
static_assert(offsetof(struct aiosfs_super_block, s_uuid) == 104);
static_assert(offsetof(struct aiosfs_super_block, s_hash_seed) == 236);
static_assert(offsetof(struct aiosfs_super_block, s_blocks_count_hi) == 336);
static_assert(offsetof(struct aiosfs_super_block, s_checksum_type) == 373);
static_assert(offsetof(struct aiosfs_super_block, s_overhead_clusters) == 584);
static_assert(offsetof(struct aiosfs_super_block, s_checksum_seed) == 624);
static_assert(offsetof(struct aiosfs_super_block, s_checksum) == 1020);
static_assert(sizeof(struct aiosfs_group_desc) == 64);
static_assert(offsetof(struct aiosfs_group_desc, bg_checksum) == 30);
static_assert(offsetof(struct aiosfs_inode, i_block) == 40);
static_assert(offsetof(struct aiosfs_inode, i_checksum_lo) == 124);
static_assert(offsetof(struct aiosfs_inode, i_extra_isize) == 128);
static_assert(sizeof(struct aiosfs_inode) == 160);
static_assert(sizeof(struct aiosfs_extent_header) == 12);
static_assert(sizeof(struct aiosfs_extent_idx) == 12);
static_assert(sizeof(struct aiosfs_extent) == 12);
static_assert(sizeof(struct aiosfs_dir_entry) == 8);
static_assert(sizeof(struct aiosfs_dir_tail) == 12);
static_assert(sizeof(struct aiosfs_dx_root_info) == 8);
static_assert(sizeof(struct aiosfs_xattr_header) == 32);
static_assert(sizeof(struct aiosfs_xattr_entry) == 16);

static_assert(sizeof(struct aiosfs_jbd_header) == 12);
static_assert(offsetof(struct aiosfs_jbd_super, s_feature_compat) == 0x24);
static_assert(offsetof(struct aiosfs_jbd_super, s_checksum_type) == 0x50);
static_assert(offsetof(struct aiosfs_jbd_super, s_checksum) == 0xFC);
static_assert(sizeof(struct aiosfs_jbd_super) == 1024);
static_assert(offsetof(struct aiosfs_jbd_commit, h_commit_sec) == 48);
static_assert(sizeof(struct aiosfs_jbd_tag3) == 16);
static_assert(sizeof(struct aiosfs_jbd_revoke_header) == 16);

#endif /* _AIOS_EXT4_FS_H */
