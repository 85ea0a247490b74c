// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme controller bring-up: enable and disable, the admin queue and
 * its synchronous commands, Identify, and creation of the I/O queues.
 *
 * The admin queue is polled, not interrupt driven: its commands are rare,
 * all synchronous, and polling keeps one vector free for I/O.
 *
 * Recovery: a command that times out, or a fatal controller status, resets
 * the controller (aios_reset_work_fn): disable, enable, the same queues
 * created again, and the commands that were in flight sent again from
 * their slots.  A controller that vanished, does not come back, or needs
 * too many resets is failed for good (aios_ctrl_fail).
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <linux/vmalloc.h>
#include "aiosnvme.h"

static int aios_wait_csts(struct aios_ctrl *ctrl, u32 mask, u32 want, unsigned long timeout,
			  const char *what)
{
	unsigned long deadline = jiffies + timeout;
	u32 csts;

	for (;;) {
		csts = readl(ctrl->bar + NVME_REG_CSTS);
		if (csts == ~0U) {
			dev_err(ctrl->dev, "controller gone while waiting to %s\n", what);
			return -ENODEV;
		}
		if ((csts & mask) == want)
			return 0;
		if (time_after(jiffies, deadline)) {
			dev_err(ctrl->dev, "timed out after %u ms waiting to %s (CSTS %#x)\n",
				jiffies_to_msecs(timeout), what, csts);
			return -ETIMEDOUT;
		}
		usleep_range(1000, 2000);
	}
}

/* With @shutdown, first asks the controller to flush and shut down cleanly. */
int aios_ctrl_disable(struct aios_ctrl *ctrl, bool shutdown)
{
	u32 cc = readl(ctrl->bar + NVME_REG_CC);
	int err;

	if (cc == ~0U)
		return -ENODEV;
	if (shutdown && (cc & NVME_CC_ENABLE)) {
		cc = (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL;
		writel(cc, ctrl->bar + NVME_REG_CC);
		err = aios_wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT,
				     ctrl->shutdown_timeout, "shut down");
		if (err == -ENODEV)
			return err;
	}
	cc &= ~(NVME_CC_ENABLE | NVME_CC_SHN_MASK);
	writel(cc, ctrl->bar + NVME_REG_CC);
	err = aios_wait_csts(ctrl, NVME_CSTS_RDY, 0, ctrl->ready_timeout, "disable");
	if (!err && aios_fault_take(&aios_fault_disable)) {
		dev_err(ctrl->dev, "disable timed out (fault_disable)\n");
		err = -ETIMEDOUT;
	}
	return err;
}

/*
 * Before the commands a controller holds are ended or its rings freed, it
 * must have stopped writing to memory: one that does not disable loses
 * bus mastering instead, so that a hung controller cannot DMA into pages
 * that have been handed back.
 */
void aios_ctrl_stop_dma(struct aios_ctrl *ctrl, bool shutdown)
{
	int err = aios_ctrl_disable(ctrl, shutdown);

	if (!err)
		return;
	pci_clear_master(ctrl->pdev);
	if (err != -ENODEV)
		dev_err(ctrl->dev, "controller did not disable: bus mastering turned off\n");
}

int aios_ctrl_enable(struct aios_ctrl *ctrl)
{
	struct aios_queue *aq = &ctrl->admin;
	u32 aqa = (aq->depth - 1) | ((aq->depth - 1) << 16);
	u32 cc;
	int err;

	aios_queue_reset_rings(aq);
	writel(aqa, ctrl->bar + NVME_REG_AQA);
	lo_hi_writeq(aq->sq_dma, ctrl->bar + NVME_REG_ASQ);
	lo_hi_writeq(aq->cq_dma, ctrl->bar + NVME_REG_ACQ);
	/* 4 KiB controller pages (MPS 0), NVM command set, 64/16-byte entries. */
	cc = NVME_CC_ENABLE | NVME_CC_CSS_NVM | (0 << NVME_CC_MPS_SHIFT) | NVME_CC_AMS_RR |
	     NVME_CC_SHN_NONE | NVME_CC_IOSQES | NVME_CC_IOCQES;
	writel(cc, ctrl->bar + NVME_REG_CC);
	err = aios_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->ready_timeout,
			     "become ready");
	if (err)
		return err;
	if (readl(ctrl->bar + NVME_REG_CSTS) & NVME_CSTS_CFS) {
		dev_err(ctrl->dev, "controller fatal status right after enable\n");
		return -EIO;
	}
	aq->live = true;
	return 0;
}

struct aios_sync_wait {
	bool done;
	u16 status;
	u64 result;
};

static void aios_sync_done(struct aios_queue *q, struct aios_slot *slot, u16 status, u64 result)
{
	struct aios_sync_wait *w = slot->owner;

	aios_slot_unmap(q, slot);
	w->status = status;
	w->result = result;
	aios_slot_put(q, slot);
	/* Publishes status and result to the waiter's smp_load_acquire(). */
	smp_store_release(&w->done, true);
}

static bool aios_sync_is_done(struct aios_sync_wait *w)
{
	/* Acquires status and result, published by aios_sync_done(). */
	return smp_load_acquire(&w->done);
}

