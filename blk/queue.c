// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme queue pairs: rings, command slots, doorbells and the reaping of
 * completions, from the interrupt or from a poller.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/slab.h>
#include "aiosnvme.h"

/* How many completions one pass copies out before ending them unlocked. */
#define AIOS_REAP_BATCH		32

static u32 __iomem *aios_doorbell(struct aios_ctrl *ctrl, u16 qid, bool cq)
{
	return ctrl->bar + NVME_REG_DBS + (2 * qid + cq) * ctrl->db_stride;
}

/*
 * What teardown needs of every queue, set before any queue is allocated:
 * a probe that fails partway wakes, cancels and frees them all.
 */
void aios_queue_init(struct aios_ctrl *ctrl, struct aios_queue *q, u16 depth)
{
	q->ctrl = ctrl;
	q->depth = depth;
	spin_lock_init(&q->sq_lock);
	spin_lock_init(&q->cq_lock);
	init_waitqueue_head(&q->slot_wait);
	atomic_set(&q->inflight, 0);
}

/* PRP lists come in pages: no allocation of more than one page's order. */
#define AIOS_PRP_LISTS_PER_PAGE	(PAGE_SIZE / AIOS_PRP_LIST_BYTES)

static unsigned int aios_prp_nr_pages(const struct aios_queue *q)
{
	return DIV_ROUND_UP(q->depth - 1, AIOS_PRP_LISTS_PER_PAGE);
}

static int aios_prp_alloc(struct aios_queue *q)
{
	unsigned int i, nr = aios_prp_nr_pages(q);

	q->prp_pages = kvcalloc(nr, sizeof(*q->prp_pages), GFP_KERNEL);
	if (!q->prp_pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		q->prp_pages[i].cpu = dma_alloc_coherent(q->ctrl->dev, PAGE_SIZE,
							 &q->prp_pages[i].dma, GFP_KERNEL);
		if (!q->prp_pages[i].cpu)
			return -ENOMEM;
	}
	return 0;
}

static void aios_prp_free(struct aios_queue *q)
{
	unsigned int i, nr = aios_prp_nr_pages(q);

	for (i = 0; q->prp_pages && i < nr; i++)
		if (q->prp_pages[i].cpu)
			dma_free_coherent(q->ctrl->dev, PAGE_SIZE, q->prp_pages[i].cpu,
					  q->prp_pages[i].dma);
	kvfree(q->prp_pages);
	q->prp_pages = NULL;
}

/* Allocates the rings and slots of @q, set up by aios_queue_init(). */
int aios_queue_alloc(struct aios_queue *q)
{
	struct device *dev = q->ctrl->dev;
	unsigned int nr_slots = q->depth - 1, i;

	q->sqes = dma_alloc_coherent(dev, q->depth * sizeof(*q->sqes), &q->sq_dma, GFP_KERNEL);
	q->cqes = dma_alloc_coherent(dev, q->depth * sizeof(*q->cqes), &q->cq_dma, GFP_KERNEL);
	/* Per-slot arrays outgrow kmalloc's limit at large depths. */
	q->slots = kvcalloc(nr_slots, sizeof(*q->slots), GFP_KERNEL);
	q->seg_pool = kvcalloc(nr_slots * AIOS_MAX_SEGS, sizeof(*q->seg_pool), GFP_KERNEL);
	q->slot_map = bitmap_zalloc(nr_slots, GFP_KERNEL);
	q->active_map = bitmap_zalloc(nr_slots, GFP_KERNEL);
	if (!q->sqes || !q->cqes || !q->slots || !q->seg_pool || !q->slot_map ||
	    !q->active_map || aios_prp_alloc(q) || aios_fault_queue(q->qid, true)) {
		aios_queue_free(q);
		dev_err(dev, "no memory for queue %u of depth %u\n", q->qid, q->depth);
		return -ENOMEM;
	}
	/* 1 KiB per slot keeps every PRP list inside one 4 KiB page. */
	for (i = 0; i < nr_slots; i++) {
		struct aios_prp_page *pg = &q->prp_pages[i / AIOS_PRP_LISTS_PER_PAGE];
		unsigned int off = (i % AIOS_PRP_LISTS_PER_PAGE) * AIOS_PRP_LIST_BYTES;

		q->slots[i].prp_list = pg->cpu + off;
		q->slots[i].prp_dma = pg->dma + off;
		q->slots[i].segs = q->seg_pool + i * AIOS_MAX_SEGS;
	}
	q->sq_db = aios_doorbell(q->ctrl, q->qid, false);
	q->cq_db = aios_doorbell(q->ctrl, q->qid, true);
	aios_queue_reset_rings(q);
	return 0;
}

