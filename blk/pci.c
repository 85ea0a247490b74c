// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme: the PCI side of the aios NVMe driver: probe, remove, BAR and
 * interrupt vectors, sysfs.
 *
 * The driver has no device IDs on purpose: it must never take a controller
 * away from nvme.ko.  A controller is handed to it explicitly by writing
 * "aiosnvme" to its driver_override (tools/aios-bind does that), which the
 * PCI core matches against the driver name alone.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <aios/aios.h>
#include "aiosnvme.h"

/* Base class 01h (mass storage), subclass 08h (NVM), interface 02h (NVMe). */
#define AIOS_NVME_CLASS		0x010802

/* How long removal waits for in-flight commands before cancelling them. */
#define AIOS_DRAIN_TIMEOUT	(30 * HZ)

unsigned int aios_io_depth = 256;
module_param_named(io_queue_depth, aios_io_depth, uint, 0444);
MODULE_PARM_DESC(io_queue_depth,
		 "Entries per I/O queue, capped by the controller (default 256, min 2)");

unsigned int aios_poll_queues = 1;
module_param_named(poll_queues, aios_poll_queues, uint, 0444);
MODULE_PARM_DESC(poll_queues,
		 "Queues without interrupts for polled I/O (io_uring IOPOLL, RWF_HIPRI), and how many waiters spin at once (at least 1); 0: no polled I/O (default 1)");

unsigned int aios_io_timeout = 30;
module_param_named(io_timeout, aios_io_timeout, uint, 0644);
MODULE_PARM_DESC(io_timeout,
		 "Seconds a command may take before the controller is reset and the command sent again; after 3 resends it fails, and a controller needing more than 5 resets a minute is disabled (default 30)");

#ifdef AIOS_TEST
/* Test hook: writing N makes the next N I/O completions get lost. */
unsigned int aios_fault_drop;
module_param_named(fault_drop_completion, aios_fault_drop, uint, 0600);
MODULE_PARM_DESC(fault_drop_completion, "Testing only: N loses the next N I/O completions");

/* Test hook: interrupts that are lost (their completions stay in the ring). */
unsigned int aios_fault_drop_irq;
module_param_named(fault_drop_irq, aios_fault_drop_irq, uint, 0600);
MODULE_PARM_DESC(fault_drop_irq, "Testing only: N ignores the next N I/O queue interrupts");

/* Test hook: a controller that does not disable (it is disabled all the same). */
unsigned int aios_fault_disable;
module_param_named(fault_disable, aios_fault_disable, uint, 0600);
MODULE_PARM_DESC(fault_disable, "Testing only: N makes the next N controller disables time out");

/* Test hook: removal finds the controller gone (it completes nothing meanwhile). */
unsigned int aios_fault_gone;
module_param_named(fault_gone, aios_fault_gone, uint, 0600);
MODULE_PARM_DESC(fault_gone, "Testing only: 1 makes teardown find the controller gone");

/* Test hook: a controller without the active namespace list (as before NVMe 1.1). */
unsigned int aios_fault_ns_list;
module_param_named(fault_ns_list, aios_fault_ns_list, uint, 0600);
MODULE_PARM_DESC(fault_ns_list, "Testing only: N refuses the next N active namespace lists");

/* Takes one of the faults a test hook's counter asked for. */
bool aios_fault_take(unsigned int *count)
{
	unsigned int n = READ_ONCE(*count), old;

	while (n) {
		old = cmpxchg(count, n, n - 1);
		if (old == n)
			return true;
		n = old;
	}
	return false;
}

/* Test hook: probe's set-up of one I/O queue fails, for the unwinding. */
int aios_fault_queue_setup;
module_param_named(fault_queue_setup, aios_fault_queue_setup, int, 0600);
MODULE_PARM_DESC(fault_queue_setup,
		 "Testing only: N fails I/O queue N's interrupt request at probe, -N its allocation");
#endif

unsigned int aios_poll_max_us = 200;
module_param_named(poll_max_us, aios_poll_max_us, uint, 0644);
MODULE_PARM_DESC(poll_max_us,
		 "Longest spin, in us, on a synchronous command before sleeping; spinning happens only while recent commands completed faster than this (0: never spin; default 200)");

static DEFINE_IDA(aios_instance_ida);

/* Controller resets; WQ_MEM_RECLAIM, since writeback may wait for one. */
struct workqueue_struct *aios_reset_wq;