static int aios_status_errno(u16 status)
{
	switch (AIOS_STATUS_CODE(status)) {
	case 0:
		return 0;
	case NVME_SC_INVALID_OPCODE:
	case NVME_SC_INVALID_FIELD:
	case NVME_SC_INVALID_NS:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* The opcode's data direction bits (spec 5): 01b to the controller, 10b from it. */
static enum dma_data_direction aios_opcode_dir(u8 opcode)
{
	switch (opcode & 3) {
	case 1:
		return DMA_TO_DEVICE;
	case 2:
		return DMA_FROM_DEVICE;
	default:
		return DMA_BIDIRECTIONAL;
	}
}

/* Maps a kmalloc'ed or vmalloc'ed buffer page by page, so that every PRP rule holds. */
static int aios_buf_map(struct aios_queue *q, struct aios_slot *slot, void *buf,
			unsigned int len, enum dma_data_direction dir)
{
	int err = 0;

	aios_prp_start(slot, dir);
	while (len && !err) {
		unsigned int off = offset_in_page(buf);
		unsigned int chunk = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page = is_vmalloc_addr(buf) ? vmalloc_to_page(buf) : virt_to_page(buf);

		err = aios_prp_add(q, slot, page, off, chunk);
		buf += chunk;
		len -= chunk;
	}
	aios_prp_finish(slot);
	return err;
}

/*
 * Runs one command on @q and waits for it, polling the queue (the admin
 * queue has no interrupt; on an I/O queue the interrupt may end it first).
 * @buf is the data buffer, read or written as the opcode's low bits say
 * (both ways for 11b, and for 00b where a vendor's command has data).
 * Returns a negative errno when the command did not run to completion,
 * else 0 with the NVMe status in *status and dword 0 in *result.  Admin
 * callers hold admin_lock.
 *
 * Past @timeout the controller is reset, which ends the command as
 * aborted (-ETIMEDOUT here); with no reset possible (probe, teardown, or
 * the reset's own command) the controller is failed, which cancels the
 * command.  A reset for a caller who chose to wait less than the driver
 * itself would is not held against the controller: such timeouts say
 * nothing of its health, and a passthrough user may choose 1 ms.  An admin
 * command refused because a reset is under way returns -EAGAIN, nothing
 * sent.
 */
int aios_sync_cmd(struct aios_ctrl *ctrl, struct aios_queue *q, struct nvme_command *cmd,
		  void *buf, unsigned int len, unsigned long timeout, u16 *status, u64 *result)
{
	struct aios_sync_wait w = { };
	struct aios_slot *slot;
	unsigned long deadline;
	bool timed_out = false;
	int err;

	if (!q->live)
		return -ENODEV;
	slot = aios_slot_get(q, true);
	if (!slot)
		return -ENODEV;
	slot->cmd = *cmd;
	slot->done = aios_sync_done;
	slot->owner = &w;
	/* As nvme.ko's passthrough: a reset ends it, the caller decides what next. */
	slot->no_resend = 1;
	if (buf && len) {
		err = aios_buf_map(q, slot, buf, len, aios_opcode_dir(cmd->common.opcode));
		if (err) {
			aios_slot_unmap(q, slot);
			aios_slot_put(q, slot);
			return err;
		}
	}
	if (!aios_queue_submit(q, slot)) {
		aios_slot_unmap(q, slot);
		aios_slot_put(q, slot);
		return READ_ONCE(ctrl->dead) ? -ENODEV : -EAGAIN;
	}

	deadline = jiffies + timeout;
	while (!aios_sync_is_done(&w)) {
		aios_queue_reap(q);
		if (aios_sync_is_done(&w))
			break;
		if (time_after(jiffies, deadline)) {
			timed_out = true;
			if (!aios_ctrl_reset(ctrl, "a synchronous command timed out",
					     timeout >= aios_own_timeout(q))) {
				/* Failing the controller cancelled the command: w is ours again. */
				WARN_ON_ONCE(!aios_sync_is_done(&w));
				return -ETIMEDOUT;
			}
			deadline = jiffies + timeout;
		}
		usleep_range(20, 100);
	}
	*status = w.status;
	*result = w.result;
	if (AIOS_STATUS_CODE(w.status) == NVME_SC_HOST_ABORTED_CMD)
		return timed_out ? -ETIMEDOUT : -ECANCELED;
	return 0;
}

/*
 * admin_lock for passthrough callers: they wait for a reset to end
 * first, since it needs the admin queue for itself.
 */
int aios_admin_lock(struct aios_ctrl *ctrl)
{
	int err = wait_event_killable(ctrl->reset_wait, !READ_ONCE(ctrl->resetting));

	if (err)
		return err;
	mutex_lock(&ctrl->admin_lock);
	return 0;
}

/*
 * The driver's own admin commands.  Returns 0 or a negative errno; a
 * command the controller failed is logged with its status.
 */
int aios_admin_sync(struct aios_ctrl *ctrl, struct nvme_command *cmd, void *buf,
		    unsigned int len, u32 *result)
{
	u16 status = 0;
	u64 res = 0;
	int err;

	mutex_lock(&ctrl->admin_lock);
	err = aios_sync_cmd(ctrl, &ctrl->admin, cmd, buf, len, AIOS_ADMIN_TIMEOUT, &status, &res);
	mutex_unlock(&ctrl->admin_lock);
	if (err)
		return err;
	if (result)
		*result = (u32)res;
	err = aios_status_errno(status);
	if (err)
		dev_err(ctrl->dev, "admin command %#x failed: status %#x\n",
			cmd->common.opcode, status);
	return err;
}

static void aios_copy_id_string(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	strim(dst);
}

/*
 * A shutdown may take as long as the controller says it needs to enter
 * its lowest power state (RTD3E, microseconds), which can be far more
 * than CAP.TO; waiting less cuts its cache flush short.  At most a
 * minute, so that a controller that never finishes cannot hold up
 * reboot.
 */
static void aios_ctrl_set_shutdown_timeout(struct aios_ctrl *ctrl, u32 rtd3e_us)
{
	unsigned int secs = rtd3e_us / 1000000U + !!(rtd3e_us % 1000000U);
	unsigned long rtd3e = (unsigned long)secs * HZ;

	ctrl->shutdown_timeout = min_t(unsigned long, max(ctrl->ready_timeout, rtd3e),
				       AIOS_SHUTDOWN_MAX);
	if (rtd3e > AIOS_SHUTDOWN_MAX)
		dev_info(ctrl->dev, "shutdown needs up to %u s (RTD3E); waiting %u s at most\n",
			 secs, AIOS_SHUTDOWN_MAX / HZ);
}

int aios_ctrl_identify(struct aios_ctrl *ctrl)
{
	struct nvme_command cmd = { };
	struct nvme_id_ctrl *id;
	u32 mps_min = 1U << (12 + NVME_CAP_MPSMIN(ctrl->cap));
	size_t dma_max;
	int err;

	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	cmd.identify.opcode = nvme_admin_identify;
	cmd.identify.cns = NVME_ID_CNS_CTRL;
	err = aios_admin_sync(ctrl, &cmd, id, sizeof(*id), NULL);
	if (err) {
		dev_err(ctrl->dev, "Identify Controller failed: %d\n", err);
		goto out;
	}
	aios_copy_id_string(ctrl->serial, id->sn, sizeof(id->sn));
	aios_copy_id_string(ctrl->model, id->mn, sizeof(id->mn));
	aios_copy_id_string(ctrl->firmware, id->fr, sizeof(id->fr));
	ctrl->max_xfer = AIOS_MAX_XFER;
	if (id->mdts && id->mdts < 20)
		ctrl->max_xfer = min_t(u32, ctrl->max_xfer, mps_min << id->mdts);
	/* A bounce-buffered (swiotlb) mapping has a size limit of its own. */
	dma_max = max_t(size_t, dma_max_mapping_size(ctrl->dev) & PAGE_MASK, PAGE_SIZE);
	ctrl->max_xfer = min_t(size_t, ctrl->max_xfer, dma_max);
	ctrl->nn = le32_to_cpu(id->nn);
	ctrl->oncs = le16_to_cpu(id->oncs);
	ctrl->vwc = id->vwc & 1;
	aios_ctrl_set_shutdown_timeout(ctrl, le32_to_cpu(id->rtd3e));
	aios_ctrl_init_fence(ctrl, id->lpa & NVME_CTRL_LPA_CMD_EFFECTS_LOG);
	dev_info(ctrl->dev, "%s, serial %s, firmware %s, max transfer %u KiB%s\n",
		 ctrl->model, ctrl->serial, ctrl->firmware, ctrl->max_xfer >> 10,
		 ctrl->vwc ? ", volatile write cache" : "");
out:
	kfree(id);
	return err;
}

/* Asks for @want I/O queue pairs; returns how many the controller grants. */
static int aios_set_queue_count(struct aios_ctrl *ctrl, int want)
{
	struct nvme_command cmd = { };
	u32 result;
	int err;

	cmd.features.opcode = nvme_admin_set_features;
	cmd.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	cmd.features.dword11 = cpu_to_le32((want - 1) | ((want - 1) << 16));
	err = aios_admin_sync(ctrl, &cmd, NULL, 0, &result);
	if (err)
		return err;
	return min(result & 0xffff, result >> 16) + 1;
}

static int aios_create_queue_pair(struct aios_ctrl *ctrl, struct aios_queue *q)
{
	struct nvme_command cmd = { };
	int err;

	cmd.create_cq.opcode = nvme_admin_create_cq;
	cmd.create_cq.prp1 = cpu_to_le64(q->cq_dma);
	cmd.create_cq.cqid = cpu_to_le16(q->qid);
	cmd.create_cq.qsize = cpu_to_le16(q->depth - 1);
	cmd.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG |
					     (q->polled ? 0 : NVME_CQ_IRQ_ENABLED));
	cmd.create_cq.irq_vector = cpu_to_le16(q->vector);
	err = aios_admin_sync(ctrl, &cmd, NULL, 0, NULL);
	if (err)
		return err;

	memset(&cmd, 0, sizeof(cmd));
	cmd.create_sq.opcode = nvme_admin_create_sq;
	cmd.create_sq.prp1 = cpu_to_le64(q->sq_dma);
	cmd.create_sq.sqid = cpu_to_le16(q->qid);
	cmd.create_sq.qsize = cpu_to_le16(q->depth - 1);
	cmd.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG | NVME_SQ_PRIO_MEDIUM);
	cmd.create_sq.cqid = cpu_to_le16(q->qid);
	err = aios_admin_sync(ctrl, &cmd, NULL, 0, NULL);
	if (err)
		goto delete_cq;
	q->live = true;
	return 0;

delete_cq:
	memset(&cmd, 0, sizeof(cmd));
	cmd.delete_queue.opcode = nvme_admin_delete_cq;
	cmd.delete_queue.qid = cpu_to_le16(q->qid);
	aios_admin_sync(ctrl, &cmd, NULL, 0, NULL);
	return err;
}

