// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme disks: one bio-based gendisk per active namespace.
 *
 * submit_bio goes straight from the bio to an NVMe command in a slot of the
 * submitting CPU's queue: no request, no tag, no scheduler, no merging.  A
 * bio its submitter waits for goes to a queue without interrupt and is
 * polled for, adaptively, so that nobody sleeps and nobody has to be woken.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <aios/compat.h>
#include "aiosnvme.h"

static blk_status_t aios_blk_status(u16 status)
{
	switch (AIOS_STATUS_CODE(status)) {
	case NVME_SC_SUCCESS:
		return BLK_STS_OK;
	case NVME_SC_CAP_EXCEEDED:
		return BLK_STS_NOSPC;
	case NVME_SC_LBA_RANGE:
		return BLK_STS_TARGET;
	case NVME_SC_INVALID_OPCODE:
	case NVME_SC_INVALID_FIELD:
		return BLK_STS_NOTSUPP;
	case NVME_SC_WRITE_FAULT:
	case NVME_SC_READ_ERROR:
	case NVME_SC_UNWRITTEN_BLOCK:
	case NVME_SC_ACCESS_DENIED:
	case NVME_SC_READ_ONLY:
		return BLK_STS_MEDIUM;
	default:
		return BLK_STS_IOERR;
	}
}

static void aios_bio_done(struct aios_queue *q, struct aios_slot *slot, u16 status, u64 result)
{
	struct bio *bio = slot->owner;
	unsigned long acct_start = slot->acct_start;
	bool acct = slot->acct;

	if (!aios_cmd_end(q, slot, status, bio->bi_bdev, blk_op_str(bio_op(bio)),
			  bio->bi_iter.bi_sector))
		bio->bi_status = aios_blk_status(status);
	if (acct)
		bio_end_io_acct(bio, acct_start);
	bio_endio(bio);
}

/*
 * I/O statistics (/proc/diskstats, iostat) for a bio about to go out, as
 * blk-mq keeps them for requests: bio-based disks must do it themselves.
 * Only bios that move data; an empty PREFLUSH write is a flush.
 */
static void aios_bio_acct_start(struct aios_slot *slot, struct bio *bio)
{
	if (!bio_sectors(bio) || !blk_queue_io_stat(bio->bi_bdev->bd_disk->queue))
		return;
	slot->acct_start = bio_start_io_acct(bio);
	slot->acct = 1;
}

static int aios_bio_map(struct aios_queue *q, struct aios_slot *slot, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int err;

	aios_prp_start(slot, op_is_write(bio_op(bio)) ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	bio_for_each_bvec(bv, bio, iter) {
		err = aios_prp_add(q, slot, bv.bv_page, bv.bv_offset, bv.bv_len);
		if (err) {
			aios_slot_unmap(q, slot);
			return err;
		}
	}
	aios_prp_finish(slot);
	return 0;
}

/*
 * A bio the block layer split for an older block size (one built before a
 * format that raised it) would make a command move more than its buffer.
 */
static bool aios_bio_fits_lbas(struct aios_ns *ns, struct bio *bio)
{
	u32 mask = (1U << (ns->lba_shift - SECTOR_SHIFT)) - 1;

	if (!((bio->bi_iter.bi_sector | (bio->bi_iter.bi_size >> SECTOR_SHIFT)) & mask) &&
	    !(bio->bi_iter.bi_size & (SECTOR_SIZE - 1)))
		return true;
	dev_warn_ratelimited(ns->ctrl->dev, "namespace %u: %u bytes at sector %llu are not whole %u-byte blocks\n",
			     ns->nsid, bio->bi_iter.bi_size,
			     (unsigned long long)bio->bi_iter.bi_sector, 1U << ns->lba_shift);
	return false;
}

static unsigned int aios_bio_cmd_flags(const struct bio *bio)
{
	unsigned int flags = 0;

	if (bio_op(bio) == REQ_OP_WRITE)
		flags |= AIOS_CMD_WRITE;
	if (bio->bi_opf & REQ_FUA)
		flags |= AIOS_CMD_FUA;
	if (bio->bi_opf & REQ_PREFLUSH)
		flags |= AIOS_CMD_PREFLUSH;
	return flags;
}

/* Fills the slot for @bio; returns a block status on a bio we cannot send. */
static blk_status_t aios_bio_setup(struct aios_ns *ns, struct aios_queue *q,
				   struct aios_slot *slot, struct bio *bio)
{
	struct nvme_command *c = &slot->cmd;

	memset(c, 0, sizeof(*c));
	if (bio_op(bio) != REQ_OP_FLUSH && !aios_bio_fits_lbas(ns, bio))
		return BLK_STS_IOERR;
	slot->owner = bio;
	slot->done = aios_bio_done;
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
		/* blkdev_issue_flush() sends an empty PREFLUSH write: a Flush. */
		if (!bio->bi_iter.bi_size)
			goto flush;
		fallthrough;
	case REQ_OP_READ:
		if (aios_bio_map(q, slot, bio))
			return BLK_STS_RESOURCE;
		aios_cmd_rw(ns, slot, bio->bi_iter.bi_sector, bio->bi_iter.bi_size,
			    aios_bio_cmd_flags(bio));
		return BLK_STS_OK;
	case REQ_OP_FLUSH:
flush:
		aios_cmd_flush(c, ns->nsid);
		return BLK_STS_OK;
	case REQ_OP_DISCARD:
		aios_cmd_discard(ns, slot, bio->bi_iter.bi_sector, bio->bi_iter.bi_size);
		return BLK_STS_OK;
	case REQ_OP_WRITE_ZEROES:
		aios_cmd_write_zeroes(ns, c, bio->bi_iter.bi_sector, bio->bi_iter.bi_size);
		return BLK_STS_OK;
	default:
		return BLK_STS_NOTSUPP;
	}
}

