/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for differences between the kernels aios builds against
 * (Debian 12's 6.1 and 6.12 from bookworm-backports).  Code elsewhere uses
 * the aios_* names defined here and never tests LINUX_VERSION_CODE itself.
 */
#ifndef _AIOS_COMPAT_H
#define _AIOS_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/buffer_head.h>
#include <linux/mm.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
/* The unaligned accessors moved from asm/ to linux/ in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "aios needs Linux 6.1 or newer"
#endif
/* 6.9 and 6.10 changed disk allocation half-way to the 6.11 scheme. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
#error "aios supports 6.1 to 6.8 and 6.11 or newer"
#endif

/* What a bio-based aios disk needs of its request queue. */
struct aios_disk_limits {
	unsigned int logical_block_size;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned long virt_boundary_mask;
	unsigned int dma_alignment;
	unsigned int max_discard_sectors;	/* 0: no discard */
	unsigned int max_write_zeroes_sectors;
	bool write_cache;
	bool fua;
	bool poll;
};

/*
 * Allocates a bio-based disk with these limits.  6.11 takes them (and the
 * features) at allocation; 6.1 sets them on the queue afterwards.
 */
static inline struct gendisk *aios_alloc_disk(const struct aios_disk_limits *l, int node)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = {
		.logical_block_size	= l->logical_block_size,
		.physical_block_size	= l->logical_block_size,
		.io_min			= l->logical_block_size,
		.max_hw_sectors		= l->max_hw_sectors,
		.max_segments		= l->max_segments,
		.virt_boundary_mask	= l->virt_boundary_mask,
		.dma_alignment		= l->dma_alignment,
		.max_hw_discard_sectors	= l->max_discard_sectors,
		.max_discard_segments	= 1,
		.discard_granularity	= l->max_discard_sectors ? l->logical_block_size : 0,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.features		= BLK_FEAT_NOWAIT |
					  (l->write_cache ? BLK_FEAT_WRITE_CACHE : 0) |
					  (l->fua ? BLK_FEAT_FUA : 0) |
					  (l->poll ? BLK_FEAT_POLL : 0),
	};

	return blk_alloc_disk(&lim, node);
#else
	struct gendisk *disk = blk_alloc_disk(node);
	struct request_queue *q;

	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->logical_block_size);
	blk_queue_io_min(q, l->logical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_virt_boundary(q, l->virt_boundary_mask);
	blk_queue_dma_alignment(q, l->dma_alignment);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		blk_queue_max_discard_segments(q, 1);
		q->limits.discard_granularity = l->logical_block_size;
	}
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	blk_queue_write_cache(q, l->write_cache, l->fua);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_set(QUEUE_FLAG_NOWAIT, q);
	if (l->poll)
		blk_queue_flag_set(QUEUE_FLAG_POLL, q);
	return disk;
#endif
}

/*
 * A namespace's new block size (after a format), on a frozen queue.
 * 6.11 updates limits as a whole and validates them; 6.1 sets each.
 */
static inline int aios_disk_set_block_size(struct gendisk *disk, unsigned int lbs,
					   unsigned int max_write_zeroes_sectors)
{
	struct request_queue *q = disk->queue;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = queue_limits_start_update(q);

	lim.logical_block_size = lbs;
	lim.physical_block_size = lbs;
	lim.io_min = lbs;
	if (lim.max_hw_discard_sectors)
		lim.discard_granularity = lbs;
	lim.max_write_zeroes_sectors = max_write_zeroes_sectors;
	return queue_limits_commit_update(q, &lim);
#else
	blk_queue_logical_block_size(q, lbs);
	blk_queue_physical_block_size(q, lbs);
	blk_queue_io_min(q, lbs);
	if (q->limits.max_discard_sectors)
		q->limits.discard_granularity = lbs;
	blk_queue_max_write_zeroes_sectors(q, max_write_zeroes_sectors);
	return 0;
#endif
}

/*
 * aiosfs: inode_operations take an idmap (6.3+) where 6.1 passes the
 * mount's user namespace, and generic_fillattr() learned request_mask (6.6).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define AIOS_IDMAP_ARG struct mnt_idmap *
#else
#define AIOS_IDMAP_ARG struct user_namespace *
#endif

/* The identity mapping, for callers that have no mount's idmap (new inodes). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define AIOS_NOP_IDMAP (&nop_mnt_idmap)
#else
#define AIOS_NOP_IDMAP (&init_user_ns)
#endif

static inline void aios_generic_fillattr(AIOS_IDMAP_ARG idmap, u32 request_mask,
					 struct inode *inode, struct kstat *stat)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	generic_fillattr(idmap, request_mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
}

/* The inode's timestamps became private fields with accessors (6.6, 6.7). */
static inline void aios_inode_set_times(struct inode *inode, struct timespec64 atime,
					struct timespec64 mtime, struct timespec64 ctime)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(inode, atime);
	inode_set_mtime_to_ts(inode, mtime);
	inode_set_ctime_to_ts(inode, ctime);
#else
	inode->i_atime = atime;
	inode->i_mtime = mtime;
	inode->i_ctime = ctime;
#endif
}