/* The dynamic CPU hotplug state of aios_cpu_online(), one instance per controller. */
static int aios_cpuhp_state = -1;

static bool aios_ctrl_present(struct aios_ctrl *ctrl)
{
	return !aios_fault_is_gone() && pci_device_is_present(ctrl->pdev) &&
	       readl(ctrl->bar + NVME_REG_CSTS) != ~0U;
}

static int aios_inflight(struct aios_ctrl *ctrl)
{
	int i, n = 0;

	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++)
		n += atomic_read(&ctrl->ioq[i].inflight);
	return n;
}

static bool aios_ctrl_expired(struct aios_ctrl *ctrl)
{
	int i;

	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++)
		if (aios_queue_expired(&ctrl->ioq[i]))
			return true;
	return false;
}

/*
 * Ends what the controller completed on its poll queues, or with @all on
 * every queue.  Once the disks are gone, nobody polls for their polled
 * bios (bio_poll() refuses a dead disk); once the interrupts are freed,
 * nobody reaps the other queues either.
 */
static void aios_ctrl_reap(struct aios_ctrl *ctrl, bool all)
{
	int i;

	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++) {
		struct aios_queue *q = &ctrl->ioq[i];

		/* A failed probe may leave queues without rings. */
		if (q->cqes && (all || q->polled))
			aios_queue_reap(q);
	}
}

/*
 * Lets what is in flight finish, unless the controller is gone or stuck.
 * No reset happens during teardown, so a command past its deadline will
 * not complete: stop waiting then.
 */
static void aios_ctrl_drain(struct aios_ctrl *ctrl)
{
	unsigned long deadline = jiffies + AIOS_DRAIN_TIMEOUT;

	while (aios_inflight(ctrl) && aios_ctrl_present(ctrl)) {
		aios_ctrl_reap(ctrl, false);
		if (!aios_inflight(ctrl))
			return;
		if (aios_ctrl_expired(ctrl)) {
			dev_err(ctrl->dev, "a command timed out during teardown; cancelling the %d in flight\n",
				aios_inflight(ctrl));
			return;
		}
		if (time_after(jiffies, deadline)) {
			dev_err(ctrl->dev, "%d commands still in flight after %u s; cancelling them\n",
				aios_inflight(ctrl), AIOS_DRAIN_TIMEOUT / HZ);
			return;
		}
		usleep_range(5000, 10000);
	}
}

/*
 * The one teardown, for remove and for a failed probe: disks first, so that
 * nothing new comes in; then drain, delete the queues and shut the
 * controller down; then, with no interrupt and no DMA possible, end what is
 * left as aborted and free everything.
 */
static void aios_ctrl_teardown(struct aios_ctrl *ctrl)
{
	struct pci_dev *pdev = ctrl->pdev;
	int i;

	/*
	 * A reset under way finishes first; after it, a timeout fails the
	 * controller.  The watchdog keeps running until the drain below: a
	 * poller inside submit_bio holds del_gendisk() up until its command
	 * ends, and only the watchdog times it out.
	 */
	aios_ctrl_stop_resets(ctrl);
	aios_ctrl_del_cdev(ctrl);
	/*
	 * A controller that is gone completes nothing: end what it had now,
	 * or removing the disks waits forever for their writeback.
	 */
	if (!aios_ctrl_present(ctrl))
		aios_ctrl_fail(ctrl, "controller gone at removal");
	aios_ns_remove_all(ctrl);
	aios_ctrl_mark_dead(ctrl);
	synchronize_srcu(&ctrl->srcu);
	aios_ctrl_drain(ctrl);
	cancel_delayed_work_sync(&ctrl->watchdog);
	if (ctrl->cpuhp_added)
		cpuhp_state_remove_instance_nocalls(aios_cpuhp_state, &ctrl->cpuhp_node);
	ctrl->cpuhp_added = false;
	aios_ctrl_free_irqs(ctrl);
	/* Disabling the controller deletes its queues and stops all DMA. */
	if (aios_ctrl_present(ctrl) && ctrl->admin.live)
		aios_ctrl_stop_dma(ctrl, true);
	/* What it completed before it stopped succeeds; the rest is aborted. */
	aios_ctrl_reap(ctrl, true);
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++)
		aios_queue_cancel_all(&ctrl->ioq[i]);
	aios_queue_cancel_all(&ctrl->admin);
	/*
	 * An admin passthrough caller may still be in its wait loop, touching
	 * the queues; it holds admin_lock until it has seen its command end.
	 */
	mutex_lock(&ctrl->admin_lock);
	ctrl->admin.live = false;
	mutex_unlock(&ctrl->admin_lock);
	for (i = 0; ctrl->ioq && i < ctrl->nr_queues; i++) {
		aios_queue_free(&ctrl->ioq[i]);
		free_cpumask_var(ctrl->ioq[i].cpus);
	}
	kfree(ctrl->ioq);
	kfree(ctrl->cpu_to_queue);
	if (ctrl->admin.sqes)
		aios_queue_free(&ctrl->admin);
	if (ctrl->nr_vectors)
		pci_free_irq_vectors(pdev);
	pci_iounmap(pdev, ctrl->bar);
	pci_release_mem_regions(pdev);
	pci_disable_device(pdev);
}

