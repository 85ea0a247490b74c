// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: where the time of a read that missed the page cache goes, stage
 * by stage, for the benchmark's breakdown.  Off by default, and then it
 * costs a patched-out branch: `echo on > /sys/kernel/debug/aiosfs/read_stages`
 * starts it, `reset` clears the sums, reading prints means in microseconds.
 */
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "aiosfs.h"

DEFINE_STATIC_KEY_FALSE(aiosfs_stats_key);

static const char * const aiosfs_stage_names[AIOSFS_ST_NR] = {
	[AIOSFS_ST_SUBMIT]	= "lookup, block map, submit",
	[AIOSFS_ST_INSERT]	= "page cache + LRU insertion, pool refill (device busy)",
	[AIOSFS_ST_WAIT]	= "wait for the device (poll or sleep), publish pages",
	[AIOSFS_ST_COPY]	= "copy to user",
};

struct aiosfs_stage_sums {
	u64 ns[AIOSFS_ST_NR];
	u64 count;
};

static DEFINE_PER_CPU(struct aiosfs_stage_sums, aiosfs_sums);
static struct dentry *aiosfs_debugfs;

/* Adds one read's stages, from its time stamps (which are in stage order). */
void aiosfs_stats_add(const struct aiosfs_read_times *t)
{
	struct aiosfs_stage_sums *s;
	int i;

	if (!t->t[AIOSFS_ST_SUBMIT + 1])
		return;		/* a hit: nothing was read */
	s = get_cpu_ptr(&aiosfs_sums);
	for (i = 0; i < AIOSFS_ST_NR; i++)
		s->ns[i] += t->t[i + 1] - t->t[i];
	s->count++;
	put_cpu_ptr(&aiosfs_sums);
}

static int aiosfs_stages_show(struct seq_file *m, void *v)
{
	struct aiosfs_stage_sums sum = {};
	u64 total = 0;
	int cpu, i;

	for_each_possible_cpu(cpu) {
		struct aiosfs_stage_sums *s = per_cpu_ptr(&aiosfs_sums, cpu);

		for (i = 0; i < AIOSFS_ST_NR; i++)
			sum.ns[i] += s->ns[i];
		sum.count += s->count;
	}
	seq_printf(m, "state: %s\nreads that missed: %llu\n",
		   static_key_enabled(&aiosfs_stats_key) ? "on" : "off", sum.count);
	if (!sum.count)
		return 0;
	for (i = 0; i < AIOSFS_ST_NR; i++) {
		total += sum.ns[i];
		seq_printf(m, "%-56s %8llu.%01llu us\n", aiosfs_stage_names[i],
			   div64_u64(sum.ns[i], sum.count * 1000),
			   div64_u64(sum.ns[i], sum.count * 100) % 10);
	}
	seq_printf(m, "%-56s %8llu.%01llu us\n", "total", div64_u64(total, sum.count * 1000),
		   div64_u64(total, sum.count * 100) % 10);
	return 0;
}

static int aiosfs_stages_open(struct inode *inode, struct file *file)
{
	return single_open(file, aiosfs_stages_show, NULL);
}

static ssize_t aiosfs_stages_write(struct file *file, const char __user *ubuf, size_t len,
				   loff_t *ppos)
{
	char buf[8] = {};
	int cpu;

	if (copy_from_user(buf, ubuf, min(len, sizeof(buf) - 1)))
		return -EFAULT;
	if (sysfs_streq(buf, "on")) {
		static_branch_enable(&aiosfs_stats_key);
	} else if (sysfs_streq(buf, "off")) {
		static_branch_disable(&aiosfs_stats_key);
	} else if (sysfs_streq(buf, "reset")) {
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(&aiosfs_sums, cpu), 0, sizeof(struct aiosfs_stage_sums));
	} else {
		return -EINVAL;
	}
	return len;
}

static const struct file_operations aiosfs_stages_fops = {
	.owner		= THIS_MODULE,
	.open		= aiosfs_stages_open,
	.read		= seq_read,
	.write		= aiosfs_stages_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

void aiosfs_stats_init(void)
{
	aiosfs_debugfs = debugfs_create_dir("aiosfs", NULL);
	debugfs_create_file("read_stages", 0600, aiosfs_debugfs, NULL, &aiosfs_stages_fops);
}

void aiosfs_stats_exit(void)
{
	debugfs_remove_recursive(aiosfs_debugfs);
}
