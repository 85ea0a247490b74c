// SPDX-License-Identifier: GPL-2.0
/*
 * aios: an asynchronous I/O stack for low-latency NVMe SSDs, as one module
 * that carries its own NVMe driver (aiosnvme) and filesystem (aiosfs).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <aios/aios.h>
#include <aios/compat.h>

static int __init aios_init(void)
{
	int err;

	err = aios_nvme_init();
	if (err)
		return err;
	err = aiosfs_init();
	if (err)
		goto out_nvme;
	pr_info("aios %s loaded\n", AIOS_VERSION);
	return 0;

out_nvme:
	aios_nvme_exit();
	return err;
}

static void __exit aios_exit(void)
{
	aiosfs_exit();
	aios_nvme_exit();
}

module_init(aios_init);
module_exit(aios_exit);

MODULE_DESCRIPTION("Asynchronous I/O stack: aiosnvme NVMe driver and aiosfs filesystem");
MODULE_AUTHOR("The aios developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(AIOS_VERSION);
