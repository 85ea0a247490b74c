// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe passthrough with the kernel's own ABI (linux/nvme_ioctl.h), so that
 * nvme-cli and libnvme work on /dev/aiosnvme<C> (the controller) and on
 * /dev/aiosnvme<C>n<N> (a namespace) as they do on nvme.ko's devices.
 *
 * Data goes through a kernel bounce buffer: passthrough is for management,
 * not for the fast path.  No metadata, no SGLs, at most one transfer's size.
 * Commands that would leave the controller holding host memory are refused.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/nvme_ioctl.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "aiosnvme.h"

#define AIOS_MAX_CTRLS		256

static dev_t aios_chr_base;

static unsigned long aios_user_timeout(u32 timeout_ms)
{
	return timeout_ms ? msecs_to_jiffies(timeout_ms) : AIOS_ADMIN_TIMEOUT;
}

/* Runs a checked user command; returns the NVMe status (>= 0) or -errno. */
static int aios_user_run(struct aios_ctrl *ctrl, struct nvme_command *c, bool admin,
			 void *buf, u32 len, u32 timeout_ms, u64 *result)
{
	u16 status = 0;
	int idx, err;

	if (admin) {
		/* Waits out a reset; refused by one that began meanwhile, nothing was sent. */
		do {
			err = aios_admin_lock(ctrl);
			if (err)
				return err;
			err = aios_sync_cmd(ctrl, &ctrl->admin, c, buf, len,
					    aios_user_timeout(timeout_ms), &status, result);
			mutex_unlock(&ctrl->admin_lock);
		} while (err == -EAGAIN);
	} else {
		/* Against teardown and namespace fences, as for lbio submitters. */
		idx = aios_ctrl_enter(ctrl);
		err = READ_ONCE(ctrl->dead) ? -ENODEV :
		      aios_sync_cmd(ctrl, &ctrl->ioq[aios_cpu_queue_index(ctrl)], c, buf, len,
				    aios_user_timeout(timeout_ms), &status, result);
		srcu_read_unlock(&ctrl->srcu, idx);
	}
	return err ? err : AIOS_STATUS_CODE(status);
}

/*
 * A command that changes namespaces runs with no other I/O in flight, and
 * the namespaces are identified again after it, whatever its outcome (one
 * that timed out may have taken effect).
 */
static int aios_user_run_fenced(struct aios_ctrl *ctrl, struct nvme_command *c, bool admin,
				void *buf, u32 len, u32 timeout_ms, u64 *result)
{
	int ret;

	if (!aios_cmd_fenced(ctrl, c->common.opcode, admin))
		return aios_user_run(ctrl, c, admin, buf, len, timeout_ms, result);
	ret = aios_ns_fence(ctrl);
	if (ret)
		return ret;
	ret = aios_user_run(ctrl, c, admin, buf, len, timeout_ms, result);
	aios_ns_revalidate_all(ctrl);
	aios_ns_unfence(ctrl);
	return ret;
}

/*
 * Admin commands that give the controller host memory to keep (doorbell
 * buffers, the host memory buffer), or the queues and event slots the
 * driver owns: the controller would use them after the command and its
 * bounce buffer are gone.
 */
static bool aios_user_cmd_refused(const struct nvme_passthru_cmd64 *u, bool admin)
{
	if (!admin)
		return false;
	switch (u->opcode) {
	case nvme_admin_delete_sq:
	case nvme_admin_create_sq:
	case nvme_admin_delete_cq:
	case nvme_admin_create_cq:
	case nvme_admin_async_event:
	case nvme_admin_dbbuf:
		return true;
	case nvme_admin_set_features:
		return (u->cdw10 & 0xff) == NVME_FEAT_HOST_MEM_BUF;
	default:
		return false;
	}
}

/*
 * The command, not data_len, decides how much the controller transfers
 * (Identify moves 4 KiB whatever the caller says), and a transfer past
 * what is mapped lands in memory we do not own.  So every command that
 * may move data gets a zeroed bounce buffer of the controller's maximum
 * transfer, all of it mapped: nothing the controller may move leaves it.
 * The caller's data_len bytes are what is copied in and out, as nvme.ko
 * copies them to and from the caller's own pages.
 */
static u32 aios_user_buf_len(struct aios_ctrl *ctrl, const struct nvme_passthru_cmd64 *u)
{
	return (u->opcode & 3) || u->data_len ? ctrl->max_xfer : 0;
}

static void aios_user_build(struct nvme_command *c, const struct nvme_passthru_cmd64 *u,
			    struct aios_ns *ns, bool admin)
{
	c->common.opcode = u->opcode;
	c->common.nsid = cpu_to_le32(!admin && ns ? ns->nsid : u->nsid);
	c->common.cdw2[0] = cpu_to_le32(u->cdw2);
	c->common.cdw2[1] = cpu_to_le32(u->cdw3);
	c->common.cdw10 = cpu_to_le32(u->cdw10);
	c->common.cdw11 = cpu_to_le32(u->cdw11);
	c->common.cdw12 = cpu_to_le32(u->cdw12);
	c->common.cdw13 = cpu_to_le32(u->cdw13);
	c->common.cdw14 = cpu_to_le32(u->cdw14);
	c->common.cdw15 = cpu_to_le32(u->cdw15);
}

static int aios_user_copy_in(struct nvme_passthru_cmd64 *u, void __user *argp, bool is64)
{
	struct nvme_passthru_cmd u32;

	if (is64)
		return copy_from_user(u, argp, sizeof(*u)) ? -EFAULT : 0;
	if (copy_from_user(&u32, argp, sizeof(u32)))
		return -EFAULT;
	memcpy(u, &u32, offsetof(struct nvme_passthru_cmd, result));
	u->rsvd2 = 0;
	return 0;
}