static void aios_delete_queue_pair(struct aios_ctrl *ctrl, struct aios_queue *q)
{
	struct nvme_command cmd = { };

	if (!q->live)
		return;
	q->live = false;
	cmd.delete_queue.opcode = nvme_admin_delete_sq;
	cmd.delete_queue.qid = cpu_to_le16(q->qid);
	aios_admin_sync(ctrl, &cmd, NULL, 0, NULL);
	cmd.delete_queue.opcode = nvme_admin_delete_cq;
	aios_admin_sync(ctrl, &cmd, NULL, 0, NULL);
}

/*
 * Every CPU submits to one interrupt-driven queue, and that queue's
 * interrupt is steered to the CPUs that submit to it, so that a completion
 * lands where its command was issued.
 *
 * The vectors are not "managed" (no PCI_IRQ_AFFINITY): when every CPU of a
 * managed vector goes offline the kernel shuts the vector down, and a
 * command still in flight on its queue would never complete.  blk-mq
 * drains a hardware queue before that happens, but here a command is tied
 * to its queue by its slot (slot = command id), so draining would mean
 * stopping submitters, re-routing them and waiting, in the hotplug path.
 * A vector that is not managed is simply moved by the IRQ core to a CPU
 * that stays online: what is in flight completes there, submissions from
 * the remaining CPUs go to their own queues, which all stay live, and
 * nothing has to drain.  The price is that the IRQ core (or irqbalance)
 * may move our vectors; we set the affinity (and a hint) here, and restore
 * it when a CPU comes back (aios_cpu_online).
 */