void aios_queue_free(struct aios_queue *q)
{
	struct device *dev = q->ctrl->dev;

	if (q->sqes)
		dma_free_coherent(dev, q->depth * sizeof(*q->sqes), q->sqes, q->sq_dma);
	if (q->cqes)
		dma_free_coherent(dev, q->depth * sizeof(*q->cqes), q->cqes, q->cq_dma);
	aios_prp_free(q);
	kvfree(q->slots);
	kvfree(q->seg_pool);
	bitmap_free(q->slot_map);
	bitmap_free(q->active_map);
	q->sqes = NULL;
	q->cqes = NULL;
	q->slots = NULL;
	q->seg_pool = NULL;
	q->slot_map = NULL;
	q->active_map = NULL;
}

/* A freshly created queue starts at entry 0 with phase 1 (spec 4.6). */
void aios_queue_reset_rings(struct aios_queue *q)
{
	q->sq_tail = 0;
	q->cq_head = 0;
	q->cq_phase = 1;
	q->cq_unrung = 0;
	memset(q->cqes, 0, q->depth * sizeof(*q->cqes));
}

/*
 * On a queue without interrupt the CQ head doorbell is rung only every
 * AIOS_CQ_LAZY completions: each ring is a write to the controller's
 * registers, on the waiter's path, and under a hypervisor a costly exit.
 * So that the controller never finds the CQ full while entries wait to be
 * released, such a queue hands out that many fewer slots.
 */
#define AIOS_CQ_LAZY		16

static unsigned int aios_cq_lazy(const struct aios_queue *q)
{
	return q->polled && q->depth >= 4 * AIOS_CQ_LAZY ? AIOS_CQ_LAZY : 0;
}

static struct aios_slot *aios_slot_try_get(struct aios_queue *q)
{
	unsigned int nr_slots = q->depth - 1 - aios_cq_lazy(q), cid;
	unsigned long flags;

	spin_lock_irqsave(&q->sq_lock, flags);
	cid = find_first_zero_bit(q->slot_map, nr_slots);
	if (cid < nr_slots)
		__set_bit(cid, q->slot_map);
	spin_unlock_irqrestore(&q->sq_lock, flags);
	if (cid >= nr_slots)
		return NULL;
	atomic_inc(&q->inflight);
	return &q->slots[cid];
}

/*
 * A full queue makes the submitter wait for a slot rather than fail; a dead
 * controller wakes every waiter with no slot.
 */
struct aios_slot *aios_slot_get(struct aios_queue *q, bool can_wait)
{
	struct aios_slot *slot;

	if (unlikely(READ_ONCE(q->ctrl->dead)))
		return NULL;
	slot = aios_slot_try_get(q);
	if (slot || !can_wait)
		return slot;
	q->nr_slot_waits++;
	wait_event(q->slot_wait, (slot = aios_slot_try_get(q)) || READ_ONCE(q->ctrl->dead));
	if (slot && unlikely(READ_ONCE(q->ctrl->dead))) {
		aios_slot_put(q, slot);
		return NULL;
	}
	return slot;
}