static inline void aios_inode_get_times(struct inode *inode, struct timespec64 *atime,
					struct timespec64 *mtime, struct timespec64 *ctime)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	*atime = inode_get_atime(inode);
	*mtime = inode_get_mtime(inode);
	*ctime = inode_get_ctime(inode);
#else
	*atime = inode->i_atime;
	*mtime = inode->i_mtime;
	*ctime = inode->i_ctime;
#endif
}

/* write_begin/write_end pass a folio since 6.12, a page before. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define aios_wb_page_t struct folio
static inline void aios_wb_zero(struct folio *folio, loff_t pos, size_t len)
{
	folio_zero_range(folio, offset_in_folio(folio, pos), len);
}
#else
#define aios_wb_page_t struct page
static inline void aios_wb_zero(struct page *page, loff_t pos, size_t len)
{
	zero_user(page, offset_in_page(pos), len);
}
#endif

/* block_page_mkwrite_return() became vmf_fs_error() (6.6). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define aios_vmf_fs_error vmf_fs_error
#else
#define aios_vmf_fs_error block_page_mkwrite_return
#endif

/* ctime := now; returns it. */
static inline struct timespec64 aios_inode_set_ctime_current(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return inode_set_ctime_current(inode);
#else
	inode->i_ctime = current_time(inode);
	return inode->i_ctime;
#endif
}

/* ctime and mtime := now (a directory's entries changed). */
static inline void aios_inode_set_cmtime_current(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
#else
	inode->i_ctime = current_time(inode);
	inode->i_mtime = inode->i_ctime;
#endif
}

/* generic_file_splice_read() became filemap_splice_read() (6.5). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define aios_file_splice_read filemap_splice_read
#else
#define aios_file_splice_read generic_file_splice_read
#endif

/* The open mode block_device_operations get: its own type since 6.5. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define aios_blk_mode_t blk_mode_t
#else
#define aios_blk_mode_t fmode_t
#endif

/* An exclusively opened block device: 6.9 hands out a struct file for it. */
struct aios_bdev_handle {
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *file;
#endif
};

static inline int aios_bdev_open(const char *path, void *holder, struct aios_bdev_handle *h)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	h->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE, holder, NULL);
	if (IS_ERR(h->file))
		return PTR_ERR(h->file);
	h->bdev = file_bdev(h->file);
#else
	h->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE | FMODE_EXCL, holder);
	if (IS_ERR(h->bdev))
		return PTR_ERR(h->bdev);
#endif
	return 0;
}

static inline void aios_bdev_close(struct aios_bdev_handle *h)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	fput(h->file);
#else
	blkdev_put(h->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
#endif
}

/*
 * aiosnvme: I/O statistics of a bio-based disk, which are off unless the
 * driver asks (blk-mq queues have them by default).  6.11 made the flag a
 * queue feature, set through a limits update.
 */
static inline int aios_disk_enable_io_stat(struct gendisk *disk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	lim.features |= BLK_FEAT_IO_STAT;
	return queue_limits_commit_update(disk->queue, &lim);
#else
	blk_queue_flag_set(QUEUE_FLAG_IO_STAT, disk->queue);
	return 0;
#endif
}

/*
 * __blockdev_direct_IO() with a completion callback: 6.1 still takes a
 * submit_io hook (always NULL here), which later kernels dropped (6.12 has
 * none; the version below is where we place the change, not measured).
 */
static inline ssize_t aios_blockdev_direct_IO(struct kiocb *iocb, struct inode *inode,
					      struct iov_iter *iter, get_block_t get_block,
					      dio_iodone_t end_io)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return __blockdev_direct_IO(iocb, inode, inode->i_sb->s_bdev, iter, get_block, end_io,
				    DIO_LOCKING | DIO_SKIP_HOLES);
#else
	return __blockdev_direct_IO(iocb, inode, inode->i_sb->s_bdev, iter, get_block, end_io,
				    NULL, DIO_LOCKING | DIO_SKIP_HOLES);
#endif
}

/*
 * POSIX ACLs: 6.2 renamed ->get_acl to ->get_inode_acl, gave ->set_acl and
 * posix_acl_chmod() a dentry, and took the ACL xattrs out of the
 * filesystems' handler lists (the VFS calls ->set_acl itself).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define AIOS_ACL_TARGET struct dentry *
#define aios_acl_inode(t) d_inode(t)
#define AIOS_INODE_GET_ACL(fn) .get_inode_acl = (fn)
#define aios_posix_acl_chmod(idmap, dentry, mode) posix_acl_chmod(idmap, dentry, mode)
#define AIOS_ACL_XATTR_HANDLERS
#else
#define AIOS_ACL_TARGET struct inode *
#define aios_acl_inode(t) (t)
#define AIOS_INODE_GET_ACL(fn) .get_acl = (fn)
#define aios_posix_acl_chmod(idmap, dentry, mode) posix_acl_chmod(idmap, d_inode(dentry), mode)
#define AIOS_ACL_XATTR_HANDLERS &posix_acl_access_xattr_handler, &posix_acl_default_xattr_handler,
#endif

#endif /* _AIOS_COMPAT_H */