static void aios_map_cpus(struct aios_ctrl *ctrl)
{
	unsigned int cpu;
	int i;

	for_each_possible_cpu(cpu) {
		ctrl->cpu_to_queue[cpu] = cpu % ctrl->nr_io;
		cpumask_set_cpu(cpu, ctrl->ioq[cpu % ctrl->nr_io].cpus);
	}
	if (ctrl->nr_vectors < 2)
		return;
	/* Best effort: a mask whose CPUs are all offline is set once one comes up. */
	for (i = 0; i < ctrl->nr_io; i++)
		irq_set_affinity_and_hint(pci_irq_vector(ctrl->pdev, ctrl->ioq[i].vector),
					  ctrl->ioq[i].cpus);
}

/* Steers back to @cpu the vectors that lost it when it went offline. */
int aios_cpu_online(unsigned int cpu, struct hlist_node *node)
{
	struct aios_ctrl *ctrl = hlist_entry_safe(node, struct aios_ctrl, cpuhp_node);
	int i;

	if (ctrl->nr_vectors < 2)
		return 0;
	for (i = 0; i < ctrl->nr_io; i++) {
		struct aios_queue *q = &ctrl->ioq[i];

		if (q->has_irq && cpumask_test_cpu(cpu, q->cpus))
			irq_set_affinity(pci_irq_vector(ctrl->pdev, q->vector), q->cpus);
	}
	return 0;
}

static int aios_start_queue(struct aios_ctrl *ctrl, struct aios_queue *q)
{
	int err;

	err = aios_queue_alloc(q);
	if (err)
		return err;
	err = aios_create_queue_pair(ctrl, q);
	if (err) {
		dev_err(ctrl->dev, "cannot create I/O queue %u: %d\n", q->qid, err);
		return err;
	}
	if (q->polled)
		return 0;
	err = aios_fault_queue(q->qid, false) ? -EBUSY :
	      request_irq(pci_irq_vector(ctrl->pdev, q->vector), aios_queue_irq, 0, "aiosnvme", q);
	if (err) {
		aios_delete_queue_pair(ctrl, q);
		dev_err(ctrl->dev, "cannot get the interrupt of queue %u: %d\n", q->qid, err);
		return err;
	}
	q->has_irq = true;
	return 0;
}