void aios_slot_put(struct aios_queue *q, struct aios_slot *slot)
{
	unsigned long flags;

	slot->done = NULL;
	slot->owner = NULL;
	slot->chained = 0;
	slot->retries = 0;
	slot->no_resend = 0;
	slot->parked = 0;
	slot->acct = 0;
	slot->times_rtt = 0;
	WRITE_ONCE(slot->seq, slot->seq + 1);
	spin_lock_irqsave(&q->sq_lock, flags);
	WARN_ON_ONCE(!__test_and_clear_bit(aios_slot_cid(q, slot), q->slot_map));
	spin_unlock_irqrestore(&q->sq_lock, flags);
	atomic_dec(&q->inflight);
	if (wq_has_sleeper(&q->slot_wait))
		wake_up(&q->slot_wait);
}

/* Writes @cmd into the next ring entry under command id @cid; sq_lock held. */
static void aios_sq_write(struct aios_queue *q, u16 cid, const struct nvme_command *cmd)
{
	struct nvme_command *sqe = &q->sqes[q->sq_tail];

	memcpy(sqe, cmd, sizeof(*cmd));
	sqe->common.command_id = cid;
	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;
}

static void aios_end_slot(struct aios_queue *q, struct aios_slot *slot, u16 status, u64 result);

/*
 * Copies @cmd into the ring under the slot's command id and rings the
 * doorbell.  @cmd is usually &slot->cmd; a flush sent ahead of the slot's
 * own write passes its own.
 *
 * While a reset rebuilds the controller the queue is stopped: an I/O
 * command is then parked, active but not in the ring, and the reset sends
 * it with those it resends, so submitters neither fail nor block.  An
 * admin command is refused instead (returns false, nothing sent), since
 * the reset cancels rather than resends admin commands.
 */
bool aios_queue_submit_cmd(struct aios_queue *q, struct aios_slot *slot,
			   const struct nvme_command *cmd)
{
	u16 cid = aios_slot_cid(q, slot);
	unsigned long flags;

	slot->start_ns = ktime_get_ns();
	slot->deadline = jiffies + aios_own_timeout(q);
	spin_lock_irqsave(&q->sq_lock, flags);
	if (unlikely(q->stopped)) {
		if (!q->qid) {
			spin_unlock_irqrestore(&q->sq_lock, flags);
			return false;
		}
		slot->parked = 1;
		set_bit(cid, q->active_map);
		q->nr_submitted++;
		spin_unlock_irqrestore(&q->sq_lock, flags);
		/*
		 * aios_ctrl_fail() marks the controller dead before it stops
		 * the queue, then cancels what is active: if that already
		 * happened, nobody else ends this command.
		 */
		if (READ_ONCE(q->ctrl->dead) && test_and_clear_bit(cid, q->active_map))
			aios_end_slot(q, slot, NVME_SC_HOST_ABORTED_CMD | AIOS_STATUS_DNR, 0);
		return true;
	}
	/* Under sq_lock, so that a restarting reset sends each command once. */
	set_bit(cid, q->active_map);
	aios_sq_write(q, cid, cmd);
	/* writel orders the ring write above before the doorbell. */
	writel(q->sq_tail, q->sq_db);
	q->nr_submitted++;
	spin_unlock_irqrestore(&q->sq_lock, flags);
	return true;
}

struct aios_cqe_copy {
	u16 cid;
	u16 status;
	u64 result;
	bool claimed;
};

/*
 * Takes command @cid off the device: whoever clears its active bit ends
 * it, so the interrupt, a poller, a cancel and a reset never end one twice.
 */
static bool aios_claim(struct aios_queue *q, u16 cid)
{
	return cid < q->depth - 1 && test_and_clear_bit(cid, q->active_map);
}

/* Ends a claimed command, or sends the write a completed Flush was ahead of. */
static void aios_end_slot(struct aios_queue *q, struct aios_slot *slot, u16 status, u64 result)
{
	if (WARN_ON_ONCE(!slot->done))
		return;
	if (slot->chained) {
		/* The Flush ahead of a PREFLUSH write is done: now the write. */
		slot->chained = 0;
		if (!AIOS_STATUS_CODE(status) && !READ_ONCE(q->ctrl->dead)) {
			aios_queue_submit(q, slot);
			return;
		}
		/* The write itself never went out: never report it done. */
		if (!AIOS_STATUS_CODE(status))
			status = NVME_SC_HOST_ABORTED_CMD | AIOS_STATUS_DNR;
	}
	slot->done(q, slot, status, result);
}

