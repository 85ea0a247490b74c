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
	unsigned int max_pages;			/* the device's, set by aios_lbio_init() */
	struct page *pages[AIOS_LBIO_MAX_PAGES];
	aios_lbio_end_t end_io;
	void *private;
	int error;
	struct aios_lbio_batch *batch;

	/* Transport state. */
	bool done;
	unsigned int qidx;
	u64 start_ns;			/* 0: its round trip says nothing of the device */
	struct completion wait;
};

/**
 * aios_lbio_dev_get() - the lbio side of a block device
 * @bdev: a block device the caller holds open, for longer than the result
 *
 * Direct when @bdev is an aiosnvme disk (or a partition of one), a bio
 * fallback otherwise.
 *
 * Return: the device, to be put with aios_lbio_dev_put(), or an ERR_PTR().
 */
struct aios_lbio_dev *aios_lbio_dev_get(struct block_device *bdev);

/**
 * aios_lbio_dev_put() - drops what aios_lbio_dev_get() returned
 * @dev: the device; no lbio of it may still be in flight
 */
void aios_lbio_dev_put(struct aios_lbio_dev *dev);

/**
 * aios_lbio_dev_direct() - whether lbios of @dev become NVMe commands directly
 * @dev: the device
 *
 * Return: true on an aiosnvme disk, false where bios carry them.
 */
bool aios_lbio_dev_direct(const struct aios_lbio_dev *dev);

/**
 * aios_lbio_dev_max_pages() - the most pages one lbio of @dev takes
 * @dev: the device
 *
 * At most %AIOS_LBIO_MAX_PAGES; less where the controller's maximum
 * transfer (MDTS) or the DMA mapping limit is smaller.
 *
 * Return: a number of pages, at least 1.
 */
unsigned int aios_lbio_dev_max_pages(const struct aios_lbio_dev *dev);

/**
 * aios_lbio_init() - prepares an lbio, with no pages, no callback, no batch
 * @lbio: the lbio, the caller's memory until it completes
 * @dev: the device it goes to
 * @sector: where, in 512-byte units of the block device
 * @flags: AIOS_LBIO_* flags
 *
 * Set ->end_io and ->private afterwards, if wanted.
 */
void aios_lbio_init(struct aios_lbio *lbio, struct aios_lbio_dev *dev, sector_t sector,
		    unsigned int flags);

/**
 * aios_lbio_full() - whether the run takes no more pages
 * @lbio: an lbio not yet submitted
 *
 * Return: true when it holds aios_lbio_dev_max_pages() of its device.
 */
static inline bool aios_lbio_full(const struct aios_lbio *lbio)
{
	return lbio->nr_pages >= lbio->max_pages;
}

/**
 * aios_lbio_add_page() - appends a whole page to the run
 * @lbio: an lbio not yet submitted
 * @page: the page, which the caller keeps alive until completion
 *
 * Return: 0, or -E2BIG (and a warning) when aios_lbio_full() already.
 */
int aios_lbio_add_page(struct aios_lbio *lbio, struct page *page);

/**
 * aios_lbio_submit() - sends the lbio to its device
 * @lbio: an lbio with pages, or none and %AIOS_LBIO_PREFLUSH (a flush)
 *
 * Never fails here: an error (a dead controller, a device error) is
 * delivered as the completion's ->error.
 *
 * Context: task.
 */
void aios_lbio_submit(struct aios_lbio *lbio);

/**
 * aios_lbio_wait() - waits for an lbio that has no ->end_io
 * @lbio: a submitted lbio
 *
 * Polls the completion queue for a bounded while on aiosnvme (unless
 * %AIOS_LBIO_NOPOLL), then sleeps.
 *
 * Context: task, may sleep.
 *
 * Return: 0, or the lbio's negative errno.
 */
int aios_lbio_wait(struct aios_lbio *lbio);

struct aios_lbio_batch {
	atomic_t pending;		/* lbios, plus one until the wait */
	int error;			/* the first error */
	bool poll;
	struct aios_lbio_dev *dev;	/* of the last lbio sent directly */
	unsigned int qidx;
	struct completion done;
};

/**
 * aios_lbio_batch_init() - prepares an empty batch
 * @batch: the batch, the caller's memory until aios_lbio_batch_wait() returns
 * @poll: whether its waiter may poll before it sleeps
 */
void aios_lbio_batch_init(struct aios_lbio_batch *batch, bool poll);

/**
 * aios_lbio_batch_add() - counts an lbio into a batch
 * @batch: a batch not yet waited for
 * @lbio: an lbio about to be submitted (not yet: it may complete at once)
 */
void aios_lbio_batch_add(struct aios_lbio_batch *batch, struct aios_lbio *lbio);

/**
 * aios_lbio_batch_wait() - waits for every lbio of the batch, once
 * @batch: the batch
 *
 * Context: task, may sleep.
 *
 * Return: 0, or the first error of its lbios.
 */
int aios_lbio_batch_wait(struct aios_lbio_batch *batch);

/**
 * aios_lbio_page_get() - a page for a read, from a small per-CPU pool
 *
 * Context: task.  The pool keeps allocation off the way to the device.
 *
 * Return: a page, from the pool or else newly allocated, or NULL.
 */
struct page *aios_lbio_page_get(void);

/**
 * aios_lbio_pool_refill() - refills this CPU's pool
 *
 * Context: task, after submitting, while the device works.
 */
void aios_lbio_pool_refill(void);

#endif /* _AIOS_LBIO_H */