/* The module parameter, within what the controller (CAP.MQES) and we allow. */
static u16 aios_io_queue_depth(struct aios_ctrl *ctrl)
{
	u32 depth = clamp_t(u32, aios_io_depth, 2, NVME_CAP_MQES(ctrl->cap) + 1);

	if (depth > AIOS_MAX_IO_DEPTH)
		depth = AIOS_MAX_IO_DEPTH;
	if (depth != aios_io_depth)
		dev_info(ctrl->dev, "io_queue_depth=%u: using %u (controller's maximum %llu, ours %u)\n",
			 aios_io_depth, depth, NVME_CAP_MQES(ctrl->cap) + 1, AIOS_MAX_IO_DEPTH);
	return depth;
}

/*
 * Sizes and initialises every queue before allocating any, so that
 * teardown after a failure at any queue finds each one in a known state.
 */
static int aios_ctrl_alloc_io_queues(struct aios_ctrl *ctrl)
{
	int i;

	ctrl->io_depth = aios_io_queue_depth(ctrl);
	ctrl->ioq = kcalloc(ctrl->nr_queues, sizeof(*ctrl->ioq), GFP_KERNEL);
	if (!ctrl->ioq)
		return -ENOMEM;
	for (i = 0; i < ctrl->nr_queues; i++) {
		struct aios_queue *q = &ctrl->ioq[i];

		aios_queue_init(ctrl, q, ctrl->io_depth);
		q->qid = i + 1;
		q->polled = i >= ctrl->nr_io;
		q->vector = ctrl->nr_vectors > 1 && !q->polled ? i + 1 : 0;
	}
	ctrl->cpu_to_queue = kcalloc(nr_cpu_ids, sizeof(*ctrl->cpu_to_queue), GFP_KERNEL);
	if (!ctrl->cpu_to_queue)
		return -ENOMEM;
	for (i = 0; i < ctrl->nr_queues; i++)
		if (!zalloc_cpumask_var(&ctrl->ioq[i].cpus, GFP_KERNEL))
			return -ENOMEM;
	return 0;
}

int aios_ctrl_setup_io_queues(struct aios_ctrl *ctrl)
{
	int want_irq, granted, i, err;

	/* Vector 0 stays with the (polled) admin queue when there are more. */
	want_irq = ctrl->nr_vectors > 1 ? ctrl->nr_vectors - 1 : 1;
	granted = aios_set_queue_count(ctrl, want_irq + aios_poll_queues);
	if (granted < 0) {
		dev_err(ctrl->dev, "Set Features (Number of Queues) failed: %d\n", granted);
		return granted;
	}
	/* Interrupt-driven queues first; poll queues get what is left. */
	ctrl->nr_io = min(want_irq, granted);
	ctrl->nr_poll = min_t(int, aios_poll_queues, granted - ctrl->nr_io);
	ctrl->nr_queues = ctrl->nr_io + ctrl->nr_poll;
	err = aios_ctrl_alloc_io_queues(ctrl);
	if (err)
		return err;
	for (i = 0; i < ctrl->nr_queues; i++) {
		err = aios_start_queue(ctrl, &ctrl->ioq[i]);
		if (err)
			return err;
	}
	aios_map_cpus(ctrl);
	dev_info(ctrl->dev, "%d I/O queue pairs and %d poll queues of depth %u, %d interrupt vectors\n",
		 ctrl->nr_io, ctrl->nr_poll, ctrl->io_depth, ctrl->nr_vectors);
	return 0;
}

/*
 * Frees the I/O queues' interrupts; the queues themselves go with the
 * controller's disable, and their memory once nothing can DMA into it.
 */
void aios_ctrl_free_irqs(struct aios_ctrl *ctrl)
{
	int i;

	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++) {
		struct aios_queue *q = &ctrl->ioq[i];

		if (q->has_irq) {
			/* free_irq() wants no affinity hint left pointing at q->cpus. */
			irq_update_affinity_hint(pci_irq_vector(ctrl->pdev, q->vector), NULL);
			free_irq(pci_irq_vector(ctrl->pdev, q->vector), q);
		}
		q->has_irq = false;
	}
}

void aios_ctrl_mark_dead(struct aios_ctrl *ctrl)
{
	int i;

	WRITE_ONCE(ctrl->dead, true);
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++)
		wake_up_all(&ctrl->ioq[i].slot_wait);
	wake_up_all(&ctrl->admin.slot_wait);
	wake_up_all(&ctrl->reset_wait);
}

/*
 * The controller vanished, failed to come back from a reset or needs too
 * many of them, or a command timed out where no reset is possible: stop
 * it, so that it can no longer DMA, and end everything it had with an
 * error.  The disks stay until the controller is unbound; all their I/O
 * fails meanwhile.  Also run by a synchronous waiter whose command timed
 * out while teardown is under way: the cancel must happen before that
 * waiter may return, and ending a command twice cannot happen.
 */