/*
 * Sends a Flush in the slot's name; the data command stays in slot->cmd
 * and goes out when the Flush completes (aios_end_slot).  That is how a
 * PREFLUSH write is ordered, with no block-layer flush machinery.
 */
void aios_queue_submit_flush_first(struct aios_queue *q, struct aios_slot *slot, u32 nsid)
{
	struct nvme_command flush = { };

	aios_cmd_flush(&flush, nsid);
	slot->chained = 1;
	aios_queue_submit_cmd(q, slot, &flush);
}

static void aios_rtt_sample(struct aios_queue *q, u64 rtt)
{
	u64 old = READ_ONCE(q->rtt_ewma_ns);

	WRITE_ONCE(q->rtt_ewma_ns, old ? old - (old >> 3) + (rtt >> 3) : rtt);
}

/*
 * Folds a small command's round trip into the queue's EWMA (weight 1/8),
 * but not a flush's or a FUA write's (slot->times_rtt, cmd.c): they wait
 * for the media, and would turn spinning off for the reads.  Only where
 * an interrupt reaps it: on a queue without one, a command ends when
 * somebody polls, which says more about the poller than about the device;
 * its waiter samples the device instead.
 */
void aios_note_rtt(struct aios_queue *q, struct aios_slot *slot)
{
	if (q->has_irq && slot->times_rtt)
		aios_rtt_sample(q, ktime_get_ns() - slot->start_ns);
}

/*
 * How long a synchronous waiter may spin on this queue before it sleeps:
 * poll_max_us, unless the device has lately been far slower than that;
 * then one waiter in 16 still spins, so that the estimate notices when the
 * device is quick again.  The budget does not follow the round trip more
 * closely: under a hypervisor the device's latency jitters widely, and a
 * waiter that gives up a little early pays for a sleep and a wake-up, far
 * more than the spin it saved.
 */
static u64 aios_queue_spin_budget(struct aios_queue *q)
{
	u64 max = (u64)aios_poll_max_us * NSEC_PER_USEC;

	if (!max || !preemptible())
		return 0;
	if (READ_ONCE(q->rtt_ewma_ns) >= 4 * max)
		return (++q->spin_probe & 15) ? 0 : max;
	return max;
}

/*
 * How many waiters may spin at once: one per poll queue, and one where
 * there is none (a batch spins on its interrupt-driven queue).  Others
 * sleep until their interrupt.  Two spinners on one queue only take turns
 * at its lock; and under a hypervisor each spinning vCPU takes host CPU
 * time that the emulated device needs: on a 2-core host, two readers
 * that both spun were 15% slower than one spinning and one asleep.
 * Raising poll_queues lets more spin.
 */
static bool aios_queue_spin_room(struct aios_ctrl *ctrl)
{
	return atomic_read(&ctrl->nr_spinning) < max(ctrl->nr_poll, 1);
}

static bool aios_queue_spin_get(struct aios_ctrl *ctrl)
{
	if (atomic_inc_return(&ctrl->nr_spinning) <= max(ctrl->nr_poll, 1))
		return true;
	atomic_dec(&ctrl->nr_spinning);
	return false;
}

/* A racy look at the next completion entry's phase: reaping locks and looks again. */
static bool aios_queue_cqe_pending(struct aios_queue *q)
{
	u16 head = READ_ONCE(q->cq_head);

	return (le16_to_cpu(READ_ONCE(q->cqes[head].status)) & 1) == READ_ONCE(q->cq_phase);
}

/*
 * Reaps the queue until done(arg) or the budget runs out; the interrupt
 * may reap first, which ends the spin just as well.  No cpu_relax(): under
 * a hypervisor PAUSE exits to it (QEMU's TCG even takes its global lock),
 * slowing down the very device the spinner waits for.
 */
