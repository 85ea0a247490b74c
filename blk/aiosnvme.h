/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aiosnvme internals: controller, queues and command slots.
 *
 * A queue pair owns a fixed array of slots; the slot index is the NVMe
 * command id, so a completion finds its command with no lookup and no tag
 * allocator.  Whoever submits fills a slot and rings the doorbell; whoever
 * reaps the completion queue (the interrupt, or a poller) ends the slot.
 */
#ifndef _AIOSNVME_H
#define _AIOSNVME_H

#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/kref.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define AIOS_NVME_PAGE_SHIFT	12
#define AIOS_NVME_PAGE_SIZE	BIT(AIOS_NVME_PAGE_SHIFT)

/* Our cap on one transfer: one 4 KiB-aligned PRP list of 128 entries. */
#define AIOS_PRP_LIST_ENTRIES	128
#define AIOS_PRP_LIST_BYTES	(AIOS_PRP_LIST_ENTRIES * sizeof(__le64))
#define AIOS_MAX_SEGS		(AIOS_PRP_LIST_ENTRIES + 1)
#define AIOS_MAX_XFER		(AIOS_PRP_LIST_ENTRIES * AIOS_NVME_PAGE_SIZE)

#define AIOS_ADMIN_DEPTH	8
/* As nvme.ko's limit; a slot per entry costs about 3 KiB, its PRP list included. */
#define AIOS_MAX_IO_DEPTH	4096
#define AIOS_ADMIN_TIMEOUT	(10 * HZ)
#define AIOS_SHUTDOWN_MAX	(60 * HZ)
/* Namespace ids looked at one by one where there is no list (NVMe 1.0). */
#define AIOS_MAX_SCAN_NSID	4096

/*
 * Recovery: a command is resent after a controller reset at most this many
 * times, then failed; more resets than AIOS_RESET_BURST within
 * AIOS_RESET_WINDOW_S seconds fail the controller instead.  One command
 * that keeps timing out costs AIOS_MAX_RETRIES + 1 resets, so the burst
 * must allow at least that many.
 */
#define AIOS_MAX_RETRIES	3
#define AIOS_RESET_BURST	5
#define AIOS_RESET_WINDOW_S	60

/* Status field of a completion, after dropping the phase bit (spec 4.6.1). */
#define AIOS_STATUS_CODE(s)	((s) & 0x7ff)	/* type (10:8) and code (7:0) */
#define AIOS_STATUS_DNR		BIT(14)

struct aios_queue;
struct aios_slot;
struct aios_lbio;

/* Ends a slot's command; runs where the completion is reaped. */
typedef void (*aios_slot_done_t)(struct aios_queue *q, struct aios_slot *slot,
				 u16 status, u64 result);

struct aios_prp_page {
	void *cpu;
	dma_addr_t dma;
};

struct aios_dma_seg {
	dma_addr_t addr;
	u32 len;
};

struct aios_slot {
	aios_slot_done_t done;
	void *owner;			/* bio, lbio or sync waiter */
	struct nvme_command cmd;	/* kept until done: a flush may chain it */
	__le64 *prp_list;
	dma_addr_t prp_dma;
	struct aios_dma_seg *segs;
	u16 nr_segs;
	u16 nr_prps;
	u8 dma_dir;
	u8 chained;			/* a data command waits for this flush */
	/*
	 * Recovery state, under the queue's sq_lock while the command is
	 * active: parked means submitted while the queue was stopped, so not
	 * in the ring yet; retries counts the resets a command was past its
	 * deadline for; give_up marks a command a reset has taken back to fail
	 * it; no_resend a command that a reset fails rather than resends.
	 */
	u8 parked;
	u8 retries;
	u8 give_up;
	u8 no_resend;
	u8 acct;			/* a bio counted in the disk's I/O statistics */
	u8 times_rtt;			/* its round trip tells the device's (cmd.c) */
	unsigned long acct_start;	/* from bio_start_io_acct() */
	u64 start_ns;
	unsigned long deadline;
	unsigned int seq;		/* bumped on every completion */
};

struct aios_queue {
	struct aios_ctrl *ctrl;
	u16 qid;
	u16 depth;			/* SQ/CQ entries; slots = depth - 1 */
	int vector;			/* index into the controller's IRQ vectors */

	spinlock_t sq_lock;		/* SQ tail, slot_map and stopped */
	/*
	 * Set while a reset rebuilds the controller, or for good once it has
	 * failed: nothing reaches the ring.  An I/O command submitted
	 * meanwhile is parked in its slot for the reset to send; an admin
	 * command is refused.
	 */
	bool stopped;
	struct nvme_command *sqes;
	dma_addr_t sq_dma;
	u32 __iomem *sq_db;
	u16 sq_tail;

