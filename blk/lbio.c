// SPDX-License-Identifier: GPL-2.0
/*
 * lbio: aiosfs's way to the device (see include/aios/lbio.h).  On aiosnvme
 * an lbio goes straight into a command slot; anywhere else a bio carries it.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <aios/lbio.h>
#include "aiosnvme.h"

struct aios_lbio_dev {
	struct block_device *bdev;
	struct aios_ns *ns;		/* NULL: the bio fallback */
	unsigned int max_pages;		/* per lbio: the controller's limit, or ours */
};

struct aios_lbio_dev *aios_lbio_dev_get(struct block_device *bdev)
{
	struct aios_lbio_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->bdev = bdev;
	/*
	 * The holder keeps the bdev open, so the disk and its namespace live
	 * at least as long as this handle.
	 */
	dev->max_pages = AIOS_LBIO_MAX_PAGES;
	if (bdev->bd_disk->fops == &aios_disk_fops) {
		dev->ns = bdev->bd_disk->private_data;
		/* MDTS and DMA limits: one lbio is one command (bios are split instead). */
		dev->max_pages = clamp_t(unsigned int, dev->ns->ctrl->max_xfer >> PAGE_SHIFT, 1,
					 AIOS_LBIO_MAX_PAGES);
	}
	return dev;
}

void aios_lbio_dev_put(struct aios_lbio_dev *dev)
{
	kfree(dev);
}

bool aios_lbio_dev_direct(const struct aios_lbio_dev *dev)
{
	return dev->ns;
}

unsigned int aios_lbio_dev_max_pages(const struct aios_lbio_dev *dev)
{
	return dev->max_pages;
}

void aios_lbio_init(struct aios_lbio *lbio, struct aios_lbio_dev *dev, sector_t sector,
		    unsigned int flags)
{
	lbio->dev = dev;
	lbio->sector = sector;
	lbio->flags = flags;
	lbio->nr_pages = 0;
	lbio->max_pages = dev->max_pages;
	lbio->end_io = NULL;
	lbio->private = NULL;
	lbio->error = 0;
	lbio->batch = NULL;
	lbio->done = false;
	lbio->qidx = 0;
	init_completion(&lbio->wait);
}

int aios_lbio_add_page(struct aios_lbio *lbio, struct page *page)
{
	/* Callers test aios_lbio_full() first: a page refused here is lost. */
	if (WARN_ON_ONCE(aios_lbio_full(lbio)))
		return -E2BIG;
	lbio->pages[lbio->nr_pages++] = page;
	return 0;
}

static void aios_lbio_batch_put(struct aios_lbio_batch *batch, int error)
{
	if (error)
		cmpxchg(&batch->error, 0, error);
	if (atomic_dec_and_test(&batch->pending))
		complete(&batch->done);
}

/* Ends an lbio, once, from whichever context finished it. */
static void aios_lbio_complete(struct aios_lbio *lbio, int error)
{
	/* ->end_io may free the lbio. */
	struct aios_lbio_batch *batch = lbio->batch;

	lbio->error = error;
	if (lbio->end_io) {
		lbio->end_io(lbio);
	} else {
		/* Pairs with the spinner's smp_load_acquire(). */
		smp_store_release(&lbio->done, true);
		complete(&lbio->wait);
	}
	if (batch)
		aios_lbio_batch_put(batch, error);
}

static void aios_lbio_bio_end(struct bio *bio)
{
	struct aios_lbio *lbio = bio->bi_private;
	int error = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	aios_lbio_complete(lbio, error);
}

static void aios_lbio_submit_bio(struct aios_lbio *lbio)
{
	blk_opf_t opf = (lbio->flags & AIOS_LBIO_WRITE) ? REQ_OP_WRITE : REQ_OP_READ;
	struct bio *bio;
	unsigned int i;

	if (lbio->flags & AIOS_LBIO_FUA)
		opf |= REQ_FUA;
	if (lbio->flags & AIOS_LBIO_PREFLUSH)
		opf |= REQ_PREFLUSH;
	/* With a mempool behind it, a GFP_NOIO bio allocation cannot fail. */
	bio = bio_alloc(lbio->dev->bdev, lbio->nr_pages, opf | REQ_SYNC, GFP_NOIO);
	bio->bi_iter.bi_sector = lbio->sector;
	bio->bi_private = lbio;
	bio->bi_end_io = aios_lbio_bio_end;
	for (i = 0; i < lbio->nr_pages; i++)
		__bio_add_page(bio, lbio->pages[i], PAGE_SIZE, 0);
	submit_bio(bio);
}

static void aios_lbio_slot_done(struct aios_queue *q, struct aios_slot *slot, u16 status,
				u64 result)
{
	struct aios_lbio *lbio = slot->owner;
	const char *what = (lbio->flags & AIOS_LBIO_WRITE) ? "lbio write" : "lbio read";

	if (aios_cmd_end(q, slot, status, lbio->dev->bdev, what, lbio->sector))
		aios_lbio_complete(lbio, 0);
	else
		aios_lbio_complete(lbio, -EIO);
}