static void aios_queue_spin(struct aios_queue *q, u64 budget, bool (*done)(void *arg),
			    void *arg)
{
	u64 start = ktime_get_ns();

	while (!done(arg)) {
		if (aios_queue_cqe_pending(q))
			aios_queue_reap(q);
		if (done(arg) || need_resched() || ktime_get_ns() - start > budget)
			break;
	}
}

/*
 * Whether the submitter, who is about to wait for one command, should
 * rather poll for it on a queue without interrupt: only when nothing else
 * of its CPU is in flight and it is not batching, since spinning then
 * would serialise what the device could overlap, and when it may spin.
 */
bool aios_queue_may_poll(struct aios_queue *q)
{
	struct blk_plug *plug = current->plug;

	/* Since 6.8 __submit_bio() plugs itself: only a plug for several I/Os says batch. */
	return aios_poll_max_us && !(plug && plug->nr_ios > 1) && preemptible() &&
	       !atomic_read(&q->inflight) && aios_queue_spin_room(q->ctrl);
}

/*
 * Waits for done(arg) on @q, a command submitted at @start_ns, or 0 where
 * its round trip says nothing of a small read's (a flush, a FUA write, a
 * batch): it is then not sampled.  Spins while the device is quick.  On a queue
 * without interrupt nobody else ends the command, so the waiter then keeps
 * reaping between ever longer sleeps, until the command ends or the
 * controller dies (which cancels it).  Timeouts are the watchdog's: it
 * resets the controller, which resends the command to this same queue, or
 * fails the controller; either way the wait ends.
 */
void aios_queue_poll_wait(struct aios_queue *q, bool (*done)(void *arg), void *arg,
			  u64 start_ns)
{
	u64 budget = aios_queue_spin_budget(q);
	unsigned int delay;

	if (budget && aios_queue_spin_get(q->ctrl)) {
		/* The device may have finished while the submitter was busy. */
		bool late = aios_queue_cqe_pending(q);
		u64 rtt;

		aios_queue_spin(q, budget, done, arg);
		atomic_dec(&q->ctrl->nr_spinning);
		/*
		 * The time since submission: the device's round trip if the
		 * spin saw the command end, a lower bound of it if the budget
		 * ran out, an upper bound if its completion was already
		 * waiting.  An upper bound may only lower the estimate: else
		 * a submitter delayed after submitting (a page allocation can
		 * take milliseconds under emulation) would turn spinning off
		 * for a device that is as quick as ever.  The cap keeps one
		 * stall from doing the same.
		 */
		rtt = min(ktime_get_ns() - start_ns, 8 * budget);
		if (start_ns && !q->has_irq && (!late || rtt < READ_ONCE(q->rtt_ewma_ns)))
			aios_rtt_sample(q, rtt);
	}
	if (q->has_irq)
		return;
	delay = 10;
	while (!done(arg) && !READ_ONCE(q->ctrl->dead)) {
		usleep_range(delay, delay + delay / 4);
		aios_queue_reap(q);
		delay = min(delay * 2, 1000U);
	}
}

/* The queue of the submitting CPU. */
unsigned int aios_cpu_queue_index(struct aios_ctrl *ctrl)
{
	return ctrl->cpu_to_queue[raw_smp_processor_id()];
}

/* A queue without interrupt, for the submitting CPU; needs nr_poll > 0. */
unsigned int aios_poll_queue_index(struct aios_ctrl *ctrl)
{
	return ctrl->nr_io + raw_smp_processor_id() % ctrl->nr_poll;
}

/*
 * Under cq_lock: copies out up to AIOS_REAP_BATCH completions and claims
 * their commands.  Returns how many ring entries it consumed (a dropped
 * one too); *nr says how many are in @done.
 */
