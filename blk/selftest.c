// SPDX-License-Identifier: GPL-2.0
/*
 * A self-test of the lbio transports, driven from user space through
 * debugfs, so that the fs/blk contract is checked on both transports
 * before and apart from the filesystem:
 *
 *   echo /dev/aiosnvme0n1 > /sys/kernel/debug/aios/lbio_selftest
 *   cat /sys/kernel/debug/aios/lbio_selftest    # "ok ..." or "FAIL: ..."
 *
 * It overwrites the first 2 MiB of the device.  Beside it, pm_cycle runs
 * a controller's power callbacks (aios_test_pm_cycle()).
 */
#define pr_fmt(fmt) "aios lbio selftest: " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <aios/compat.h>
#include <aios/lbio.h>
#include "aiosnvme.h"

static struct dentry *aios_debugfs;
static DEFINE_MUTEX(aios_selftest_lock);
static char aios_selftest_result[128] = "not run\n";

static void aios_fill(struct page *page, u32 seed)
{
	u32 *p = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / 4; i++)
		p[i] = seed * 2654435761U + i;
	kunmap_local(p);
}

static bool aios_check(struct page *page, u32 seed)
{
	u32 *p = kmap_local_page(page);
	unsigned int i;
	bool ok = true;

	for (i = 0; i < PAGE_SIZE / 4 && ok; i++)
		ok = p[i] == seed * 2654435761U + i;
	kunmap_local(p);
	return ok;
}

struct aios_cb_wait {
	struct completion done;
	atomic_t left;
	int error;
};

static void aios_selftest_end(struct aios_lbio *lbio)
{
	struct aios_cb_wait *w = lbio->private;

	if (lbio->error)
		w->error = lbio->error;
	if (atomic_dec_and_test(&w->left))
		complete(&w->done);
}

/*
 * Writes @nr pages at @sector with @flags, waiting the synchronous way, then
 * reads them back in single-page lbios ended by callbacks, and compares.
 */
static int aios_selftest_one(struct aios_lbio_dev *dev, struct page **pages, sector_t sector,
			     unsigned int nr, unsigned int flags, u32 seed)
{
	struct aios_lbio *lbio = kmalloc_array(nr, sizeof(*lbio), GFP_KERNEL);
	struct aios_cb_wait w;
	unsigned int i;
	int err;

	if (!lbio)
		return -ENOMEM;
	aios_lbio_init(&lbio[0], dev, sector, AIOS_LBIO_WRITE | flags);
	for (i = 0; i < nr; i++) {
		aios_fill(pages[i], seed + i);
		aios_lbio_add_page(&lbio[0], pages[i]);
	}
	aios_lbio_submit(&lbio[0]);
	err = aios_lbio_wait(&lbio[0]);
	if (err)
		goto out;

	init_completion(&w.done);
	atomic_set(&w.left, nr);
	w.error = 0;
	for (i = 0; i < nr; i++) {
		aios_fill(pages[i], 0);
		aios_lbio_init(&lbio[i], dev, sector + i * (PAGE_SIZE >> SECTOR_SHIFT), 0);
		aios_lbio_add_page(&lbio[i], pages[i]);
		lbio[i].end_io = aios_selftest_end;
		lbio[i].private = &w;
		aios_lbio_submit(&lbio[i]);
	}
	wait_for_completion(&w.done);
	err = w.error;
	for (i = 0; i < nr && !err; i++)
		if (!aios_check(pages[i], seed + i))
			err = -EILSEQ;
out:
	kfree(lbio);
	return err;
}

/*
 * A waiter that comes long after the device finished (its submitter was
 * held up) learns nothing of the device's speed: the polled queue's round
 * trip estimate must not grow, or polling would stop for a device as quick
 * as ever.  On the bio fallback, or when the read went to a queue with an
 * interrupt, there is nothing to check.
 */
static int aios_selftest_late_wait(struct aios_lbio_dev *dev, struct page *page)
{
	struct aios_lbio lbio;
	struct aios_queue *q;
	u64 before;
	int err;

	aios_lbio_init(&lbio, dev, 0, 0);
	aios_lbio_add_page(&lbio, page);
	aios_lbio_submit(&lbio);
	q = aios_lbio_queue(&lbio);
	before = q ? READ_ONCE(q->rtt_ewma_ns) : 0;
	msleep(20);
	err = aios_lbio_wait(&lbio);
	if (!err && q && q->polled && READ_ONCE(q->rtt_ewma_ns) > before)
		err = -ERANGE;
	return err;
}