/*
 * A task with an AIO or io_uring context submits without waiting, one
 * io_submit() at a time as often as not: spinning for each of its bios in
 * turn would keep one command in flight where it wants many.
 */
static bool aios_task_submits_async(void)
{
#ifdef CONFIG_AIO
	if (current->mm && rcu_access_pointer(current->mm->ioctx_table))
		return true;
#endif
#ifdef CONFIG_IO_URING
	if (current->io_uring)
		return true;
#endif
	return false;
}

/*
 * Whether the submitter waits for this bio as soon as submit_bio returns
 * (pread on O_DIRECT, a flush for fsync), and polling beats sleeping.
 */
static bool aios_bio_waited(struct aios_queue *q, struct bio *bio)
{
	blk_opf_t opf = bio->bi_opf;

	if (opf & (REQ_POLLED | REQ_RAHEAD | REQ_NOWAIT) || aios_task_submits_async())
		return false;
	/*
	 * Reads are waited for; writes only when O_DIRECT (SYNC|IDLE) or a
	 * flush or FUA write: writeback streams many and waits for none.
	 */
	if (bio_op(bio) != REQ_OP_READ &&
	    !(bio_op(bio) == REQ_OP_WRITE && (opf & REQ_SYNC) &&
	      (opf & (REQ_IDLE | REQ_PREFLUSH | REQ_FUA))))
		return false;
	return aios_queue_may_poll(q);
}

/*
 * The submitting CPU's queue.  Polled bios, and bios their submitter will
 * poll for here, go to a queue without interrupt: nobody pays for an
 * interrupt that only wakes a task that is not asleep.  Only their poller
 * ends polled bios (6.1 frees them into a per-CPU cache that must not be
 * touched from an interrupt).
 */
static unsigned int aios_bio_queue(struct aios_ctrl *ctrl, struct bio *bio, bool *wait)
{
	unsigned int qidx;

	*wait = false;
	if ((bio->bi_opf & REQ_POLLED) && ctrl->nr_poll)
		return aios_poll_queue_index(ctrl);
	qidx = aios_cpu_queue_index(ctrl);
	*wait = aios_bio_waited(&ctrl->ioq[qidx], bio);
	if (*wait && ctrl->nr_poll)
		return aios_poll_queue_index(ctrl);
	return qidx;
}

/* A slot and its sequence number at submission: it moves on when the command ends. */
struct aios_slot_seq {
	struct aios_slot *slot;
	unsigned int seq;
};

static bool aios_slot_moved_on(void *arg)
{
	struct aios_slot_seq *ss = arg;

	return READ_ONCE(ss->slot->seq) != ss->seq;
}