/* Maps BAR0 and reads what the rest of bring-up needs from CAP; undoes itself on error. */
static int aios_ctrl_map(struct aios_ctrl *ctrl)
{
	struct pci_dev *pdev = ctrl->pdev;
	int err;

	err = pci_request_mem_regions(pdev, "aiosnvme");
	if (err)
		return err;
	ctrl->bar = pci_iomap(pdev, 0, 0);
	if (!ctrl->bar) {
		pci_release_mem_regions(pdev);
		return -ENOMEM;
	}
	ctrl->cap = lo_hi_readq(ctrl->bar + NVME_REG_CAP);
	err = -ENODEV;
	if (ctrl->cap == ~0ULL) {
		dev_err(ctrl->dev, "controller does not answer (CAP reads all ones)\n");
		goto unmap;
	}
	if (NVME_CAP_MPSMIN(ctrl->cap) > 0) {
		dev_err(ctrl->dev, "controller needs pages of at least %u bytes; only 4096 is supported\n",
			1U << (12 + NVME_CAP_MPSMIN(ctrl->cap)));
		goto unmap;
	}
	ctrl->db_stride = 4U << NVME_CAP_STRIDE(ctrl->cap);
	ctrl->vs = readl(ctrl->bar + NVME_REG_VS);
	ctrl->ready_timeout = (NVME_CAP_TIMEOUT(ctrl->cap) + 1) * HZ / 2;
	/* Until Identify tells RTD3E. */
	ctrl->shutdown_timeout = ctrl->ready_timeout;
	return 0;

unmap:
	pci_iounmap(ctrl->pdev, ctrl->bar);
	ctrl->bar = NULL;
	pci_release_mem_regions(ctrl->pdev);
	return err;
}

/*
 * One vector per CPU plus one: vector 0 is kept back (the admin queue is
 * polled), the others go to the I/O queues, which steer each to the CPUs
 * submitting there (aios_map_cpus() says why they are not managed).  The
 * BAR must also have room for every queue's doorbells.
 */
static int aios_ctrl_alloc_vectors(struct aios_ctrl *ctrl)
{
	resource_size_t bar_len = pci_resource_len(ctrl->pdev, 0);
	unsigned int max_queues, want;
	int nr;

	max_queues = (bar_len - NVME_REG_DBS) / (2 * ctrl->db_stride) - 1;
	want = min(num_online_cpus(), max_queues) + 1;
	nr = pci_alloc_irq_vectors(ctrl->pdev, 1, want, PCI_IRQ_MSIX | PCI_IRQ_MSI);
	if (nr < 0) {
		dev_err(ctrl->dev, "no MSI-X or MSI vectors: %d\n", nr);
		return nr;
	}
	ctrl->nr_vectors = nr;
	return 0;
}

static int aios_ctrl_start(struct aios_ctrl *ctrl)
{
	int err;

	err = aios_queue_alloc(&ctrl->admin);
	if (err)
		return err;
	err = aios_ctrl_disable(ctrl, false);
	if (err)
		return err;
	err = aios_ctrl_enable(ctrl);
	if (err)
		return err;
	err = aios_ctrl_identify(ctrl);
	if (err)
		return err;
	err = aios_ctrl_setup_io_queues(ctrl);
	if (err)
		return err;
	if (!cpuhp_state_add_instance_nocalls(aios_cpuhp_state, &ctrl->cpuhp_node))
		ctrl->cpuhp_added = true;
	/*
	 * From the first I/O on (partition scan), a timeout must end in
	 * something; until probe is done, in failing the controller.
	 */
	schedule_delayed_work(&ctrl->watchdog, HZ);
	err = aios_ns_scan(ctrl);
	if (err)
		return err;
	return aios_ctrl_add_cdev(ctrl);
}