static int aios_cq_take(struct aios_queue *q, struct aios_cqe_copy *done, int *nr)
{
	int seen = 0, n = 0;

	while (seen < AIOS_REAP_BATCH) {
		struct nvme_completion *cqe = &q->cqes[q->cq_head];
		u16 status = le16_to_cpu(READ_ONCE(cqe->status));

		if ((status & 1) != q->cq_phase)
			break;
		/* The rest of the entry is valid only once the phase is. */
		dma_rmb();
		if (++q->cq_head == q->depth) {
			q->cq_head = 0;
			q->cq_phase ^= 1;
		}
		seen++;
		/* Fault injection: lose a completion, as a hung device would. */
		if (q->qid && unlikely(aios_fault_take(&aios_fault_drop)))
			continue;
		done[n].cid = cqe->command_id;
		done[n].status = status >> 1;
		done[n].result = le64_to_cpu(cqe->result.u64);
		done[n].claimed = aios_claim(q, done[n].cid);
		n++;
	}
	*nr = n;
	return seen;
}

/* Under cq_lock: gives consumed entries back, a doorbell write per few. */
static void aios_cq_ring(struct aios_queue *q, int seen)
{
	q->cq_unrung += seen;
	if (seen && q->cq_unrung >= aios_cq_lazy(q)) {
		writel(q->cq_head, q->cq_db);
		q->cq_unrung = 0;
	}
}

/* Unlocked: ends the commands of the completions taken. */
static void aios_cq_end(struct aios_queue *q, const struct aios_cqe_copy *done, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (unlikely(!done[i].claimed)) {
			/* Late, after a cancel ended it, or garbage from the device. */
			dev_warn_ratelimited(q->ctrl->dev, "queue %u: completion for no command (%u)\n",
					     q->qid, done[i].cid);
			continue;
		}
		aios_end_slot(q, &q->slots[done[i].cid], done[i].status, done[i].result);
	}
}

/*
 * Copies out the completions that are there and claims their commands,
 * returns the ring entries to the controller, and only then ends the
 * commands, unlocked: an ending may submit again (a flush chains its
 * write) or take other locks.  Claiming under cq_lock matters to a reset:
 * once it has emptied the ring under that lock, every command the old
 * ring completed is claimed, and it resends only what is still active.
 * The queue's counters say who reaped: the interrupt handler (@irq; in a
 * thread under threadirqs, so in_hardirq() cannot tell), or a poller (a
 * waiter, bio_poll, teardown, a reset).  Returns how many completions it
 * ended.
 */
static int aios_queue_reap_by(struct aios_queue *q, bool irq)
{
	struct aios_cqe_copy done[AIOS_REAP_BATCH];
	unsigned long flags;
	int seen, n, total = 0;

	do {
		spin_lock_irqsave(&q->cq_lock, flags);
		seen = aios_cq_take(q, done, &n);
		aios_cq_ring(q, seen);
		if (irq)
			q->nr_irq_completed += n;
		else
			q->nr_poll_completed += n;
		spin_unlock_irqrestore(&q->cq_lock, flags);
		aios_cq_end(q, done, n);
		total += n;
	} while (seen == AIOS_REAP_BATCH);
	return total;
}

int aios_queue_reap(struct aios_queue *q)
{
	return aios_queue_reap_by(q, false);
}

/*
 * Vectors are never shared, and a poller may have reaped what raised this
 * interrupt, so an empty queue here is normal: always claim the interrupt.
 */
irqreturn_t aios_queue_irq(int irq, void *data)
{
	struct aios_queue *q = data;

	if (unlikely(aios_fault_take(&aios_fault_drop_irq)))
		return IRQ_HANDLED;
	aios_queue_reap_by(q, true);
	return IRQ_HANDLED;
}

/*
 * Ends every command still on the device as "aborted by host", for a
 * controller that is disabled or gone: nothing will complete them any more,
 * and nothing may DMA into them.  A reaper racing with us loses or wins each
 * command on its active bit, never both.
 */
void aios_queue_cancel_all(struct aios_queue *q)
{
	unsigned int nr_slots = q->depth - 1, cid;

	if (!q->active_map)
		return;
	for_each_set_bit(cid, q->active_map, nr_slots)
		if (aios_claim(q, cid))
			aios_end_slot(q, &q->slots[cid], NVME_SC_HOST_ABORTED_CMD | AIOS_STATUS_DNR,
				      0);
}

