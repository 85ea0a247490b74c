// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: where the time of a read that missed the page cache, and of an
 * fsync, goes, stage by stage, for the benchmark's breakdown.  Off by
 * default, and then each costs a patched-out branch:
 * `echo on > /sys/kernel/debug/aiosfs/read_stages` (or fsync_stages)
 * starts counting, `reset` clears the sums, reading prints means in
 * microseconds.
 */
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "aiosfs.h"

DEFINE_STATIC_KEY_FALSE(aiosfs_stats_key);
DEFINE_STATIC_KEY_FALSE(aiosfs_fsync_stats_key);

#define AIOSFS_MAX_STAGES	8
#define AIOSFS_MAX_KINDS	3

struct aiosfs_stage_sums {
	u64 ns[AIOSFS_MAX_STAGES];
	u64 count;			/* timed: reads that missed, fsyncs that committed */
	u64 kinds[AIOSFS_MAX_KINDS];
};

struct aiosfs_stage_set {
	const char *file;
	const char *what;
	struct static_key_false *key;
	unsigned int nr;
	const char * const *names;
	const char * const *kinds;	/* counted but not timed; NULL-terminated */
	struct aiosfs_stage_sums __percpu *sums;
};

static const char * const aiosfs_read_names[AIOSFS_ST_NR] = {
	[AIOSFS_ST_SUBMIT]	= "lookup, block map, submit",
	[AIOSFS_ST_INSERT]	= "page cache + LRU insertion, pool refill (device busy)",
	[AIOSFS_ST_WAIT]	= "wait for the device (poll or sleep), publish pages",
	[AIOSFS_ST_COPY]	= "copy to user",
};

static const char * const aiosfs_fsync_names[AIOSFS_FS_NR] = {
	[AIOSFS_FS_DATA]	= "send the file's data (not waited for)",
	[AIOSFS_FS_CLOSE]	= "commit lock, close the transaction",
	[AIOSFS_FS_BUILD]	= "other ordered data, log blocks built + sent",
	[AIOSFS_FS_WAIT]	= "wait for data + log blocks",
	[AIOSFS_FS_COMMIT]	= "commit block: flush + FUA write",
};

static const char * const aiosfs_fsync_kinds[] = {
	[AIOSFS_FSYNC_NOTHING]	= "fsyncs with nothing to do",
	[AIOSFS_FSYNC_FLUSH]	= "fsyncs with data but no commit (a flush or FUA)",
	[AIOSFS_FSYNC_JOINED]	= "fsyncs whose data another's commit waited for",
	NULL,
};

static DEFINE_PER_CPU(struct aiosfs_stage_sums, aiosfs_read_sums);
static DEFINE_PER_CPU(struct aiosfs_stage_sums, aiosfs_fsync_sums);

static struct aiosfs_stage_set aiosfs_sets[] = {
	{ "read_stages", "reads that missed", &aiosfs_stats_key, AIOSFS_ST_NR,
	  aiosfs_read_names, NULL, &aiosfs_read_sums },
	{ "fsync_stages", "fsyncs that committed", &aiosfs_fsync_stats_key, AIOSFS_FS_NR,
	  aiosfs_fsync_names, aiosfs_fsync_kinds, &aiosfs_fsync_sums },
};

static struct dentry *aiosfs_debugfs;

/* Adds one operation's stages, from its time stamps (in stage order). */
static void aiosfs_stages_add(struct aiosfs_stage_sums __percpu *sums, const u64 *t,
			      unsigned int nr)
{
	struct aiosfs_stage_sums *s;
	unsigned int i;

	s = get_cpu_ptr(sums);
	for (i = 0; i < nr; i++)
		s->ns[i] += t[i + 1] - t[i];
	s->count++;
	put_cpu_ptr(sums);
}

void aiosfs_stats_add(const struct aiosfs_read_times *t)
{
	if (!t->t[AIOSFS_ST_SUBMIT + 1])
		return;		/* a hit: nothing was read */
	aiosfs_stages_add(&aiosfs_read_sums, t->t, AIOSFS_ST_NR);
}

/* A commit stamped every stage; anything else is only counted. */
void aiosfs_fsync_stats_add(const struct aiosfs_fsync_times *t, int kind)
{
	int i;

	if (kind >= 0) {
		this_cpu_inc(aiosfs_fsync_sums.kinds[kind]);
		return;
	}
	for (i = 0; i <= AIOSFS_FS_NR; i++)
		if (!t->t[i])
			return;
	aiosfs_stages_add(&aiosfs_fsync_sums, t->t, AIOSFS_FS_NR);
}

static int aiosfs_stages_show(struct seq_file *m, void *v)
{
	const struct aiosfs_stage_set *set = m->private;
	struct aiosfs_stage_sums sum = {};
	u64 total = 0;
	int cpu, i;

	for_each_possible_cpu(cpu) {
		struct aiosfs_stage_sums *s = per_cpu_ptr(set->sums, cpu);

		for (i = 0; i < set->nr; i++)
			sum.ns[i] += s->ns[i];
		for (i = 0; i < AIOSFS_MAX_KINDS; i++)
			sum.kinds[i] += s->kinds[i];
		sum.count += s->count;
	}
	seq_printf(m, "state: %s\n%s: %llu\n", static_key_enabled(set->key) ? "on" : "off",
		   set->what, sum.count);
	for (i = 0; set->kinds && set->kinds[i]; i++)
		seq_printf(m, "%s: %llu\n", set->kinds[i], sum.kinds[i]);
	if (!sum.count)
		return 0;
	for (i = 0; i < set->nr; i++) {
		total += sum.ns[i];
		seq_printf(m, "%-56s %8llu.%01llu us\n", set->names[i],
			   div64_u64(sum.ns[i], sum.count * 1000),
			   div64_u64(sum.ns[i], sum.count * 100) % 10);
	}
	seq_printf(m, "%-56s %8llu.%01llu us\n", "total", div64_u64(total, sum.count * 1000),
		   div64_u64(total, sum.count * 100) % 10);
	return 0;
}

static int aiosfs_stages_open(struct inode *inode, struct file *file)
{
	return single_open(file, aiosfs_stages_show, inode->i_private);
}

static ssize_t aiosfs_stages_write(struct file *file, const char __user *ubuf, size_t len,
				   loff_t *ppos)
{
	struct aiosfs_stage_set *set = file_inode(file)->i_private;
	char buf[8] = {};
	int cpu;

	if (copy_from_user(buf, ubuf, min(len, sizeof(buf) - 1)))
		return -EFAULT;
	if (sysfs_streq(buf, "on")) {
		static_branch_enable(set->key);
	} else if (sysfs_streq(buf, "off")) {
		static_branch_disable(set->key);
	} else if (sysfs_streq(buf, "reset")) {
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(set->sums, cpu), 0, sizeof(struct aiosfs_stage_sums));
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
	unsigned int i;

	aiosfs_debugfs = debugfs_create_dir("aiosfs", NULL);
	for (i = 0; i < ARRAY_SIZE(aiosfs_sets); i++)
		debugfs_create_file(aiosfs_sets[i].file, 0600, aiosfs_debugfs, &aiosfs_sets[i],
				    &aiosfs_stages_fops);
}

void aiosfs_stats_exit(void)
{
	debugfs_remove_recursive(aiosfs_debugfs);
}
