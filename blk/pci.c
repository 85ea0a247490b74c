// SPDX-License-Identifier: GPL-2.0
/*
 * aiosnvme: the PCI side of the aios NVMe driver.
 *
 * The driver has no device IDs on purpose: it must never take a controller
 * away from nvme.ko.  A controller is handed to it explicitly by writing
 * "aiosnvme" to its driver_override (tools/aios-bind does that), which the
 * PCI core matches against the driver name alone.
 */
#define pr_fmt(fmt) "aiosnvme: " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <aios/aios.h>

/* Base class 01h (mass storage), subclass 08h (NVM), interface 02h (NVMe). */
#define AIOS_NVME_CLASS		0x010802

static int aios_nvme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	if (pdev->class != AIOS_NVME_CLASS) {
		dev_err(&pdev->dev, "not an NVMe controller (class %06x)\n", pdev->class);
		return -ENODEV;
	}
	dev_info(&pdev->dev, "controller support is not built yet; leaving it unbound\n");
	return -ENODEV;
}

/* Only the terminator: binding happens through driver_override alone. */
static const struct pci_device_id aios_nvme_ids[] = {
	{ }
};

static struct pci_driver aios_nvme_driver = {
	.name		= "aiosnvme",
	.id_table	= aios_nvme_ids,
	.probe		= aios_nvme_probe,
};

int aios_nvme_init(void)
{
	int err = pci_register_driver(&aios_nvme_driver);

	if (err)
		pr_err("cannot register the PCI driver: %d\n", err);
	return err;
}

void aios_nvme_exit(void)
{
	pci_unregister_driver(&aios_nvme_driver);
}
