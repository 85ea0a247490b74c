// SPDX-License-Identifier: GPL-2.0
/*
 * Admin commands that change what a namespace is: Format NVM, Sanitize,
 * namespace management and attachment, and whatever else the Commands
 * Supported and Effects log says changes block contents, namespaces or
 * capacity.  Passthrough runs them fenced: nothing in flight and nothing
 * submitted while they run, then every namespace identified again.  A
 * read built for 512-byte blocks and sent after a format to 4 KiB blocks
 * would move eight times the bytes its buffer holds.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include "aiosnvme.h"

/* How long a fence waits for the I/O in flight before it gives up. */
#define AIOS_FENCE_DRAIN	(30 * HZ)

#define AIOS_FENCE_EFFECTS	(NVME_CMD_EFFECTS_LBCC | NVME_CMD_EFFECTS_NCC | \
				 NVME_CMD_EFFECTS_NIC | NVME_CMD_EFFECTS_CSE_MASK)

/* Fenced whatever the log says (or when there is none). */
static const u8 aios_fence_opcodes[] = {
	nvme_admin_format_nvm, nvme_admin_sanitize_nvm, nvme_admin_ns_mgmt,
	nvme_admin_ns_attach,
};

static int aios_read_effects(struct aios_ctrl *ctrl, struct nvme_effects_log *log)
{
	struct nvme_command cmd = { };

	cmd.get_log_page.opcode = nvme_admin_get_log_page;
	cmd.get_log_page.lid = NVME_LOG_CMD_EFFECTS;
	cmd.get_log_page.numdl = cpu_to_le16(sizeof(*log) / 4 - 1);
	return aios_admin_sync(ctrl, &cmd, log, sizeof(*log), NULL);
}

/* At Identify: which admin opcodes passthrough must fence. */
void aios_ctrl_init_fence(struct aios_ctrl *ctrl, bool has_effects_log)
{
	struct nvme_effects_log *log;
	unsigned int i;
	u32 e;

	for (i = 0; i < ARRAY_SIZE(aios_fence_opcodes); i++)
		__set_bit(aios_fence_opcodes[i], ctrl->fence_admin);
	if (!has_effects_log)
		return;
	log = kzalloc(sizeof(*log), GFP_KERNEL);
	if (!log || aios_read_effects(ctrl, log)) {
		dev_warn(ctrl->dev, "no Commands Supported and Effects log: only the standard namespace commands are fenced\n");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(log->acs); i++) {
		e = le32_to_cpu(log->acs[i]);
		if ((e & NVME_CMD_EFFECTS_CSUPP) && (e & AIOS_FENCE_EFFECTS))
			__set_bit(i, ctrl->fence_admin);
	}
out:
	kfree(log);
}

bool aios_cmd_fenced(struct aios_ctrl *ctrl, u8 opcode, bool admin)
{
	return admin && test_bit(opcode, ctrl->fence_admin);
}

static int aios_ctrl_inflight_io(struct aios_ctrl *ctrl)
{
	int i, n = 0;

	for (i = 0; i < ctrl->nr_queues; i++)
		n += atomic_read(&ctrl->ioq[i].inflight);
	return n;
}

/*
 * Bios wait in the block layer (the queues are frozen), lbio and
 * passthrough I/O submitters in aios_ctrl_enter(); then what is in flight
 * ends.  On success the caller holds ns_lock until aios_ns_unfence().
 */
int aios_ns_fence(struct aios_ctrl *ctrl)
{
	unsigned long deadline = jiffies + AIOS_FENCE_DRAIN;
	struct aios_ns *ns;

	mutex_lock(&ctrl->ns_lock);
	list_for_each_entry(ns, &ctrl->namespaces, node)
		blk_mq_freeze_queue(ns->disk->queue);
	WRITE_ONCE(ctrl->fenced, true);
	synchronize_srcu(&ctrl->srcu);
	while (aios_ctrl_inflight_io(ctrl)) {
		if (READ_ONCE(ctrl->dead) || time_after(jiffies, deadline)) {
			dev_warn(ctrl->dev, "%d commands still in flight: the namespace command is refused\n",
				 aios_ctrl_inflight_io(ctrl));
			aios_ns_unfence(ctrl);
			return -EBUSY;
		}
		usleep_range(1000, 2000);
	}
	return 0;
}

void aios_ns_unfence(struct aios_ctrl *ctrl)
{
	struct aios_ns *ns;

	WRITE_ONCE(ctrl->fenced, false);
	wake_up_all(&ctrl->fence_wait);
	list_for_each_entry(ns, &ctrl->namespaces, node)
		blk_mq_unfreeze_queue(ns->disk->queue);
	mutex_unlock(&ctrl->ns_lock);
}

/* Under the fence: every namespace's block size and capacity as they are now. */
void aios_ns_revalidate_all(struct aios_ctrl *ctrl)
{
	struct nvme_id_ns *id = kzalloc(sizeof(*id), GFP_KERNEL);
	struct aios_ns *ns;

	list_for_each_entry(ns, &ctrl->namespaces, node)
		aios_ns_revalidate(ns, id);
	kfree(id);
}
