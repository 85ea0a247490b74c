// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: mount entry points.
 */
#define pr_fmt(fmt) "aiosfs: " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <aios/aios.h>

static int aiosfs_get_tree(struct fs_context *fc)
{
	/*
	 * errorfc() reaches the kernel log for mount(2) callers and the
	 * fsopen() log for the new API, so the reason is never lost.
	 */
	errorfc(fc, "mounting %s is not supported yet", fc->source ?: "(no source)");
	return -EOPNOTSUPP;
}

static const struct fs_context_operations aiosfs_context_ops = {
	.get_tree	= aiosfs_get_tree,
};

static int aiosfs_init_fs_context(struct fs_context *fc)
{
	fc->ops = &aiosfs_context_ops;
	return 0;
}

static struct file_system_type aiosfs_type = {
	.owner			= THIS_MODULE,
	.name			= "aiosfs",
	.init_fs_context	= aiosfs_init_fs_context,
	.kill_sb		= kill_block_super,
	.fs_flags		= FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS("aiosfs");

int aiosfs_init(void)
{
	int err = register_filesystem(&aiosfs_type);

	if (err)
		pr_err("cannot register the filesystem type: %d\n", err);
	return err;
}

void aiosfs_exit(void)
{
	unregister_filesystem(&aiosfs_type);
}