static void aios_ctrl_release(struct kref *ref)
{
	struct aios_ctrl *ctrl = container_of(ref, struct aios_ctrl, ref);

	cleanup_srcu_struct(&ctrl->srcu);
	if (ctrl->instance >= 0)
		ida_free(&aios_instance_ida, ctrl->instance);
	kfree(ctrl);
}

void aios_ctrl_put(struct aios_ctrl *ctrl)
{
	kref_put(&ctrl->ref, aios_ctrl_release);
}

static int aios_nvme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct aios_ctrl *ctrl;
	int err;

	if (pdev->class != AIOS_NVME_CLASS) {
		dev_err(&pdev->dev, "not an NVMe controller (class %06x)\n", pdev->class);
		return -ENODEV;
	}
	ctrl = kzalloc(sizeof(*ctrl), GFP_KERNEL);
	if (!ctrl)
		return -ENOMEM;
	err = init_srcu_struct(&ctrl->srcu);
	if (err) {
		kfree(ctrl);
		return err;
	}
	/* From here on, aios_ctrl_put() frees what there is. */
	kref_init(&ctrl->ref);
	ctrl->pdev = pdev;
	ctrl->dev = &pdev->dev;
	INIT_LIST_HEAD(&ctrl->namespaces);
	mutex_init(&ctrl->ns_lock);
	init_waitqueue_head(&ctrl->fence_wait);
	aios_queue_init(ctrl, &ctrl->admin, AIOS_ADMIN_DEPTH);
	mutex_init(&ctrl->admin_lock);
	INIT_DELAYED_WORK(&ctrl->watchdog, aios_watchdog_fn);
	INIT_WORK(&ctrl->reset_work, aios_reset_work_fn);
	spin_lock_init(&ctrl->reset_lock);
	init_waitqueue_head(&ctrl->reset_wait);
	ctrl->instance = ida_alloc(&aios_instance_ida, GFP_KERNEL);
	if (ctrl->instance < 0) {
		err = ctrl->instance;
		goto put;
	}
	err = pci_enable_device_mem(pdev);
	if (err)
		goto put;
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	/*
	 * A bounce buffer (swiotlb) must keep a segment's offset within its
	 * controller page, or PRP rules break; before Identify, which reads
	 * the mapping size limit that this lowers.
	 */
	dma_set_min_align_mask(&pdev->dev, AIOS_NVME_PAGE_SIZE - 1);
	if (!err)
		err = aios_ctrl_map(ctrl);
	if (err) {
		pci_disable_device(pdev);
		goto put;
	}
	err = aios_ctrl_alloc_vectors(ctrl);
	if (!err)
		err = aios_ctrl_start(ctrl);
	if (err) {
		aios_ctrl_teardown(ctrl);
		goto put;
	}
	pci_set_drvdata(pdev, ctrl);
	/* What error recovery restores after a link reset. */
	pci_save_state(pdev);
	spin_lock(&ctrl->reset_lock);
	ctrl->can_reset = !ctrl->dead;
	spin_unlock(&ctrl->reset_lock);
	dev_info(&pdev->dev, "aiosnvme%d ready\n", ctrl->instance);
	return 0;

put:
	dev_err(&pdev->dev, "cannot bring the controller up: %d\n", err);
	aios_ctrl_put(ctrl);
	return err;
}

static void aios_nvme_remove(struct pci_dev *pdev)
{
	struct aios_ctrl *ctrl = pci_get_drvdata(pdev);

	aios_ctrl_teardown(ctrl);
	aios_ctrl_put(ctrl);
	dev_info(&pdev->dev, "released\n");
}

/* At reboot or power-off the controller gets a clean shutdown (its cache flushed). */
static void aios_nvme_shutdown(struct pci_dev *pdev)
{
	struct aios_ctrl *ctrl = pci_get_drvdata(pdev);

	if (!ctrl)
		return;
	aios_ctrl_stop_resets(ctrl);
	if (aios_ctrl_present(ctrl))
		aios_ctrl_disable(ctrl, true);
}

static int aios_nvme_suspend(struct device *dev)
{
	struct aios_ctrl *ctrl = dev_get_drvdata(dev);

	if (ctrl)
		aios_ctrl_suspend(ctrl);
	return 0;
}