void aios_ctrl_fail(struct aios_ctrl *ctrl, const char *why)
{
	int i;

	if (!xchg(&ctrl->dead, true))
		dev_err(ctrl->dev, "%s: controller disabled, its I/O fails from now on; rebind it (aios-bind --reset, then aios-bind) to use it again\n",
			why);
	spin_lock(&ctrl->reset_lock);
	ctrl->can_reset = false;
	WRITE_ONCE(ctrl->resetting, false);
	spin_unlock(&ctrl->reset_lock);
	aios_ctrl_mark_dead(ctrl);
	/* After dead: a submitter that finds its queue stopped cancels its own command. */
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++)
		aios_queue_stop(&ctrl->ioq[i]);
	aios_queue_stop(&ctrl->admin);
	aios_ctrl_stop_dma(ctrl, false);
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++) {
		if (ctrl->ioq[i].has_irq)
			synchronize_irq(pci_irq_vector(ctrl->pdev, ctrl->ioq[i].vector));
		aios_queue_cancel_all(&ctrl->ioq[i]);
	}
	aios_queue_cancel_all(&ctrl->admin);
}

#define AIOS_TOO_MANY_RESETS \
	"more than " __stringify(AIOS_RESET_BURST) " controller resets within " \
	__stringify(AIOS_RESET_WINDOW_S) " s"

/*
 * A command timed out, or the controller reported a fatal status: asks for
 * a reset.  Returns true when one is now under way (perhaps asked for by
 * someone else already), which will end or resend every command; false
 * when the controller was failed instead, which has ended them all.
 * Unless @counted is false, the reset counts towards the budget beyond
 * which the controller is failed instead.  Process context.
 */
bool aios_ctrl_reset(struct aios_ctrl *ctrl, const char *why, bool counted)
{
	unsigned long now = jiffies;
	unsigned int slot;

	/* A command of the reset itself timed out: the controller does not come back. */
	if (current_work() == &ctrl->reset_work)
		goto fail;
	spin_lock(&ctrl->reset_lock);
	/* Even once teardown forbids new resets, it lets this one finish. */
	if (ctrl->resetting) {
		spin_unlock(&ctrl->reset_lock);
		return true;
	}
	if (!ctrl->can_reset) {
		spin_unlock(&ctrl->reset_lock);
		goto fail;
	}
	if (!counted)
		goto start;
	/* reset_times[slot] is when the reset AIOS_RESET_BURST resets ago began. */
	slot = ctrl->nr_resets % AIOS_RESET_BURST;
	if (ctrl->nr_resets >= AIOS_RESET_BURST &&
	    time_before(now, ctrl->reset_times[slot] + AIOS_RESET_WINDOW_S * HZ)) {
		spin_unlock(&ctrl->reset_lock);
		dev_err(ctrl->dev, "%s: no further reset\n", why);
		why = AIOS_TOO_MANY_RESETS;
		goto fail;
	}
	ctrl->reset_times[slot] = now;
	ctrl->nr_resets++;
start:
	ctrl->reset_why = why;
	WRITE_ONCE(ctrl->resetting, true);
	queue_work(aios_reset_wq, &ctrl->reset_work);
	spin_unlock(&ctrl->reset_lock);
	return true;

fail:
	aios_ctrl_fail(ctrl, why);
	return false;
}

/*
 * For unbind, remove and shutdown: no reset from now on (a timeout fails
 * the controller instead), and one under way or queued runs to its end
 * first, so that what it resends can still complete during teardown.
 */
void aios_ctrl_stop_resets(struct aios_ctrl *ctrl)
{
	spin_lock(&ctrl->reset_lock);
	ctrl->can_reset = false;
	spin_unlock(&ctrl->reset_lock);
	flush_work(&ctrl->reset_work);
}

/* The I/O queues again, with the same ids, sizes, vectors and memory. */
static int aios_recreate_io_queues(struct aios_ctrl *ctrl)
{
	int granted, i, err;

	granted = aios_set_queue_count(ctrl, ctrl->nr_queues);
	if (granted < 0)
		return granted;
	if (granted < ctrl->nr_queues) {
		dev_err(ctrl->dev, "only %d I/O queues granted after a reset, %d needed\n",
			granted, ctrl->nr_queues);
		return -EIO;
	}
	for (i = 0; i < ctrl->nr_queues; i++) {
		err = aios_create_queue_pair(ctrl, &ctrl->ioq[i]);
		if (err) {
			dev_err(ctrl->dev, "cannot create I/O queue %u again: %d\n",
				ctrl->ioq[i].qid, err);
			return err;
		}
	}
	return 0;
}

/*
 * No ring takes anything new, and the controller forgets its queues (shut
 * down first with @shutdown): what it completed is ended, the rest is
 * left active for aios_ctrl_restart() to send again.  With @frozen (its
 * link is down) the controller is not touched: only the rings stop, to be
 * quiesced again once the link is back.
 */
static int aios_ctrl_quiesce(struct aios_ctrl *ctrl, bool frozen, bool shutdown)
{
	int i, err;

	for (i = 0; i < ctrl->nr_queues; i++)
		aios_queue_stop(&ctrl->ioq[i]);
	aios_queue_stop(&ctrl->admin);
	if (frozen)
		return 0;
	err = aios_ctrl_disable(ctrl, shutdown);
	if (err)
		return err;
	/* It no longer writes anything: end what it completed, empty the rings. */
	for (i = 0; i < ctrl->nr_queues; i++)
		aios_queue_drain_rings(&ctrl->ioq[i]);
	/* An admin command in flight ends as aborted; its waiter drops admin_lock. */
	aios_queue_reap(&ctrl->admin);
	aios_queue_cancel_all(&ctrl->admin);
	return 0;
}