static int aios_selftest_run(struct block_device *bdev, char *msg, size_t len)
{
	static const unsigned int sizes[] = { 1, 3, 8, AIOS_LBIO_MAX_PAGES };
	static const unsigned int flags[] = { 0, AIOS_LBIO_FUA, AIOS_LBIO_PREFLUSH,
					      AIOS_LBIO_PREFLUSH | AIOS_LBIO_FUA };
	struct page *pages[AIOS_LBIO_MAX_PAGES] = { };
	struct aios_lbio_dev *dev;
	struct aios_lbio beyond;
	unsigned int i, j;
	int err = 0;

	dev = aios_lbio_dev_get(bdev);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	for (i = 0; i < AIOS_LBIO_MAX_PAGES && !err; i++) {
		pages[i] = aios_lbio_page_get();
		err = pages[i] ? 0 : -ENOMEM;
	}
	aios_lbio_pool_refill();
	for (i = 0; i < ARRAY_SIZE(sizes) && !err; i++) {
		for (j = 0; j < ARRAY_SIZE(flags) && !err; j++) {
			/* Odd page offsets, so that starts are not aligned to sizes. */
			sector_t sector = (i * 64 + j * 8 + 1) * (PAGE_SIZE >> SECTOR_SHIFT);

			err = aios_selftest_one(dev, pages, sector, sizes[i], flags[j],
						i * 1000 + j * 100 + 1);
			if (err)
				scnprintf(msg, len, "FAIL: %u pages, flags %#x: %d\n",
					  sizes[i], flags[j], err);
		}
	}
	if (!err) {
		/* Past the end of the device must fail cleanly. */
		aios_lbio_init(&beyond, dev, bdev_nr_sectors(bdev), 0);
		aios_lbio_add_page(&beyond, pages[0]);
		aios_lbio_submit(&beyond);
		if (aios_lbio_wait(&beyond) != -EIO) {
			err = -EINVAL;
			scnprintf(msg, len, "FAIL: a read past the end did not fail with EIO\n");
		}
	}
	if (!err) {
		err = aios_selftest_late_wait(dev, pages[0]);
		if (err)
			scnprintf(msg, len, "FAIL: a late waiter's read: %d%s\n", err,
				  err == -ERANGE ? " (it raised the round-trip estimate)" : "");
	}
	if (!err)
		scnprintf(msg, len, "ok %s transport\n",
			  aios_lbio_dev_direct(dev) ? "direct" : "bio");
	for (i = 0; i < AIOS_LBIO_MAX_PAGES; i++)
		if (pages[i])
			__free_page(pages[i]);
	aios_lbio_dev_put(dev);
	return err;
}

static ssize_t aios_selftest_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	struct aios_bdev_handle h;
	char path[64];
	int err;

	if (count >= sizeof(path))
		return -EINVAL;
	if (copy_from_user(path, ubuf, count))
		return -EFAULT;
	path[count] = '\0';
	strim(path);
	mutex_lock(&aios_selftest_lock);
	err = aios_bdev_open(path, aios_selftest_result, &h);
	if (err) {
		scnprintf(aios_selftest_result, sizeof(aios_selftest_result),
			  "FAIL: cannot open %s: %d\n", path, err);
	} else {
		err = aios_selftest_run(h.bdev, aios_selftest_result, sizeof(aios_selftest_result));
		aios_bdev_close(&h);
	}
	pr_info("%s: %s", path, aios_selftest_result);
	mutex_unlock(&aios_selftest_lock);
	return err ? err : count;
}

static ssize_t aios_selftest_read(struct file *file, char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&aios_selftest_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, aios_selftest_result,
				      strlen(aios_selftest_result));
	mutex_unlock(&aios_selftest_lock);
	return ret;
}

static const struct file_operations aios_selftest_fops = {
	.owner	= THIS_MODULE,
	.write	= aios_selftest_write,
	.read	= aios_selftest_read,
	.llseek	= default_llseek,
};

/* echo "0000:00:03.0 3000" > pm_cycle: that controller's suspend, 3 s, its resume. */
static ssize_t aios_pm_cycle_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	char arg[64], bdf[32];
	unsigned int ms;
	int err;

	if (count >= sizeof(arg))
		return -EINVAL;
	if (copy_from_user(arg, ubuf, count))
		return -EFAULT;
	arg[count] = '\0';
	if (sscanf(arg, "%31s %u", bdf, &ms) != 2 || ms > 60000)
		return -EINVAL;
	err = aios_test_pm_cycle(bdf, ms);
	return err ? err : count;
}

static const struct file_operations aios_pm_cycle_fops = {
	.owner	= THIS_MODULE,
	.write	= aios_pm_cycle_write,
	.llseek	= noop_llseek,
};

/* echo 0000:00:03.0 > pci_lost: that controller's link lost for good. */
static ssize_t aios_pci_lost_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	char arg[64], bdf[32];
	int err;

	if (count >= sizeof(arg))
		return -EINVAL;
	if (copy_from_user(arg, ubuf, count))
		return -EFAULT;
	arg[count] = '\0';
	if (sscanf(arg, "%31s", bdf) != 1)
		return -EINVAL;
	err = aios_test_pci_lost(bdf);
	return err ? err : count;
}

static const struct file_operations aios_pci_lost_fops = {
	.owner	= THIS_MODULE,
	.write	= aios_pci_lost_write,
	.llseek	= noop_llseek,
};

void aios_selftest_init(void)
{
	aios_debugfs = debugfs_create_dir("aios", NULL);
	debugfs_create_file("lbio_selftest", 0600, aios_debugfs, NULL, &aios_selftest_fops);
	debugfs_create_file("pm_cycle", 0200, aios_debugfs, NULL, &aios_pm_cycle_fops);
	debugfs_create_file("pci_lost", 0200, aios_debugfs, NULL, &aios_pci_lost_fops);
}

void aios_selftest_exit(void)
{
	debugfs_remove(aios_debugfs);
}
