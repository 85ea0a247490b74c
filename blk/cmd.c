// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme: the NVM command set's I/O commands, built in one place for
 * bios (disk.c), lbios (lbio.c) and the flushes the queues send ahead of
 * PREFLUSH writes (queue.c); and the common end of a bio's or an lbio's
 * command, before its owner hears of it.
 *
 * Each builder fills a command that the caller zeroed.  Sectors are the
 * block layer's 512-byte units, lengths bytes; both are whole LBAs of the
 * namespace, which the callers checked.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/blkdev.h>
#include <linux/sizes.h>
#include "aiosnvme.h"

/*
 * Plain reads and writes of a few pages time the device's round trip (the
 * spin budget of waiters); a flush, a FUA write or a write behind a flush
 * waits for the media, a large transfer for the bus.
 */
#define AIOS_RTT_MAX_BYTES	SZ_16K

static __le64 aios_cmd_slba(const struct aios_ns *ns, sector_t sector)
{
	return cpu_to_le64(sector >> (ns->lba_shift - SECTOR_SHIFT));
}

/* NVMe counts blocks from 0: a length field of 0 moves one. */
static __le16 aios_cmd_nlb(const struct aios_ns *ns, u32 bytes)
{
	return cpu_to_le16((bytes >> ns->lba_shift) - 1);
}

/**
 * aios_cmd_rw() - a Read or Write of @bytes at @sector into @slot->cmd
 * @ns: the namespace
 * @slot: the slot, whose data is mapped (PRPs) by the caller
 * @sector: the first 512-byte sector, from the start of the namespace
 * @bytes: the length
 * @flags: AIOS_CMD_WRITE, AIOS_CMD_FUA, AIOS_CMD_PREFLUSH
 *
 * Also decides whether the command's round trip says how quick the device
 * is (@slot->times_rtt).
 */
void aios_cmd_rw(const struct aios_ns *ns, struct aios_slot *slot, sector_t sector, u32 bytes,
		 unsigned int flags)
{
	struct nvme_command *c = &slot->cmd;

	c->rw.opcode = (flags & AIOS_CMD_WRITE) ? nvme_cmd_write : nvme_cmd_read;
	c->rw.nsid = cpu_to_le32(ns->nsid);
	c->rw.slba = aios_cmd_slba(ns, sector);
	c->rw.length = aios_cmd_nlb(ns, bytes);
	if (flags & AIOS_CMD_FUA)
		c->rw.control = cpu_to_le16(NVME_RW_FUA);
	slot->times_rtt = bytes <= AIOS_RTT_MAX_BYTES &&
			  !(flags & (AIOS_CMD_FUA | AIOS_CMD_PREFLUSH));
}

void aios_cmd_flush(struct nvme_command *c, u32 nsid)
{
	c->common.opcode = nvme_cmd_flush;
	c->common.nsid = cpu_to_le32(nsid);
}

/* One range, written into the slot's PRP-list page, which is DMA-able. */
void aios_cmd_discard(const struct aios_ns *ns, struct aios_slot *slot, sector_t sector,
		      u32 bytes)
{
	struct nvme_dsm_range *range = (struct nvme_dsm_range *)slot->prp_list;
	struct nvme_command *c = &slot->cmd;

	range->cattr = 0;
	range->nlb = cpu_to_le32(bytes >> ns->lba_shift);
	range->slba = aios_cmd_slba(ns, sector);
	c->dsm.opcode = nvme_cmd_dsm;
	c->dsm.nsid = cpu_to_le32(ns->nsid);
	c->dsm.dptr.prp1 = cpu_to_le64(slot->prp_dma);
	c->dsm.nr = 0;
	c->dsm.attributes = cpu_to_le32(NVME_DSMGMT_AD);
}

void aios_cmd_write_zeroes(const struct aios_ns *ns, struct nvme_command *c, sector_t sector,
			   u32 bytes)
{
	c->write_zeroes.opcode = nvme_cmd_write_zeroes;
	c->write_zeroes.nsid = cpu_to_le32(ns->nsid);
	c->write_zeroes.slba = aios_cmd_slba(ns, sector);
	c->write_zeroes.length = aios_cmd_nlb(ns, bytes);
}

/**
 * aios_cmd_end() - the common end of a bio's or an lbio's command
 * @q: its queue
 * @slot: its slot, given back here
 * @status: the completion's status field
 * @bdev: for the log line of a failure
 * @what: the operation, for that line
 * @sector: where it was, for that line
 *
 * Return: true when the device reported success.
 */
bool aios_cmd_end(struct aios_queue *q, struct aios_slot *slot, u16 status,
		  struct block_device *bdev, const char *what, sector_t sector)
{
	aios_slot_unmap(q, slot);
	aios_note_rtt(q, slot);
	aios_slot_put(q, slot);
	if (likely(!AIOS_STATUS_CODE(status)))
		return true;
	pr_err_ratelimited("%pg: %s at sector %llu failed: NVMe status %#x\n", bdev, what,
			   (unsigned long long)sector, status);
	return false;
}