static void aios_submit_bio(struct bio *bio)
{
	struct aios_ns *ns = bio->bi_bdev->bd_disk->private_data;
	struct aios_ctrl *ctrl = ns->ctrl;
	struct aios_queue *q;
	struct aios_slot *slot;
	struct aios_slot_seq ss;
	unsigned int qidx;
	blk_status_t st;
	u64 sample;
	bool wait;

	bio = bio_split_to_limits(bio);
	if (!bio)
		return;
	if (unlikely(READ_ONCE(ctrl->dead))) {
		bio_io_error(bio);
		return;
	}
	qidx = aios_bio_queue(ctrl, bio, &wait);
	q = &ctrl->ioq[qidx];
	slot = aios_slot_get(q, !(bio->bi_opf & REQ_NOWAIT));
	if (!slot) {
		if (bio->bi_opf & REQ_NOWAIT && !READ_ONCE(ctrl->dead))
			bio_wouldblock_error(bio);
		else
			bio_io_error(bio);
		return;
	}
	st = aios_bio_setup(ns, q, slot, bio);
	if (unlikely(st != BLK_STS_OK)) {
		aios_slot_put(q, slot);
		bio->bi_status = st;
		bio_endio(bio);
		return;
	}
	if (bio->bi_opf & REQ_POLLED)
		bio->bi_cookie = qidx;
	aios_bio_acct_start(slot, bio);
	ss.slot = slot;
	ss.seq = READ_ONCE(slot->seq);
	/* Read before it goes: the slot may be another command's once submitted. */
	sample = slot->times_rtt ? ktime_get_ns() : 0;
	if ((bio->bi_opf & REQ_PREFLUSH) && bio_op(bio) == REQ_OP_WRITE && bio->bi_iter.bi_size)
		aios_queue_submit_flush_first(q, slot, ns->nsid);
	else
		aios_queue_submit(q, slot);
	/* The bio may be gone from here on, unless we wait. */
	if (wait)
		aios_queue_poll_wait(q, aios_slot_moved_on, &ss, sample);
}

static int aios_poll_bio(struct bio *bio, struct io_comp_batch *iob, unsigned int flags)
{
	struct aios_ns *ns = bio->bi_bdev->bd_disk->private_data;
	struct aios_ctrl *ctrl = ns->ctrl;
	unsigned int qidx = READ_ONCE(bio->bi_cookie);

	if (qidx < ctrl->nr_io || qidx >= ctrl->nr_queues)
		return 0;
	return aios_queue_reap(&ctrl->ioq[qidx]);
}

/* The last reference to the disk is gone: so is every user of the namespace. */
static void aios_free_disk(struct gendisk *disk)
{
	struct aios_ns *ns = disk->private_data;

	aios_ctrl_put(ns->ctrl);
	kfree(ns);
}

static int aios_disk_ioctl(struct block_device *bdev, aios_blk_mode_t mode, unsigned int cmd,
			   unsigned long arg)
{
	return aios_ns_ioctl(bdev->bd_disk->private_data, cmd, (void __user *)arg);
}

const struct block_device_operations aios_disk_fops = {
	.owner		= THIS_MODULE,
	.ioctl		= aios_disk_ioctl,
	.compat_ioctl	= blkdev_compat_ptr_ioctl,
	.submit_bio	= aios_submit_bio,
	.poll_bio	= aios_poll_bio,
	.free_disk	= aios_free_disk,
};

/*
 * The namespace's LBA size as a shift, or 0 (logged) for a format we
 * cannot use.  With more than 16 formats (NVMe 2.0), FLBAS bits 6:5 are
 * the upper bits of the format's index.
 */
static u8 aios_ns_lba_shift(struct aios_ctrl *ctrl, u32 nsid, struct nvme_id_ns *id)
{
	unsigned int fmt = id->flbas & NVME_NS_FLBAS_LBA_MASK;
	u8 ds;

	if (id->nlbaf >= 16)
		fmt |= ((id->flbas >> 5) & 3) << 4;

	if (fmt > id->nlbaf) {
		dev_warn(ctrl->dev, "namespace %u: bad LBA format %u\n", nsid, fmt);
		return 0;
	}
	ds = id->lbaf[fmt].ds;
	if (ds < SECTOR_SHIFT || ds > PAGE_SHIFT || id->lbaf[fmt].ms) {
		dev_warn(ctrl->dev, "namespace %u: %u-byte blocks with %u bytes of metadata are not supported\n",
			 nsid, 1U << min_t(u8, ds, 31), le16_to_cpu(id->lbaf[fmt].ms));
		return 0;
	}
	return ds;
}