/*
 * The commands of @q that are on the device: active and not parked.  For
 * a caller that stopped the queue and would rather let them complete than
 * send them again.
 */
unsigned int aios_queue_in_flight(struct aios_queue *q)
{
	unsigned int nr_slots = q->depth - 1, cid, n = 0;
	unsigned long flags;

	if (!q->active_map)
		return 0;
	spin_lock_irqsave(&q->sq_lock, flags);
	for_each_set_bit(cid, q->active_map, nr_slots)
		n += !q->slots[cid].parked;
	spin_unlock_irqrestore(&q->sq_lock, flags);
	return n;
}

/* Nothing new reaches the ring from now on: see aios_queue_submit_cmd(). */
void aios_queue_stop(struct aios_queue *q)
{
	unsigned long flags;

	if (!q->sqes)
		return;
	spin_lock_irqsave(&q->sq_lock, flags);
	q->stopped = true;
	spin_unlock_irqrestore(&q->sq_lock, flags);
}

/* The admin queue after a reset (I/O queues restart with aios_queue_restart()). */
void aios_queue_start(struct aios_queue *q)
{
	unsigned long flags;

	spin_lock_irqsave(&q->sq_lock, flags);
	q->stopped = false;
	spin_unlock_irqrestore(&q->sq_lock, flags);
}

/*
 * For a reset, on a stopped queue of a disabled controller: ends what the
 * controller completed before it stopped, and empties the rings for the
 * queue's re-creation.  The interrupt handler may have copied entries out
 * just before: synchronize_irq() lets it finish with them first; a poller
 * may still be ending entries it claimed, which are complete.
 */
void aios_queue_drain_rings(struct aios_queue *q)
{
	unsigned long flags;

	if (q->has_irq)
		synchronize_irq(pci_irq_vector(q->ctrl->pdev, q->vector));
	aios_queue_reap(q);
	spin_lock_irqsave(&q->cq_lock, flags);
	spin_lock(&q->sq_lock);
	aios_queue_reset_rings(q);
	spin_unlock(&q->sq_lock);
	spin_unlock_irqrestore(&q->cq_lock, flags);
}

/*
 * After a reset created @q again on the controller: fails the commands
 * that are not to be resent, or that were past their deadline at
 * AIOS_MAX_RETRIES resets already, writes every other active command
 * (in the old ring when the reset began, or parked since) into the fresh
 * ring under its own command id, the slot still holding the command and
 * its mapped PRPs, and lets submissions through again.  Returns how many
 * commands went out; adds those given up to *failed.
 */
int aios_queue_restart(struct aios_queue *q, int *failed)
{
	struct nvme_command flush = { };
	unsigned int nr_slots = q->depth - 1, cid;
	int sent = 0, given_up = 0;
	unsigned long flags;

	spin_lock_irqsave(&q->sq_lock, flags);
	/* A failed controller stays stopped; aios_ctrl_fail() cancels what is active. */
	if (READ_ONCE(q->ctrl->dead)) {
		spin_unlock_irqrestore(&q->sq_lock, flags);
		return 0;
	}
	for_each_set_bit(cid, q->active_map, nr_slots) {
		struct aios_slot *slot = &q->slots[cid];

		if (!slot->parked) {
			if (slot->no_resend || slot->retries >= AIOS_MAX_RETRIES) {
				if (aios_claim(q, cid)) {
					slot->give_up = 1;
					given_up++;
				}
				continue;
			}
			/* Caught in a reset for another command's sake costs no retry. */
			if (time_after(jiffies, slot->deadline))
				slot->retries++;
		}
		slot->parked = 0;
		slot->start_ns = ktime_get_ns();
		slot->deadline = jiffies + aios_own_timeout(q);
		if (slot->chained) {
			/* The Flush ahead of a PREFLUSH write had not completed. */
			aios_cmd_flush(&flush, le32_to_cpu(slot->cmd.common.nsid));
			aios_sq_write(q, cid, &flush);
		} else {
			aios_sq_write(q, cid, &slot->cmd);
		}
		sent++;
	}
	q->stopped = false;
	/* writel orders the ring writes above before the doorbell. */
	if (sent)
		writel(q->sq_tail, q->sq_db);
	spin_unlock_irqrestore(&q->sq_lock, flags);

	*failed += given_up;
	for (cid = 0; given_up && cid < nr_slots; cid++) {
		struct aios_slot *slot = &q->slots[cid];

		if (!slot->give_up)
			continue;
		slot->give_up = 0;
		given_up--;
		aios_end_slot(q, slot, NVME_SC_HOST_ABORTED_CMD | AIOS_STATUS_DNR, 0);
	}
	return sent;
}