/* An lbio's flags that shape its command are aios_cmd_rw()'s flags as they are. */
#define AIOS_LBIO_CMD_FLAGS	(AIOS_LBIO_WRITE | AIOS_LBIO_FUA | AIOS_LBIO_PREFLUSH)
static_assert(AIOS_LBIO_WRITE == AIOS_CMD_WRITE && AIOS_LBIO_FUA == AIOS_CMD_FUA &&
	      AIOS_LBIO_PREFLUSH == AIOS_CMD_PREFLUSH);

/* Fills a slot with the lbio's read or write; 0 or a negative errno. */
static int aios_lbio_setup(struct aios_ns *ns, struct aios_queue *q, struct aios_slot *slot,
			   struct aios_lbio *lbio, sector_t sector)
{
	struct nvme_command *c = &slot->cmd;
	bool write = lbio->flags & AIOS_LBIO_WRITE;
	unsigned int i;
	int err;

	memset(c, 0, sizeof(*c));
	aios_prp_start(slot, write ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	slot->owner = lbio;
	slot->done = aios_lbio_slot_done;
	if (!lbio->nr_pages) {
		aios_cmd_flush(c, ns->nsid);
		return 0;
	}
	for (i = 0; i < lbio->nr_pages; i++) {
		err = aios_prp_add(q, slot, lbio->pages[i], 0, PAGE_SIZE);
		if (err) {
			aios_slot_unmap(q, slot);
			return err;
		}
	}
	aios_prp_finish(slot);
	aios_cmd_rw(ns, slot, sector, lbio->nr_pages << PAGE_SHIFT,
		    lbio->flags & AIOS_LBIO_CMD_FLAGS);
	return 0;
}

static int aios_lbio_submit_direct(struct aios_lbio *lbio)
{
	struct block_device *bdev = lbio->dev->bdev;
	struct aios_ns *ns = lbio->dev->ns;
	struct aios_ctrl *ctrl = ns->ctrl;
	sector_t nr = (sector_t)lbio->nr_pages << (PAGE_SHIFT - SECTOR_SHIFT);
	struct aios_queue *q;
	struct aios_slot *slot;
	int err;

	if (lbio->sector + nr > bdev_nr_sectors(bdev) ||
	    (lbio->sector & ((1U << (ns->lba_shift - SECTOR_SHIFT)) - 1)))
		return -EIO;
	if ((lbio->flags & AIOS_LBIO_WRITE) && bdev_read_only(bdev))
		return -EROFS;
	if (!ctrl->vwc)
		lbio->flags &= ~(AIOS_LBIO_PREFLUSH | AIOS_LBIO_FUA);
	if (!lbio->nr_pages && !(lbio->flags & AIOS_LBIO_PREFLUSH)) {
		/* A flush of a cache the device does not have. */
		aios_lbio_complete(lbio, 0);
		return 0;
	}
	lbio->qidx = aios_cpu_queue_index(ctrl);
	/*
	 * Its submitter will wait for it alone: see aios_bio_queue().  A
	 * batch's lbios stay where the interrupt also ends them, for those
	 * with ->end_io may be waited for by someone else.
	 */
	if (!lbio->end_io && !lbio->batch && !(lbio->flags & AIOS_LBIO_NOPOLL) &&
	    ctrl->nr_poll && aios_queue_may_poll(&ctrl->ioq[lbio->qidx]))
		lbio->qidx = aios_poll_queue_index(ctrl);
	q = &ctrl->ioq[lbio->qidx];
	slot = aios_slot_get(q, true);
	if (!slot)
		return -EIO;
	err = aios_lbio_setup(ns, q, slot, lbio, lbio->sector + get_start_sect(bdev));
	if (err) {
		aios_slot_put(q, slot);
		return err;
	}
	/* Read before it goes: the slot may be another command's once submitted. */
	lbio->start_ns = slot->times_rtt ? ktime_get_ns() : 0;
	if (lbio->batch) {
		lbio->batch->dev = lbio->dev;
		lbio->batch->qidx = lbio->qidx;
	}
	if ((lbio->flags & AIOS_LBIO_PREFLUSH) && lbio->nr_pages)
		aios_queue_submit_flush_first(q, slot, ns->nsid);
	else
		aios_queue_submit(q, slot);
	return 0;
}

void aios_lbio_submit(struct aios_lbio *lbio)
{
	struct aios_ctrl *ctrl;
	int idx, err;

	if (WARN_ON_ONCE(!lbio->nr_pages && !(lbio->flags & AIOS_LBIO_PREFLUSH))) {
		aios_lbio_complete(lbio, -EINVAL);
		return;
	}
	if (!lbio->dev->ns) {
		aios_lbio_submit_bio(lbio);
		return;
	}
	/*
	 * Teardown waits for us (synchronize_srcu) once it marked the
	 * controller dead, and a namespace fence before it lets a format run.
	 */
	ctrl = lbio->dev->ns->ctrl;
	idx = aios_ctrl_enter(ctrl);
	err = READ_ONCE(ctrl->dead) ? -EIO : aios_lbio_submit_direct(lbio);
	srcu_read_unlock(&ctrl->srcu, idx);
	if (err)
		aios_lbio_complete(lbio, err);
}

static bool aios_lbio_is_done(void *arg)
{
	struct aios_lbio *lbio = arg;

	/* Acquires lbio->error, published by aios_lbio_complete(). */
	return smp_load_acquire(&lbio->done);
}

/* The queue a submitted lbio went to on aiosnvme; NULL on the bio fallback. */
struct aios_queue *aios_lbio_queue(struct aios_lbio *lbio)
{
	return lbio->dev->ns ? &lbio->dev->ns->ctrl->ioq[lbio->qidx] : NULL;
}

/*
 * Waits for an lbio submitted without ->end_io.  On aiosnvme it polls the
 * queue it went to while the device is quick, then sleeps (or, on a queue
 * without interrupt, keeps polling between sleeps).
 */
int aios_lbio_wait(struct aios_lbio *lbio)
{
	if (WARN_ON_ONCE(lbio->end_io))
		return -EINVAL;
	if (lbio->dev->ns && !(lbio->flags & AIOS_LBIO_NOPOLL) && !aios_lbio_is_done(lbio)) {
		struct aios_ctrl *ctrl = lbio->dev->ns->ctrl;
		int idx = srcu_read_lock(&ctrl->srcu);

		if (!READ_ONCE(ctrl->dead))
			aios_queue_poll_wait(&ctrl->ioq[lbio->qidx], aios_lbio_is_done, lbio,
					     lbio->start_ns);
		srcu_read_unlock(&ctrl->srcu, idx);
	}
	wait_for_completion_io(&lbio->wait);
	return lbio->error;
}

void aios_lbio_batch_init(struct aios_lbio_batch *batch, bool poll)
{
	atomic_set(&batch->pending, 1);
	batch->error = 0;
	batch->poll = poll;
	batch->dev = NULL;
	batch->qidx = 0;
	init_completion(&batch->done);
}

void aios_lbio_batch_add(struct aios_lbio_batch *batch, struct aios_lbio *lbio)
{
	atomic_inc(&batch->pending);
	lbio->batch = batch;
}

static bool aios_lbio_batch_is_done(void *arg)
{
	struct aios_lbio_batch *batch = arg;

	return !atomic_read(&batch->pending);
}

/*
 * Waits for every lbio of the batch.  On aiosnvme it first spins on the
 * queue of the last one sent while the device is quick: a commit's blocks
 * all go from one CPU, so that is usually the queue of all of them.
 */
int aios_lbio_batch_wait(struct aios_lbio_batch *batch)
{
	if (atomic_dec_and_test(&batch->pending))
		return READ_ONCE(batch->error);
	if (batch->poll && batch->dev && batch->dev->ns) {
		struct aios_ctrl *ctrl = batch->dev->ns->ctrl;
		int idx = srcu_read_lock(&ctrl->srcu);

		if (!READ_ONCE(ctrl->dead) && batch->qidx < ctrl->nr_queues)
			aios_queue_poll_wait(&ctrl->ioq[batch->qidx], aios_lbio_batch_is_done,
					     batch, 0);
		srcu_read_unlock(&ctrl->srcu, idx);
	}
	/* The last lbio's completion touches the batch until complete() returns. */
	wait_for_completion_io(&batch->done);
	return READ_ONCE(batch->error);
}

/* The per-CPU page pool for reads. */
#define AIOS_POOL_PAGES		32

struct aios_page_pool {
	unsigned int nr;
	struct page *pages[AIOS_POOL_PAGES];
};

static DEFINE_PER_CPU(struct aios_page_pool, aios_pools);

/* Allocation that neither reclaims nor warns: the pool is an optimisation. */
#define AIOS_POOL_GFP	((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN)

struct page *aios_lbio_page_get(void)
{
	struct aios_page_pool *pool = get_cpu_ptr(&aios_pools);
	struct page *page = pool->nr ? pool->pages[--pool->nr] : NULL;

	put_cpu_ptr(&aios_pools);
	return page ?: alloc_page(GFP_HIGHUSER_MOVABLE);
}

void aios_lbio_pool_refill(void)
{
	struct aios_page_pool *pool;
	struct page *page;

	while (this_cpu_read(aios_pools.nr) < AIOS_POOL_PAGES) {
		page = alloc_page(AIOS_POOL_GFP);
		if (!page)
			return;
		pool = get_cpu_ptr(&aios_pools);
		if (pool->nr < AIOS_POOL_PAGES) {
			pool->pages[pool->nr++] = page;
			page = NULL;
		}
		put_cpu_ptr(&aios_pools);
		if (page) {
			__free_page(page);
			return;
		}
	}
}

void aios_lbio_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct aios_page_pool *pool = per_cpu_ptr(&aios_pools, cpu);

		while (pool->nr)
			__free_page(pool->pages[--pool->nr]);
	}
}