	/* The completion side, apart from what submitters write. */
	spinlock_t cq_lock ____cacheline_aligned_in_smp;	/* CQ head, phase, counts */
	struct nvme_completion *cqes;
	dma_addr_t cq_dma;
	u32 __iomem *cq_db;
	u16 cq_head;
	u16 cq_unrung;			/* consumed, head doorbell not rung yet */
	u8 cq_phase;
	bool live;			/* created on the controller */
	bool has_irq;
	bool polled;			/* no interrupt: polled bios and polling waiters */
	cpumask_var_t cpus;		/* CPUs submitting here: its interrupt's affinity */

	unsigned long *slot_map;	/* slots taken; under sq_lock */
	/*
	 * Commands on the device.  Whoever clears a bit here ends that
	 * command, so the interrupt, a poller and a cancel never end one twice.
	 */
	unsigned long *active_map;
	struct aios_slot *slots;
	struct aios_prp_page *prp_pages;	/* the slots' PRP lists, four a page */
	struct aios_dma_seg *seg_pool;
	wait_queue_head_t slot_wait;
	atomic_t inflight;

	/* Device round-trip time of small commands, EWMA in ns (1/8 weight). */
	u64 rtt_ewma_ns;
	unsigned int spin_probe;	/* counts waiters not spun for */

	/* For sysfs: submissions counted under sq_lock, completions under cq_lock. */
	u64 nr_submitted;
	u64 nr_irq_completed;
	u64 nr_poll_completed;
	u64 nr_slot_waits;
};

/*
 * Lives as long as its gendisk (freed by ->free_disk), so that a filesystem
 * still holding the disk open after the controller went away finds a
 * namespace whose controller is marked dead, not freed memory.
 */
struct aios_ns {
	struct aios_ctrl *ctrl;		/* holds a reference */
	struct list_head node;
	u32 nsid;
	u8 lba_shift;
	u64 nr_lbas;
	struct gendisk *disk;
};

struct aios_ctrl {
	struct kref ref;		/* the PCI binding and each namespace */
	struct srcu_struct srcu;	/* lbio submitters, against teardown */
	struct pci_dev *pdev;
	struct device *dev;		/* &pdev->dev */
	int instance;
	void __iomem *bar;
	u64 cap;
	u32 db_stride;			/* bytes between doorbells */
	unsigned long ready_timeout;	/* jiffies, from CAP.TO */
	unsigned long shutdown_timeout;	/* jiffies, from RTD3E and CAP.TO */
	int nr_vectors;

	struct aios_queue admin;
	struct mutex admin_lock;	/* one admin command at a time */
	struct delayed_work watchdog;	/* command timeouts, fatal status */

	/* Reset and recovery (ctrl.c). */
	struct work_struct reset_work;
	spinlock_t reset_lock;		/* can_reset, resetting and the history below */
	bool can_reset;			/* bound, not being torn down, not failed */
	bool resetting;			/* from the request until the queues run again */
	bool suspended;			/* shut down for system sleep, resetting set */
	bool pci_held;			/* stopped for a PCI reset, resetting set */
	const char *reset_why;
	wait_queue_head_t reset_wait;	/* passthrough callers waiting for a reset to end */
	unsigned int nr_resets;
	unsigned long reset_times[AIOS_RESET_BURST];	/* jiffies, ring by nr_resets */
	unsigned long last_fatal;	/* jiffies of the last fatal-status reset, or 0 */

	struct hlist_node cpuhp_node;	/* restores interrupt affinity on CPU online */
	bool cpuhp_added;

	/*
	 * nr_io interrupt-driven queues, then nr_poll queues without an
	 * interrupt for REQ_POLLED bios, which only their poller may end.
	 */
	struct aios_queue *ioq;
	int nr_io;
	int nr_poll;
	int nr_queues;			/* nr_io + nr_poll */
	atomic_t nr_spinning;		/* waiters spinning now, at most max(nr_poll, 1) */
	u16 io_depth;
	u16 *cpu_to_queue;		/* nr_cpu_ids entries */

	/* From Identify Controller. */
	char serial[21];
	char model[41];
	char firmware[9];
	u32 max_xfer;			/* bytes, MDTS and our PRP cap */
	u32 nn;
	u32 vs;				/* the version register */
	u16 oncs;
	bool vwc;

	struct list_head namespaces;
	struct mutex ns_lock;		/* the list, against fences and removal */
	bool dead;			/* no new commands: removal or fatal error */