static unsigned int aios_ns_max_write_zeroes(struct aios_ctrl *ctrl, u8 ds)
{
	if (!(ctrl->oncs & NVME_CTRL_ONCS_WRITE_ZEROES))
		return 0;
	return min_t(u32, ctrl->max_xfer, 65536U << ds) >> SECTOR_SHIFT;
}

static int aios_ns_add(struct aios_ctrl *ctrl, u32 nsid, struct nvme_id_ns *id)
{
	struct aios_disk_limits lim = { };
	struct aios_ns *ns;
	u8 ds;
	int err;

	ds = aios_ns_lba_shift(ctrl, nsid, id);
	if (!ds)
		return 0;
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ns->ctrl = ctrl;
	ns->nsid = nsid;
	ns->lba_shift = ds;
	ns->nr_lbas = le64_to_cpu(id->nsze);

	lim.logical_block_size = 1U << ds;
	lim.max_hw_sectors = ctrl->max_xfer >> SECTOR_SHIFT;
	lim.max_segments = AIOS_MAX_SEGS;
	lim.virt_boundary_mask = AIOS_NVME_PAGE_SIZE - 1;
	lim.dma_alignment = 3;		/* PRP entries are dword aligned */
	lim.write_cache = ctrl->vwc;
	lim.fua = ctrl->vwc;
	lim.poll = ctrl->nr_poll > 0;
	if (ctrl->oncs & NVME_CTRL_ONCS_DSM)
		lim.max_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
	lim.max_write_zeroes_sectors = aios_ns_max_write_zeroes(ctrl, ds);

	ns->disk = aios_alloc_disk(&lim, dev_to_node(ctrl->dev));
	if (IS_ERR(ns->disk)) {
		err = PTR_ERR(ns->disk);
		kfree(ns);
		goto fail;
	}
	err = aios_disk_enable_io_stat(ns->disk);
	if (err) {
		put_disk(ns->disk);
		kfree(ns);
		goto fail;
	}
	/* From here on, put_disk() frees ns and drops this reference. */
	kref_get(&ctrl->ref);
	ns->disk->fops = &aios_disk_fops;
	ns->disk->private_data = ns;
	ns->disk->minors = 0;
	snprintf(ns->disk->disk_name, DISK_NAME_LEN, "aiosnvme%dn%u", ctrl->instance, nsid);
	set_capacity(ns->disk, ns->nr_lbas << (ds - SECTOR_SHIFT));
	err = device_add_disk(ctrl->dev, ns->disk, NULL);
	if (err) {
		put_disk(ns->disk);
		goto fail;
	}
	mutex_lock(&ctrl->ns_lock);
	list_add_tail(&ns->node, &ctrl->namespaces);
	mutex_unlock(&ctrl->ns_lock);
	return 0;

fail:
	dev_err(ctrl->dev, "namespace %u: cannot add its disk: %d\n", nsid, err);
	return err;
}

static int aios_identify_ns(struct aios_ctrl *ctrl, u32 nsid, struct nvme_id_ns *id)
{
	struct nvme_command cmd = { };

	cmd.identify.opcode = nvme_admin_identify;
	cmd.identify.nsid = cpu_to_le32(nsid);
	cmd.identify.cns = NVME_ID_CNS_NS;
	return aios_admin_sync(ctrl, &cmd, id, sizeof(*id), NULL);
}

/* A disk for namespace @nsid if it is active (a non-zero size). */
static int aios_ns_scan_one(struct aios_ctrl *ctrl, u32 nsid, struct nvme_id_ns *id)
{
	int err = aios_identify_ns(ctrl, nsid, id);

	if (err) {
		dev_err(ctrl->dev, "Identify Namespace %u failed: %d\n", nsid, err);
		return err;
	}
	return id->nsze ? aios_ns_add(ctrl, nsid, id) : 0;
}

/*
 * The active namespaces as Identify CNS 02h lists them, 1024 a page, each
 * page those above the last one of the page before.  -EINVAL: the
 * controller does not know the list (nothing added).
 */