static int aios_nvme_resume(struct device *dev)
{
	struct aios_ctrl *ctrl = dev_get_drvdata(dev);

	if (ctrl)
		aios_ctrl_resume(ctrl);
	return 0;
}

/* Suspend to RAM or idle, and hibernation's freeze and restore alike. */
static DEFINE_SIMPLE_DEV_PM_OPS(aios_nvme_pm, aios_nvme_suspend, aios_nvme_resume);

/*
 * PCI error recovery (AER, DPC): a link that still works needs nothing; a
 * frozen one is reset by the PCI core, after which the controller is set
 * up again and its commands resent; one that failed for good fails the
 * controller.
 */
static pci_ers_result_t aios_nvme_error_detected(struct pci_dev *pdev,
						 pci_channel_state_t state)
{
	struct aios_ctrl *ctrl = pci_get_drvdata(pdev);

	if (!ctrl)
		return PCI_ERS_RESULT_NONE;
	switch (state) {
	case pci_channel_io_normal:
		dev_warn(&pdev->dev, "PCI error reported; the link still works\n");
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		aios_ctrl_pci_prepare(ctrl, true);
		return PCI_ERS_RESULT_NEED_RESET;
	case pci_channel_io_perm_failure:
		aios_ctrl_fail(ctrl, "PCI link failed for good");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	return PCI_ERS_RESULT_NEED_RESET;
}

/* The link reset cleared config space: BARs, bus mastering, MSI-X. */
static pci_ers_result_t aios_nvme_slot_reset(struct pci_dev *pdev)
{
	pci_restore_state(pdev);
	pci_save_state(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static void aios_nvme_pci_done(struct pci_dev *pdev)
{
	struct aios_ctrl *ctrl = pci_get_drvdata(pdev);

	if (ctrl)
		aios_ctrl_pci_done(ctrl);
	/*
	 * Restoring config space used up the saved copy (on 6.1 a later
	 * link reset then left the BARs unset): save it for the next one.
	 */
	pci_save_state(pdev);
}

/* A function reset asked for through sysfs (the PCI core saves config space). */
static void aios_nvme_reset_prepare(struct pci_dev *pdev)
{
	struct aios_ctrl *ctrl = pci_get_drvdata(pdev);

	if (ctrl)
		aios_ctrl_pci_prepare(ctrl, false);
}

static const struct pci_error_handlers aios_nvme_err_handler = {
	.error_detected	= aios_nvme_error_detected,
	.slot_reset	= aios_nvme_slot_reset,
	.resume		= aios_nvme_pci_done,
	.reset_prepare	= aios_nvme_reset_prepare,
	.reset_done	= aios_nvme_pci_done,
};

static ssize_t model_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", ((struct aios_ctrl *)dev_get_drvdata(dev))->model);
}
static DEVICE_ATTR_RO(model);

static ssize_t serial_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", ((struct aios_ctrl *)dev_get_drvdata(dev))->serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t firmware_rev_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", ((struct aios_ctrl *)dev_get_drvdata(dev))->firmware);
}
static DEVICE_ATTR_RO(firmware_rev);

static ssize_t queue_count_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", ((struct aios_ctrl *)dev_get_drvdata(dev))->nr_io);
}
static DEVICE_ATTR_RO(queue_count);

static ssize_t queue_depth_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", ((struct aios_ctrl *)dev_get_drvdata(dev))->io_depth);
}
static DEVICE_ATTR_RO(queue_depth);

/*
 * One line per I/O queue: qid, "irq" or "poll", submitted, ended from the
 * interrupt, ended by a poller, waits for a free slot, recent round trip (ns).
 */
static ssize_t queue_stats_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct aios_ctrl *ctrl = dev_get_drvdata(dev);
	int i, len = 0;

	for (i = 0; i < ctrl->nr_queues; i++) {
		struct aios_queue *q = &ctrl->ioq[i];

		len += sysfs_emit_at(buf, len, "%u %s %llu %llu %llu %llu %llu\n", q->qid,
				     q->polled ? "poll" : "irq", q->nr_submitted,
				     q->nr_irq_completed, q->nr_poll_completed,
				     q->nr_slot_waits, READ_ONCE(q->rtt_ewma_ns));
	}
	return len;
}
static DEVICE_ATTR_RO(queue_stats);