	/* Namespace-changing admin commands (fence.c). */
	DECLARE_BITMAP(fence_admin, 256);	/* opcodes that run fenced */
	bool fenced;			/* lbio and passthrough I/O wait meanwhile */
	wait_queue_head_t fence_wait;

	/* The passthrough character device, /dev/aiosnvme<instance>. */
	struct device cdev_dev;
	struct cdev cdev;
	bool cdev_added;
};

static inline u16 aios_slot_cid(struct aios_queue *q, struct aios_slot *slot)
{
	return slot - q->slots;
}

/* cmd.c */
#define AIOS_CMD_WRITE		0x1
#define AIOS_CMD_FUA		0x2
#define AIOS_CMD_PREFLUSH	0x4	/* a Flush goes ahead of it */

void aios_cmd_rw(const struct aios_ns *ns, struct aios_slot *slot, sector_t sector, u32 bytes,
		 unsigned int flags);
void aios_cmd_flush(struct nvme_command *c, u32 nsid);
void aios_cmd_discard(const struct aios_ns *ns, struct aios_slot *slot, sector_t sector,
		      u32 bytes);
void aios_cmd_write_zeroes(const struct aios_ns *ns, struct nvme_command *c, sector_t sector,
			   u32 bytes);
bool aios_cmd_end(struct aios_queue *q, struct aios_slot *slot, u16 status,
		  struct block_device *bdev, const char *what, sector_t sector);

/* queue.c */
void aios_queue_init(struct aios_ctrl *ctrl, struct aios_queue *q, u16 depth);
int aios_queue_alloc(struct aios_queue *q);
void aios_queue_free(struct aios_queue *q);
void aios_queue_reset_rings(struct aios_queue *q);
struct aios_slot *aios_slot_get(struct aios_queue *q, bool can_wait);
void aios_slot_put(struct aios_queue *q, struct aios_slot *slot);
bool aios_queue_submit_cmd(struct aios_queue *q, struct aios_slot *slot,
			   const struct nvme_command *cmd);
static inline bool aios_queue_submit(struct aios_queue *q, struct aios_slot *slot)
{
	return aios_queue_submit_cmd(q, slot, &slot->cmd);
}

int aios_queue_reap(struct aios_queue *q);
void aios_queue_cancel_all(struct aios_queue *q);
unsigned int aios_queue_in_flight(struct aios_queue *q);
void aios_queue_stop(struct aios_queue *q);
void aios_queue_start(struct aios_queue *q);
void aios_queue_drain_rings(struct aios_queue *q);
int aios_queue_restart(struct aios_queue *q, int *failed);
struct aios_slot *aios_queue_expired(struct aios_queue *q);
irqreturn_t aios_queue_irq(int irq, void *data);

void aios_prp_start(struct aios_slot *slot, enum dma_data_direction dir);
int aios_prp_add(struct aios_queue *q, struct aios_slot *slot, struct page *page,
		 unsigned int off, unsigned int len);
void aios_prp_finish(struct aios_slot *slot);
void aios_slot_unmap(struct aios_queue *q, struct aios_slot *slot);
void aios_queue_submit_flush_first(struct aios_queue *q, struct aios_slot *slot, u32 nsid);
void aios_note_rtt(struct aios_queue *q, struct aios_slot *slot);
bool aios_queue_may_poll(struct aios_queue *q);
void aios_queue_poll_wait(struct aios_queue *q, bool (*done)(void *arg), void *arg,
			  u64 start_ns);
unsigned int aios_cpu_queue_index(struct aios_ctrl *ctrl);
unsigned int aios_poll_queue_index(struct aios_ctrl *ctrl);

/* lbio.c */
void aios_lbio_exit(void);
struct aios_queue *aios_lbio_queue(struct aios_lbio *lbio);

/* ioctl.c */
int aios_chr_init(void);
void aios_chr_exit(void);
int aios_ctrl_add_cdev(struct aios_ctrl *ctrl);
void aios_ctrl_del_cdev(struct aios_ctrl *ctrl);
int aios_ns_ioctl(struct aios_ns *ns, unsigned int cmd, void __user *argp);

/* selftest.c, in the test build only (Kbuild's AIOS_TEST). */
#ifdef AIOS_TEST
void aios_selftest_init(void);
void aios_selftest_exit(void);
#else
static inline void aios_selftest_init(void) { }
static inline void aios_selftest_exit(void) { }
#endif