/*
 * A quiesced controller enabled again with the same queues, every command
 * left active sent again (*sent) or given up (*failed), and the reset's
 * waiters let go.
 */
static int aios_ctrl_restart(struct aios_ctrl *ctrl, int *sent, int *failed)
{
	int i, err;

	mutex_lock(&ctrl->admin_lock);
	err = READ_ONCE(ctrl->dead) ? -ENODEV : aios_ctrl_enable(ctrl);
	if (!err)
		aios_queue_start(&ctrl->admin);
	mutex_unlock(&ctrl->admin_lock);
	if (!err)
		err = aios_recreate_io_queues(ctrl);
	if (err)
		return err;
	for (i = 0; i < ctrl->nr_queues; i++)
		*sent += aios_queue_restart(&ctrl->ioq[i], failed);
	spin_lock(&ctrl->reset_lock);
	WRITE_ONCE(ctrl->resetting, false);
	spin_unlock(&ctrl->reset_lock);
	wake_up_all(&ctrl->reset_wait);
	return 0;
}

/*
 * The reset.  Runs on a WQ_MEM_RECLAIM workqueue, allocating nothing,
 * since writeback may be waiting for the commands it resends.
 */
void aios_reset_work_fn(struct work_struct *work)
{
	struct aios_ctrl *ctrl = container_of(work, struct aios_ctrl, reset_work);
	const char *why = ctrl->reset_why;
	int err, sent = 0, failed = 0;

	err = aios_ctrl_quiesce(ctrl, false, false);
	if (!err)
		err = aios_ctrl_restart(ctrl, &sent, &failed);
	if (err) {
		dev_err(ctrl->dev, "reset after %s failed: %d\n", why, err);
		aios_ctrl_fail(ctrl, err == -ENODEV ? "controller gone during a reset" :
				     "controller does not come back from a reset");
		return;
	}
	dev_warn(ctrl->dev, "reset after %s: %d commands resubmitted, %d failed (passthrough, or timed out %d times)\n",
		 why, sent, failed, AIOS_MAX_RETRIES + 1);
}

/*
 * Holds the controller as a reset under way, which keeps the watchdog and
 * passthrough callers away and parks what is submitted meanwhile; a reset
 * already under way ends first.  False for a failed controller, which is
 * left as it is.
 */
static bool aios_ctrl_hold(struct aios_ctrl *ctrl)
{
	for (;;) {
		flush_work(&ctrl->reset_work);
		spin_lock(&ctrl->reset_lock);
		if (!ctrl->resetting)
			break;
		spin_unlock(&ctrl->reset_lock);
	}
	if (READ_ONCE(ctrl->dead)) {
		spin_unlock(&ctrl->reset_lock);
		return false;
	}
	WRITE_ONCE(ctrl->resetting, true);
	spin_unlock(&ctrl->reset_lock);
	return true;
}

/*
 * How long commands on the device get to complete before a shutdown for
 * suspend or a function reset, rather than be sent again after it.  A
 * controller disabled with commands in flight must abandon them; QEMU
 * 7.2's emulated one then sometimes ends a freed request and crashes
 * (nvme_rw_complete_cb).
 */
#define AIOS_SETTLE_MS	1000

/* Returns how many commands are still on the device when it gives up. */
static unsigned int aios_ctrl_settle(struct aios_ctrl *ctrl)
{
	unsigned long end = jiffies + msecs_to_jiffies(AIOS_SETTLE_MS);
	unsigned int left = 0;
	int i;

	for (i = 0; i < ctrl->nr_queues; i++)
		aios_queue_stop(&ctrl->ioq[i]);
	for (i = 0; i < ctrl->nr_queues; i++) {
		while (aios_queue_in_flight(&ctrl->ioq[i]) && time_before(jiffies, end))
			usleep_range(100, 200);
		left += aios_queue_in_flight(&ctrl->ioq[i]);
	}
	return left;
}

/*
 * System sleep: the controller gets its shutdown notification, as at
 * power-off, so that it flushes its cache and does not count an unsafe
 * shutdown.  What it has in flight completes first, since a controller
 * shut down with commands on it may drop them; those submitted meanwhile
 * (and any it did not complete in time) wait parked for the resume.
 */
void aios_ctrl_suspend(struct aios_ctrl *ctrl)
{
	unsigned int left;

	if (!aios_ctrl_hold(ctrl))
		return;
	ctrl->suspended = true;
	left = aios_ctrl_settle(ctrl);
	if (aios_ctrl_quiesce(ctrl, false, true)) {
		aios_ctrl_fail(ctrl, "controller did not shut down for suspend");
		return;
	}
	dev_info(ctrl->dev, "shut down for suspend, %u commands abandoned on it\n", left);
}

