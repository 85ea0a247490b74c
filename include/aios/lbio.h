/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lbio: the one interface between aiosfs (fs/) and the block side (blk/).
 *
 * An lbio is a run of whole pages at a sector, with a callback: no struct
 * bio, no request.  On a disk of aiosnvme it becomes an NVMe command in a
 * slot of the submitting CPU's queue directly; on any other block device
 * it is carried by an ordinary bio, with the same semantics.
 *
 * Life cycle: aios_lbio_init(), aios_lbio_add_page() per page,
 * aios_lbio_submit().  Then either ->end_io runs once (in interrupt
 * context) and owns the lbio from then on, or, with no ->end_io, the
 * submitter calls aios_lbio_wait(), which may spin for a short while on
 * aiosnvme before it sleeps.  Submission never fails: errors arrive in
 * ->error, as a negative errno.
 *
 * An lbio with no pages and AIOS_LBIO_PREFLUSH is a cache flush.  On a
 * device without a volatile write cache PREFLUSH and FUA mean nothing and
 * are dropped (a flush then ends at once).
 *
 * A batch gathers lbios that one waiter awaits together, as a commit
 * awaits its data and log blocks: aios_lbio_batch_add() before each
 * submission, aios_lbio_batch_wait() once.  An lbio's ->end_io, if any,
 * has run before the batch counts it as done.
 */
#ifndef _AIOS_LBIO_H
#define _AIOS_LBIO_H

#include <linux/blk_types.h>
#include <linux/completion.h>
#include <linux/mm_types.h>

#define AIOS_LBIO_MAX_PAGES	32

enum {
	AIOS_LBIO_WRITE		= 1 << 0,
	AIOS_LBIO_FUA		= 1 << 1,	/* durable once it completes */
	AIOS_LBIO_PREFLUSH	= 1 << 2,	/* after the device cache is flushed */
	AIOS_LBIO_NOPOLL	= 1 << 3,	/* its waiter sleeps at once */
};

struct aios_lbio_dev;
struct aios_lbio;
struct aios_lbio_batch;

typedef void (*aios_lbio_end_t)(struct aios_lbio *lbio);

struct aios_lbio {
	struct aios_lbio_dev *dev;
	sector_t sector;			/* 512-byte units, in the bdev */
	unsigned int flags;
	unsigned int nr_pages;
	struct page *pages[AIOS_LBIO_MAX_PAGES];
	aios_lbio_end_t end_io;
	void *private;
	int error;
	struct aios_lbio_batch *batch;

	/* Transport state. */
	bool done;
	unsigned int qidx;
	u64 start_ns;
	struct completion wait;
};

/*
 * The lbio side of a block device the filesystem holds open: direct when
 * it is an aiosnvme disk (or a partition of one), a bio fallback otherwise.
 */
struct aios_lbio_dev *aios_lbio_dev_get(struct block_device *bdev);
void aios_lbio_dev_put(struct aios_lbio_dev *dev);
bool aios_lbio_dev_direct(const struct aios_lbio_dev *dev);

void aios_lbio_init(struct aios_lbio *lbio, struct aios_lbio_dev *dev, sector_t sector,
		    unsigned int flags);
int aios_lbio_add_page(struct aios_lbio *lbio, struct page *page);
void aios_lbio_submit(struct aios_lbio *lbio);
int aios_lbio_wait(struct aios_lbio *lbio);

struct aios_lbio_batch {
	atomic_t pending;		/* lbios, plus one until the wait */
	int error;			/* the first error */
	bool poll;
	struct aios_lbio_dev *dev;	/* of the last lbio sent directly */
	unsigned int qidx;
	u64 start_ns;
	struct completion done;
};

void aios_lbio_batch_init(struct aios_lbio_batch *batch, bool poll);
void aios_lbio_batch_add(struct aios_lbio_batch *batch, struct aios_lbio *lbio);
int aios_lbio_batch_wait(struct aios_lbio_batch *batch);

/*
 * Pages for reads, from a small per-CPU pool, so that allocation is not on
 * the way to the device; refill the pool after submitting, while the
 * device works.  Task context only.
 */
struct page *aios_lbio_page_get(void);
void aios_lbio_pool_refill(void);

#endif /* _AIOS_LBIO_H */