static struct attribute *aios_ctrl_attrs[] = {
	&dev_attr_model.attr,
	&dev_attr_serial.attr,
	&dev_attr_firmware_rev.attr,
	&dev_attr_queue_count.attr,
	&dev_attr_queue_depth.attr,
	&dev_attr_queue_stats.attr,
	NULL,
};

static const struct attribute_group aios_ctrl_group = {
	.name = "aiosnvme",
	.attrs = aios_ctrl_attrs,
};

static const struct attribute_group *aios_ctrl_groups[] = {
	&aios_ctrl_group,
	NULL,
};

/* Only the terminator: binding happens through driver_override alone. */
static const struct pci_device_id aios_nvme_ids[] = {
	{ }
};

static struct pci_driver aios_nvme_driver = {
	.name		= "aiosnvme",
	.id_table	= aios_nvme_ids,
	.probe		= aios_nvme_probe,
	.remove		= aios_nvme_remove,
	.shutdown	= aios_nvme_shutdown,
	.driver.pm	= pm_sleep_ptr(&aios_nvme_pm),
	.err_handler	= &aios_nvme_err_handler,
	.dev_groups	= aios_ctrl_groups,
};

#ifdef AIOS_TEST
/* The controller at @bdf, locked, if aiosnvme drives it; NULL otherwise. */
static struct pci_dev *aios_test_lock_pdev(const char *bdf)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;

	if (sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
		return NULL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return NULL;
	device_lock(&pdev->dev);
	if (pdev->dev.driver == &aios_nvme_driver.driver)
		return pdev;
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
	return NULL;
}

static void aios_test_unlock_pdev(struct pci_dev *pdev)
{
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
}

/*
 * The test build's system sleep: a guest under TCG does not wake from a
 * real one, and its virtio-9p share does not survive one.  Runs the
 * driver's own suspend and resume callbacks on the controller at @bdf,
 * @ms apart, as the PM core would (under the device lock), while the
 * rest of the system keeps running and submitting.
 */
int aios_test_pm_cycle(const char *bdf, unsigned int ms)
{
	struct pci_dev *pdev = aios_test_lock_pdev(bdf);

	if (!pdev)
		return -ENODEV;
	aios_nvme_suspend(&pdev->dev);
	msleep(ms);
	aios_nvme_resume(&pdev->dev);
	aios_test_unlock_pdev(pdev);
	return 0;
}

/*
 * The test build's link lost for good: QEMU's root ports offer no way to
 * make the PCI core's recovery fail, so this runs the driver's callback
 * for it, error_detected with perm_failure, as the core would after a
 * failed link reset or a DPC that found the slot empty.
 */
int aios_test_pci_lost(const char *bdf)
{
	struct pci_dev *pdev = aios_test_lock_pdev(bdf);
	pci_ers_result_t res;

	if (!pdev)
		return -ENODEV;
	res = aios_nvme_error_detected(pdev, pci_channel_io_perm_failure);
	aios_test_unlock_pdev(pdev);
	return res == PCI_ERS_RESULT_DISCONNECT ? 0 : -EIO;
}
#endif

int aios_nvme_init(void)
{
	int err = aios_chr_init();

	if (err) {
		pr_err("cannot get character device numbers: %d\n", err);
		return err;
	}
	err = -ENOMEM;
	aios_reset_wq = alloc_workqueue("aiosnvme_reset", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!aios_reset_wq)
		goto chr_exit;
	err = cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN, "block/aiosnvme:online",
				      aios_cpu_online, NULL);
	if (err < 0) {
		pr_err("cannot register for CPU hotplug: %d\n", err);
		goto destroy_wq;
	}
	aios_cpuhp_state = err;
	err = pci_register_driver(&aios_nvme_driver);
	if (err) {
		pr_err("cannot register the PCI driver: %d\n", err);
		goto remove_cpuhp;
	}
	aios_selftest_init();
	return 0;

remove_cpuhp:
	cpuhp_remove_multi_state(aios_cpuhp_state);
destroy_wq:
	destroy_workqueue(aios_reset_wq);
chr_exit:
	aios_chr_exit();
	return err;
}

void aios_nvme_exit(void)
{
	aios_selftest_exit();
	pci_unregister_driver(&aios_nvme_driver);
	cpuhp_remove_multi_state(aios_cpuhp_state);
	destroy_workqueue(aios_reset_wq);
	aios_chr_exit();
	aios_lbio_exit();
	ida_destroy(&aios_instance_ida);
}