/*
 * One NVME_IOCTL_{ADMIN,IO}[64]_CMD.  @ns is set when issued on a namespace's
 * block device, whose nsid then applies to I/O commands.
 */
static int aios_user_cmd(struct aios_ctrl *ctrl, struct aios_ns *ns, void __user *argp,
			 bool is64, bool admin)
{
	void __user *ubuf;
	struct nvme_passthru_cmd64 u;
	struct nvme_command c = { };
	void *buf = NULL;
	u64 result = 0;
	u32 buf_len;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EACCES;
	ret = aios_user_copy_in(&u, argp, is64);
	if (ret)
		return ret;
	if (u.flags || u.metadata || u.metadata_len)
		return -EINVAL;
	if (u.data_len > ctrl->max_xfer || (u.data_len && !u.addr))
		return -EINVAL;
	if (aios_user_cmd_refused(&u, admin)) {
		dev_warn_ratelimited(ctrl->dev,
				     "passthrough: admin opcode %#x refused: the driver owns queues and host memory\n",
				     u.opcode);
		return -EINVAL;
	}
	aios_user_build(&c, &u, ns, admin);
	ubuf = u64_to_user_ptr(u.addr);

	/* The opcode's direction bits (spec 5): 01b host to controller, 10b back. */
	buf_len = aios_user_buf_len(ctrl, &u);
	if (buf_len) {
		buf = kvzalloc(buf_len, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		if ((u.opcode & 3) != 2 && copy_from_user(buf, ubuf, u.data_len)) {
			ret = -EFAULT;
			goto out;
		}
	}
	ret = aios_user_run_fenced(ctrl, &c, admin, buf, buf_len, u.timeout_ms, &result);
	if (ret < 0)
		goto out;
	if ((u.opcode & 3) != 1 && copy_to_user(ubuf, buf, u.data_len)) {
		ret = -EFAULT;
		goto out;
	}
	if (is64 ? put_user(result, &((struct nvme_passthru_cmd64 __user *)argp)->result) :
		   put_user((u32)result, &((struct nvme_passthru_cmd __user *)argp)->result))
		ret = -EFAULT;
out:
	kvfree(buf);
	return ret;
}

static int aios_ctrl_ioctl(struct aios_ctrl *ctrl, struct aios_ns *ns, unsigned int cmd,
			   void __user *argp)
{
	switch (cmd) {
	case NVME_IOCTL_ADMIN_CMD:
		return aios_user_cmd(ctrl, ns, argp, false, true);
	case NVME_IOCTL_ADMIN64_CMD:
		return aios_user_cmd(ctrl, ns, argp, true, true);
	case NVME_IOCTL_IO_CMD:
		return aios_user_cmd(ctrl, ns, argp, false, false);
	case NVME_IOCTL_IO64_CMD:
		return aios_user_cmd(ctrl, ns, argp, true, false);
	case NVME_IOCTL_ID:
		return ns ? ns->nsid : -ENOTTY;
	default:
		return -ENOTTY;
	}
}

int aios_ns_ioctl(struct aios_ns *ns, unsigned int cmd, void __user *argp)
{
	return aios_ctrl_ioctl(ns->ctrl, ns, cmd, argp);
}

static long aios_chr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return aios_ctrl_ioctl(file->private_data, NULL, cmd, (void __user *)arg);
}

static int aios_chr_open(struct inode *inode, struct file *file)
{
	/* The open file pins the cdev, its device, and through it the controller. */
	file->private_data = container_of(inode->i_cdev, struct aios_ctrl, cdev);
	return 0;
}

static const struct file_operations aios_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= aios_chr_open,
	.unlocked_ioctl	= aios_chr_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static void aios_cdev_release(struct device *dev)
{
	aios_ctrl_put(container_of(dev, struct aios_ctrl, cdev_dev));
}

int aios_ctrl_add_cdev(struct aios_ctrl *ctrl)
{
	int err;

	if (ctrl->instance >= AIOS_MAX_CTRLS) {
		dev_warn(ctrl->dev, "no passthrough device: more than %d controllers\n",
			 AIOS_MAX_CTRLS);
		return 0;
	}
	device_initialize(&ctrl->cdev_dev);
	ctrl->cdev_dev.devt = MKDEV(MAJOR(aios_chr_base), ctrl->instance);
	ctrl->cdev_dev.parent = ctrl->dev;
	ctrl->cdev_dev.release = aios_cdev_release;
	kref_get(&ctrl->ref);
	err = dev_set_name(&ctrl->cdev_dev, "aiosnvme%d", ctrl->instance);
	if (err)
		goto put;
	cdev_init(&ctrl->cdev, &aios_chr_fops);
	ctrl->cdev.owner = THIS_MODULE;
	err = cdev_device_add(&ctrl->cdev, &ctrl->cdev_dev);
	if (err)
		goto put;
	ctrl->cdev_added = true;
	return 0;

put:
	put_device(&ctrl->cdev_dev);
	return err;
}

void aios_ctrl_del_cdev(struct aios_ctrl *ctrl)
{
	if (!ctrl->cdev_added)
		return;
	ctrl->cdev_added = false;
	cdev_device_del(&ctrl->cdev, &ctrl->cdev_dev);
	put_device(&ctrl->cdev_dev);
}

int aios_chr_init(void)
{
	return alloc_chrdev_region(&aios_chr_base, 0, AIOS_MAX_CTRLS, "aiosnvme");
}

void aios_chr_exit(void)
{
	unregister_chrdev_region(aios_chr_base, AIOS_MAX_CTRLS);
}