static int aios_ns_scan_list(struct aios_ctrl *ctrl, __le32 *list, struct nvme_id_ns *id)
{
	struct nvme_command cmd = { };
	u32 nsid = 0;
	int i, err;

	cmd.identify.opcode = nvme_admin_identify;
	cmd.identify.cns = NVME_ID_CNS_NS_ACTIVE_LIST;
	for (;;) {
		cmd.identify.nsid = cpu_to_le32(nsid);
		err = aios_fault_take(&aios_fault_ns_list) ? -EINVAL :
		      aios_admin_sync(ctrl, &cmd, list, NVME_IDENTIFY_DATA_SIZE, NULL);
		/* Refused after a first page: no fallback, which would add them twice. */
		if (err == -EINVAL && nsid)
			err = -EIO;
		if (err)
			return err;
		for (i = 0; i < NVME_IDENTIFY_DATA_SIZE / 4 && list[i]; i++) {
			nsid = le32_to_cpu(list[i]);
			err = aios_ns_scan_one(ctrl, nsid, id);
			if (err)
				return err;
		}
		if (i < NVME_IDENTIFY_DATA_SIZE / 4 || nsid >= ctrl->nn)
			return 0;
	}
}

/* Before NVMe 1.1 there is no list: every id up to NN, the first few thousand. */
static int aios_ns_scan_each(struct aios_ctrl *ctrl, struct nvme_id_ns *id)
{
	u32 nsid, nn = min_t(u32, ctrl->nn, AIOS_MAX_SCAN_NSID);
	int err;

	if (ctrl->nn > nn)
		dev_warn(ctrl->dev, "%u namespace ids: only the first %u are looked at\n",
			 ctrl->nn, nn);
	for (nsid = 1; nsid <= nn; nsid++) {
		err = aios_ns_scan_one(ctrl, nsid, id);
		if (err)
			return err;
	}
	return 0;
}

/* Adds a disk for every active namespace. */
int aios_ns_scan(struct aios_ctrl *ctrl)
{
	struct nvme_id_ns *id;
	__le32 *list;
	int err = -EINVAL;

	list = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!list || !id) {
		err = -ENOMEM;
		goto out;
	}
	if (ctrl->vs >= NVME_VS(1, 1, 0))
		err = aios_ns_scan_list(ctrl, list, id);
	if (err == -EINVAL) {
		dev_info(ctrl->dev, "no active namespace list (NVMe %u.%u): scanning namespace ids\n",
			 ctrl->vs >> 16, (ctrl->vs >> 8) & 0xff);
		err = aios_ns_scan_each(ctrl, id);
	}
	if (err)
		dev_err(ctrl->dev, "cannot scan the namespaces: %d\n", err);
out:
	kfree(id);
	kfree(list);
	return err;
}

void aios_ns_remove_all(struct aios_ctrl *ctrl)
{
	struct aios_ns *ns, *next;

	mutex_lock(&ctrl->ns_lock);
	list_for_each_entry_safe(ns, next, &ctrl->namespaces, node) {
		list_del(&ns->node);
		del_gendisk(ns->disk);
		put_disk(ns->disk);
	}
	mutex_unlock(&ctrl->ns_lock);
}

/*
 * Under a fence (fence.c), after a command that may have changed the
 * namespace: its block size and capacity as the controller reports them
 * now.  A namespace gone, or in a format we cannot use, keeps its disk
 * with no capacity, so that nothing more is sent to it.
 */
static void aios_ns_no_capacity(struct aios_ns *ns, const char *why)
{
	dev_warn(ns->ctrl->dev, "namespace %u: %s; its disk now has no capacity\n", ns->nsid, why);
	ns->nr_lbas = 0;
	set_capacity_and_notify(ns->disk, 0);
}

void aios_ns_revalidate(struct aios_ns *ns, struct nvme_id_ns *id)
{
	struct aios_ctrl *ctrl = ns->ctrl;
	u8 ds = 0;

	if (id && !aios_identify_ns(ctrl, ns->nsid, id) && id->nsze)
		ds = aios_ns_lba_shift(ctrl, ns->nsid, id);
	if (!ds) {
		aios_ns_no_capacity(ns, "gone or unusable");
		return;
	}
	if (ds != ns->lba_shift) {
		if (aios_disk_set_block_size(ns->disk, 1U << ds,
					     aios_ns_max_write_zeroes(ctrl, ds))) {
			aios_ns_no_capacity(ns, "the queue refused its new block size");
			return;
		}
		dev_info(ctrl->dev, "namespace %u: %u-byte blocks now\n", ns->nsid, 1U << ds);
		ns->lba_shift = ds;
	}
	ns->nr_lbas = le64_to_cpu(id->nsze);
	set_capacity_and_notify(ns->disk, ns->nr_lbas << (ds - SECTOR_SHIFT));
}