/* The first command on @q past its deadline, or NULL. */
struct aios_slot *aios_queue_expired(struct aios_queue *q)
{
	unsigned int nr_slots = q->depth - 1, cid;

	if (!q->active_map)
		return NULL;
	for_each_set_bit(cid, q->active_map, nr_slots)
		if (time_after(jiffies, READ_ONCE(q->slots[cid].deadline)))
			return &q->slots[cid];
	return NULL;
}

/*
 * Building a command's data pointer: aios_prp_start(), aios_prp_add() for
 * each segment, aios_prp_finish().  Segments are mapped for DMA and
 * described with PRPs (spec 4.3): the first entry may start anywhere in a
 * page, every later one on a page boundary, which the queue's virt_boundary
 * guarantees for bios and whole pages guarantee for lbios.  On an error the
 * caller unmaps with aios_slot_unmap().
 */
void aios_prp_start(struct aios_slot *slot, enum dma_data_direction dir)
{
	slot->nr_segs = 0;
	slot->nr_prps = 0;
	slot->dma_dir = dir;
	slot->cmd.common.dptr.prp1 = 0;
	slot->cmd.common.dptr.prp2 = 0;
}

int aios_prp_add(struct aios_queue *q, struct aios_slot *slot, struct page *page,
		 unsigned int off, unsigned int len)
{
	const u64 mask = AIOS_NVME_PAGE_SIZE - 1;
	struct aios_dma_seg *prev = slot->nr_segs ? &slot->segs[slot->nr_segs - 1] : NULL;
	dma_addr_t addr;
	u64 pos, end;

	if (WARN_ON_ONCE(slot->nr_segs == AIOS_MAX_SEGS))
		return -EINVAL;
	addr = dma_map_page(q->ctrl->dev, page, off, len, slot->dma_dir);
	if (dma_mapping_error(q->ctrl->dev, addr))
		return -ENOMEM;
	slot->segs[slot->nr_segs].addr = addr;
	slot->segs[slot->nr_segs].len = len;
	slot->nr_segs++;
	/* Interior boundaries must fall on controller pages. */
	if (WARN_ON_ONCE(prev && (((prev->addr + prev->len) & mask) || (addr & mask))))
		return -EINVAL;
	end = addr + len;
	for (pos = addr; pos < end; pos = (pos | mask) + 1) {
		unsigned int n = slot->nr_prps;

		if (n == 0) {
			slot->cmd.common.dptr.prp1 = cpu_to_le64(pos);
		} else {
			if (WARN_ON_ONCE(n > AIOS_PRP_LIST_ENTRIES))
				return -EINVAL;
			/* Entries 1.. go to the list; with just two, PRP2 holds entry 1. */
			slot->prp_list[n - 1] = cpu_to_le64(pos);
			if (n == 1)
				slot->cmd.common.dptr.prp2 = cpu_to_le64(pos);
		}
		slot->nr_prps = n + 1;
	}
	return 0;
}

void aios_prp_finish(struct aios_slot *slot)
{
	if (slot->nr_prps > 2)
		slot->cmd.common.dptr.prp2 = cpu_to_le64(slot->prp_dma);
}

void aios_slot_unmap(struct aios_queue *q, struct aios_slot *slot)
{
	unsigned int i;

	for (i = 0; i < slot->nr_segs; i++)
		dma_unmap_page(q->ctrl->dev, slot->segs[i].addr, slot->segs[i].len,
			       slot->dma_dir);
	slot->nr_segs = 0;
}