/* ctrl.c */
int aios_ctrl_enable(struct aios_ctrl *ctrl);
int aios_ctrl_disable(struct aios_ctrl *ctrl, bool shutdown);
void aios_ctrl_stop_dma(struct aios_ctrl *ctrl, bool shutdown);
int aios_admin_sync(struct aios_ctrl *ctrl, struct nvme_command *cmd, void *buf,
		    unsigned int len, u32 *result);
int aios_sync_cmd(struct aios_ctrl *ctrl, struct aios_queue *q, struct nvme_command *cmd,
		  void *buf, unsigned int len, unsigned long timeout, u16 *status, u64 *result);
int aios_ctrl_identify(struct aios_ctrl *ctrl);
int aios_ctrl_setup_io_queues(struct aios_ctrl *ctrl);
void aios_ctrl_mark_dead(struct aios_ctrl *ctrl);
void aios_ctrl_fail(struct aios_ctrl *ctrl, const char *why);
bool aios_ctrl_reset(struct aios_ctrl *ctrl, const char *why, bool counted);
void aios_ctrl_stop_resets(struct aios_ctrl *ctrl);
void aios_reset_work_fn(struct work_struct *work);
void aios_ctrl_suspend(struct aios_ctrl *ctrl);
void aios_ctrl_resume(struct aios_ctrl *ctrl);
void aios_ctrl_pci_prepare(struct aios_ctrl *ctrl, bool frozen);
void aios_ctrl_pci_done(struct aios_ctrl *ctrl);
int aios_admin_lock(struct aios_ctrl *ctrl);
void aios_watchdog_fn(struct work_struct *work);
void aios_ctrl_free_irqs(struct aios_ctrl *ctrl);
int aios_cpu_online(unsigned int cpu, struct hlist_node *node);

/* disk.c */
extern const struct block_device_operations aios_disk_fops;
int aios_ns_scan(struct aios_ctrl *ctrl);
void aios_ns_remove_all(struct aios_ctrl *ctrl);
void aios_ns_revalidate(struct aios_ns *ns, struct nvme_id_ns *id);

/* fence.c */
void aios_ctrl_init_fence(struct aios_ctrl *ctrl, bool has_effects_log);
bool aios_cmd_fenced(struct aios_ctrl *ctrl, u8 opcode, bool admin);
int aios_ns_fence(struct aios_ctrl *ctrl);
void aios_ns_unfence(struct aios_ctrl *ctrl);
void aios_ns_revalidate_all(struct aios_ctrl *ctrl);

/*
 * The read side of ctrl->srcu for submitters that build commands from a
 * namespace's block size: they wait (sleeping) while a fence is up.
 */
static inline int aios_ctrl_enter(struct aios_ctrl *ctrl)
{
	int idx;

	for (;;) {
		idx = srcu_read_lock(&ctrl->srcu);
		if (likely(!READ_ONCE(ctrl->fenced)))
			return idx;
		srcu_read_unlock(&ctrl->srcu, idx);
		wait_event(ctrl->fence_wait, !READ_ONCE(ctrl->fenced));
	}
}

/* pci.c: the controller's life, and the module parameters. */
void aios_ctrl_put(struct aios_ctrl *ctrl);
extern unsigned int aios_io_depth;
extern unsigned int aios_poll_max_us;
extern unsigned int aios_poll_queues;
extern unsigned int aios_io_timeout;

/* How long the driver itself gives a command on @q before a reset. */
static inline unsigned long aios_own_timeout(const struct aios_queue *q)
{
	return q->qid ? max(READ_ONCE(aios_io_timeout), 1U) * HZ : AIOS_ADMIN_TIMEOUT;
}

#ifdef AIOS_TEST
int aios_test_pm_cycle(const char *bdf, unsigned int ms);
int aios_test_pci_lost(const char *bdf);
extern unsigned int aios_fault_drop;
extern unsigned int aios_fault_disable;
extern unsigned int aios_fault_drop_irq;
extern int aios_fault_queue_setup;
extern unsigned int aios_fault_gone;
extern unsigned int aios_fault_ns_list;
bool aios_fault_take(unsigned int *count);
#define aios_fault_is_gone()	READ_ONCE(aios_fault_gone)
#else
/* Macros: the counters do not exist outside the test build. */
#define aios_fault_take(count)	false
#define aios_fault_is_gone()	false
#endif

/* The test build's probe faults: queue @qid's allocation, or its interrupt. */
static inline bool aios_fault_queue(u16 qid, bool alloc)
{
#ifdef AIOS_TEST
	int n = READ_ONCE(aios_fault_queue_setup);

	return n && n == (alloc ? -(int)qid : (int)qid);
#else
	return false;
#endif
}

extern struct workqueue_struct *aios_reset_wq;

#endif /* _AIOSNVME_H */