/* Back from system sleep: the controller's queues again, and what waited sent. */
void aios_ctrl_resume(struct aios_ctrl *ctrl)
{
	int err, sent = 0, failed = 0;

	if (!ctrl->suspended)
		return;
	ctrl->suspended = false;
	err = aios_ctrl_restart(ctrl, &sent, &failed);
	if (err) {
		dev_err(ctrl->dev, "resume failed: %d\n", err);
		aios_ctrl_fail(ctrl, "controller does not come back from suspend");
		return;
	}
	dev_info(ctrl->dev, "resumed: %d commands resubmitted, %d failed\n", sent, failed);
}

/*
 * The PCI core is about to reset the function (a reset asked for through
 * sysfs, or error recovery's link reset once the link froze):
 * the controller is disabled first while it still answers, once what it
 * has in flight completed, unless @frozen says its link is down and its
 * registers read as all ones; the commands it did not complete, and those
 * submitted meanwhile, wait parked for aios_ctrl_pci_done().
 */
void aios_ctrl_pci_prepare(struct aios_ctrl *ctrl, bool frozen)
{
	if (!aios_ctrl_hold(ctrl))
		return;
	ctrl->pci_held = true;
	if (!frozen)
		aios_ctrl_settle(ctrl);
	if (aios_ctrl_quiesce(ctrl, frozen, false))
		aios_ctrl_fail(ctrl, "controller did not stop for a PCI reset");
	else
		dev_warn(ctrl->dev, "%s: I/O waits for the function's reset\n",
			 frozen ? "PCI link frozen by an error" : "PCI function reset");
}

/*
 * The function has been reset and its config space restored: disabled
 * now whatever it was doing before (after a frozen link, what it had
 * completed by then is ended), enabled again, and what waited sent.
 */
void aios_ctrl_pci_done(struct aios_ctrl *ctrl)
{
	int err, sent = 0, failed = 0;

	if (!ctrl->pci_held)
		return;
	ctrl->pci_held = false;
	err = aios_ctrl_quiesce(ctrl, false, false);
	if (!err)
		err = aios_ctrl_restart(ctrl, &sent, &failed);
	if (err) {
		dev_err(ctrl->dev, "controller setup after a PCI reset failed: %d\n", err);
		aios_ctrl_fail(ctrl, "controller does not come back from a PCI reset");
		return;
	}
	dev_warn(ctrl->dev, "back from a PCI reset: %d commands resubmitted, %d failed\n",
		 sent, failed);
}

/*
 * Once a second: a command past its deadline, or a fatal controller
 * status, resets the controller; a controller that no longer answers, or
 * reports a fatal status again soon after a reset for one, is failed.
 * Watches the I/O queues only: admin waiters time out by themselves.
 */
/*
 * An expired command on a queue with an interrupt may have completed with
 * its interrupt lost: reaped here, it needs no reset.  Poll queues are
 * left to their pollers, the only ones who may end polled bios.
 */
static struct aios_slot *aios_queue_expired_unreaped(struct aios_queue *q)
{
	int found;

	if (!aios_queue_expired(q))
		return NULL;
	if (q->polled || !q->has_irq)
		return aios_queue_expired(q);
	found = aios_queue_reap(q);
	if (found)
		dev_warn(q->ctrl->dev, "queue %u: %d completions found past their deadline without an interrupt\n",
			 q->qid, found);
	return aios_queue_expired(q);
}

void aios_watchdog_fn(struct work_struct *work)
{
	struct aios_ctrl *ctrl = container_of(to_delayed_work(work), struct aios_ctrl, watchdog);
	struct aios_slot *slot = NULL;
	u32 csts;
	int i;

	if (READ_ONCE(ctrl->dead))
		return;
	/*
	 * The reset sends every command again, with fresh deadlines; PCI
	 * error recovery, under way before it tells us, resets the link.
	 */
	if (READ_ONCE(ctrl->resetting) || pci_channel_offline(ctrl->pdev))
		goto again;
	csts = readl(ctrl->bar + NVME_REG_CSTS);
	if (csts == ~0U) {
		aios_ctrl_fail(ctrl, "controller no longer answers");
		return;
	}
	if (csts & NVME_CSTS_CFS) {
		if (ctrl->last_fatal &&
		    time_before(jiffies, ctrl->last_fatal + AIOS_RESET_WINDOW_S * HZ)) {
			aios_ctrl_fail(ctrl, "fatal status again soon after a reset");
			return;
		}
		ctrl->last_fatal = jiffies | 1;
		aios_ctrl_reset(ctrl, "controller fatal status", true);
		goto again;
	}
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues && !slot; i++) {
		slot = aios_queue_expired_unreaped(&ctrl->ioq[i]);
		if (slot) {
			dev_warn(ctrl->dev, "queue %u: command %u (opcode %#x) took more than %u s\n",
				 ctrl->ioq[i].qid, aios_slot_cid(&ctrl->ioq[i], slot),
				 slot->cmd.common.opcode, aios_io_timeout);
			aios_ctrl_reset(ctrl, "I/O timeout", true);
		}
	}
again:
	if (!READ_ONCE(ctrl->dead))
		schedule_delayed_work(&ctrl->watchdog, HZ);
}
