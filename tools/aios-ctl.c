// SPDX-License-Identifier: GPL-2.0
/*
 * aios-ctl: the NVMe controllers driven by nvme.ko or aiosnvme, with their
 * namespaces, described by Identify data read through each driver's
 * passthrough interface (libnvme), and aiosnvme's per-queue statistics.
 *
 * Controllers are found as NVMe-class PCI functions in sysfs.  For nvme.ko
 * the namespace disks come from libnvme's topology scan; aiosnvme is unknown
 * to libnvme, so its controller device (a child of the PCI device named
 * aiosnvme<C>) and its disks (under the PCI device's block/) are found here.
 * Each disk's nsid comes from NVME_IOCTL_ID on the disk, its Identify
 * Namespace data from the controller's character device, which also lists
 * active namespaces that have no disk.
 */
#include <ctype.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <libnvme.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define NVME_PCI_CLASS	"0x010802"	/* mass storage, NVM, NVMe */
#define ERR_LEN		256

/* printf-style argument checks, as with the kernel's __printf() */
#define ATTRIBUTE(x)	__attribute__(x)
#define __printf(a, b)	ATTRIBUTE((format(printf, a, b)))

struct ns_info {
	char dev[80];		/* the namespace's disk, "" if it has none */
	__u32 nsid;		/* 0: unknown */
	bool identified;
	__u64 nsze;
	__u32 lba_size;
	char err[ERR_LEN];
};

struct ctrl_info {
	char bdf[64];
	char driver[64];	/* "nvme", "aiosnvme", another driver or "none" */
	char dev[80];		/* /dev/nvme<C> or /dev/aiosnvme<C>, "" if not found */
	bool identified;
	__u16 vid;
	__u32 nn;
	char model[41];
	char serial[21];
	char firmware[9];
	char err[ERR_LEN];
	struct ns_info *ns;
	int nr_ns;
};

struct queue_stat {
	unsigned int qid;
	char type[8];
	unsigned long long submitted;
	unsigned long long irq_done;
	unsigned long long poll_done;
	unsigned long long slot_waits;
	unsigned long long rtt_ns;
};

static bool json;
static int exit_status;
static nvme_root_t stock_root;	/* libnvme's view of nvme.ko, scanned once */

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "aios-ctl: out of memory\n");
		exit(1);
	}
	return p;
}

/* snprintf(): names from sysfs fit, and an over-long one may be cut. */
static void __printf(3, 4) fmt_str(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Says what went wrong on stderr, keeps it in @buf (if any) and fails the run. */
static void __printf(2, 3) report(char *buf, const char *fmt, ...)
{
	char msg[ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "aios-ctl: %s\n", msg);
	if (buf)
		fmt_str(buf, ERR_LEN, "%s", msg);
	exit_status = 1;
}

/* Why a libnvme call failed: -1 with errno, or an NVMe status. */
static const char *nvme_why(int ret, int err)
{
	static char buf[160];

	if (ret < 0) {
		fmt_str(buf, sizeof(buf), "%s%s", strerror(err),
			err == EACCES || err == EPERM ? " (run as root)" : "");
	} else {
		fmt_str(buf, sizeof(buf), "NVMe status 0x%x: %s", ret,
			nvme_status_to_string(ret, false));
	}
	return buf;
}

/* Reads a sysfs attribute into @buf without its trailing newline. */
static int read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	fmt_str(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

/* The last component of a path. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Whether @s is @prefix, a number, and with @ns "n" and another number. */
static bool dev_name_is(const char *s, const char *prefix, bool ns)
{
	size_t len = strlen(prefix);
	int part;

	if (strncmp(s, prefix, len))
		return false;
	s += len;
	for (part = 0; part < (ns ? 2 : 1); part++) {
		if (part && *s++ != 'n')
			return false;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return !*s;
}

/* The first entry of directory @dir that is @prefix<N>, into @name. */
static bool find_child(const char *dir, const char *prefix, char *name, size_t len)
{
	struct dirent *d;
	bool found = false;
	DIR *dh;

	dh = opendir(dir);
	if (!dh)
		return false;
	while (!found && (d = readdir(dh))) {
		if (dev_name_is(d->d_name, prefix, false)) {
			fmt_str(name, len, "%s", d->d_name);
			found = true;
		}
	}
	closedir(dh);
	return found;
}

/* Identify strings are space-padded and not terminated. */
static void id_string(char *dst, const char *src, size_t len)
{
	size_t i;

	memcpy(dst, src, len);
	dst[len] = 0;
	while (len > 0 && (dst[len - 1] == ' ' || !dst[len - 1]))
		dst[--len] = 0;
	for (i = 0; i < len; i++)
		if (!isprint((unsigned char)dst[i]))
			dst[i] = '?';
}

static struct ns_info *add_ns(struct ctrl_info *c, const char *dev, __u32 nsid)
{
	struct ns_info *n;
	int i;

	for (i = 0; i < c->nr_ns; i++) {
		if (dev && !strcmp(c->ns[i].dev, dev))
			return NULL;
	}
	c->ns = xrealloc(c->ns, (c->nr_ns + 1) * sizeof(*c->ns));
	n = &c->ns[c->nr_ns++];
	memset(n, 0, sizeof(*n));
	if (dev)
		fmt_str(n->dev, sizeof(n->dev), "%s", dev);
	n->nsid = nsid;
	return n;
}

/*
 * The disks of nvme.ko's controller @name, as libnvme sees them: its own
 * namespaces, or with native multipath the namespaces of its paths.
 */
static void stock_namespaces(struct ctrl_info *c, const char *name)
{
	nvme_root_t root = stock_root;
	static bool scanned;
	char dev[80];
	nvme_subsystem_t s;
	nvme_host_t h;
	nvme_ctrl_t ctrl;
	nvme_path_t p;
	nvme_ns_t n;

	if (!scanned) {
		scanned = true;
		root = nvme_create_root(stderr, LOG_ERR);
		if (!root) {
			report(NULL, "libnvme: nvme_create_root() failed: %s", strerror(errno));
		} else if (nvme_scan_topology(root, NULL, NULL) < 0) {
			report(NULL, "libnvme cannot scan the nvme topology: %s", strerror(errno));
			nvme_free_tree(root);
			root = NULL;
		}
		stock_root = root;
	}
	if (!root)
		return;
	nvme_for_each_host(root, h) {
		nvme_for_each_subsystem(h, s) {
			nvme_subsystem_for_each_ctrl(s, ctrl) {
				if (strcmp(nvme_ctrl_get_name(ctrl), name))
					continue;
				nvme_ctrl_for_each_ns(ctrl, n) {
					fmt_str(dev, sizeof(dev), "/dev/%s", nvme_ns_get_name(n));
					add_ns(c, dev, 0);
				}
				nvme_ctrl_for_each_path(ctrl, p) {
					n = nvme_path_get_ns(p);
					if (!n)
						continue;
					fmt_str(dev, sizeof(dev), "/dev/%s", nvme_ns_get_name(n));
					add_ns(c, dev, 0);
				}
			}
		}
	}
}

/* aiosnvme's disks hang off the PCI device: block/aiosnvme<C>n<N>. */
static void aios_namespaces(struct ctrl_info *c)
{
	char dir[PATH_MAX], dev[80];
	struct dirent **ents;
	int i, n;

	fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/block", c->bdf);
	n = scandir(dir, &ents, NULL, versionsort);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		if (dev_name_is(ents[i]->d_name, "aiosnvme", true)) {
			fmt_str(dev, sizeof(dev), "/dev/%s", ents[i]->d_name);
			add_ns(c, dev, 0);
		}
		free(ents[i]);
	}
	free(ents);
}

static void identify_ns(struct ctrl_info *c, int fd, struct ns_info *n)
{
	struct nvme_id_ns id;
	__u8 fmt;
	int ret;

	memset(&id, 0, sizeof(id));
	ret = nvme_identify_ns(fd, n->nsid, &id);
	if (ret) {
		report(n->err, "%s: Identify Namespace %u failed: %s", c->dev, n->nsid,
		       nvme_why(ret, errno));
		return;
	}
	nvme_id_ns_flbas_to_lbaf_inuse(id.flbas, &fmt);
	n->nsze = le64toh(id.nsze);
	n->lba_size = id.lbaf[fmt].ds < 32 ? 1U << id.lbaf[fmt].ds : 0;
	n->identified = true;
}

static int ns_cmp(const void *a, const void *b)
{
	const struct ns_info *x = a, *y = b;

	/* Those of unknown nsid last. */
	if (!x->nsid != !y->nsid)
		return x->nsid ? -1 : 1;
	if (x->nsid != y->nsid)
		return x->nsid < y->nsid ? -1 : 1;
	return strcmp(x->dev, y->dev);
}

/* Active namespaces without a disk are listed too. */
static void add_active_ns(struct ctrl_info *c, int fd)
{
	struct nvme_ns_list *list;
	__u32 start = 0, nsid;
	int i, j, ret;

	list = xrealloc(NULL, sizeof(*list));
	do {
		memset(list, 0, sizeof(*list));
		ret = nvme_identify_active_ns_list(fd, start, list);
		if (ret) {
			/* Optional before NVMe 1.1: the disks are all we know. */
			break;
		}
		for (i = 0; i < NVME_ID_NS_LIST_MAX; i++) {
			nsid = le32toh(list->ns[i]);
			if (!nsid)
				break;
			start = nsid;
			for (j = 0; j < c->nr_ns && c->ns[j].nsid != nsid; j++)
				;
			if (j == c->nr_ns)
				add_ns(c, NULL, nsid);
		}
	} while (i == NVME_ID_NS_LIST_MAX);
	free(list);
}

static void identify_ctrl(struct ctrl_info *c)
{
	struct nvme_id_ctrl id;
	int fd, nfd, ret, i;

	fd = open(c->dev, O_RDONLY);
	if (fd < 0) {
		report(c->err, "cannot open %s: %s", c->dev, nvme_why(-1, errno));
		return;
	}
	/* Zeroed, for valgrind, which does not know what the ioctl writes. */
	memset(&id, 0, sizeof(id));
	ret = nvme_identify_ctrl(fd, &id);
	if (ret) {
		report(c->err, "%s: Identify Controller failed: %s", c->dev, nvme_why(ret, errno));
		close(fd);
		return;
	}
	c->identified = true;
	c->vid = le16toh(id.vid);
	c->nn = le32toh(id.nn);
	id_string(c->model, id.mn, sizeof(id.mn));
	id_string(c->serial, id.sn, sizeof(id.sn));
	id_string(c->firmware, id.fr, sizeof(id.fr));

	for (i = 0; i < c->nr_ns; i++) {
		struct ns_info *n = &c->ns[i];

		nfd = open(n->dev, O_RDONLY);
		if (nfd < 0) {
			report(n->err, "cannot open %s: %s", n->dev, nvme_why(-1, errno));
			continue;
		}
		ret = nvme_get_nsid(nfd, &n->nsid);
		if (ret || !n->nsid) {
			report(n->err, "%s: NVME_IOCTL_ID failed: %s", n->dev,
			       ret ? nvme_why(ret, errno) : "nsid 0");
			n->nsid = 0;
		}
		close(nfd);
	}
	add_active_ns(c, fd);
	for (i = 0; i < c->nr_ns; i++)
		if (c->ns[i].nsid)
			identify_ns(c, fd, &c->ns[i]);
	qsort(c->ns, c->nr_ns, sizeof(*c->ns), ns_cmp);
	close(fd);
}

/* Fills in the controller at PCI address c->bdf. */
static void probe_ctrl(struct ctrl_info *c)
{
	char dir[PATH_MAX], name[64] = "", link[PATH_MAX];
	ssize_t n;

	fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/driver", c->bdf);
	n = readlink(dir, link, sizeof(link) - 1);
	if (n < 0) {
		fmt_str(c->driver, sizeof(c->driver), "none");
		return;
	}
	link[n] = 0;
	fmt_str(c->driver, sizeof(c->driver), "%s", base_name(link));

	if (!strcmp(c->driver, "nvme")) {
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/nvme", c->bdf);
		if (!find_child(dir, "nvme", name, sizeof(name))) {
			report(c->err, "%s: on nvme.ko but no controller in %s", c->bdf, dir);
			return;
		}
		stock_namespaces(c, name);
	} else if (!strcmp(c->driver, "aiosnvme")) {
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s", c->bdf);
		if (!find_child(dir, "aiosnvme", name, sizeof(name))) {
			report(c->err, "%s: on aiosnvme but no aiosnvme<N> device in %s",
			       c->bdf, dir);
			return;
		}
		aios_namespaces(c);
	} else {
		return;
	}
	fmt_str(c->dev, sizeof(c->dev), "/dev/%s", name);
	identify_ctrl(c);
}

/* The NVMe controllers on the PCI bus, in address order. */
static int scan_ctrls(struct ctrl_info **out)
{
	char dir[PATH_MAX], class[32];
	struct ctrl_info *ctrls = NULL;
	struct dirent **ents;
	int i, n, nr = 0;

	n = scandir(PCI_DEVICES, &ents, NULL, alphasort);
	if (n < 0) {
		report(NULL, "cannot read %s: %s", PCI_DEVICES, strerror(errno));
		*out = NULL;
		return 0;
	}
	for (i = 0; i < n; i++) {
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s", ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' &&
		    !read_attr(dir, "class", class, sizeof(class)) &&
		    !strcmp(class, NVME_PCI_CLASS)) {
			ctrls = xrealloc(ctrls, (nr + 1) * sizeof(*ctrls));
			memset(&ctrls[nr], 0, sizeof(*ctrls));
			fmt_str(ctrls[nr].bdf, sizeof(ctrls[nr].bdf), "%s", ents[i]->d_name);
			nr++;
		}
		free(ents[i]);
	}
	free(ents);
	*out = ctrls;
	return nr;
}

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *human_size(unsigned long long bytes)
{
	static const char * const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	static char buf[32];
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (v == (unsigned long long)v)
		fmt_str(buf, sizeof(buf), "%llu %s", (unsigned long long)v, unit[u]);
	else
		fmt_str(buf, sizeof(buf), "%.1f %s", v, unit[u]);
	return buf;
}

static void print_list_text(struct ctrl_info *ctrls, int nr)
{
	int i, j;

	if (!nr)
		printf("no NVMe controllers\n");
	for (i = 0; i < nr; i++) {
		struct ctrl_info *c = &ctrls[i];

		printf("%-13s %-9s %-16s", c->bdf, c->driver, c->dev[0] ? c->dev : "-");
		if (c->identified)
			printf(" model \"%s\"  serial \"%s\"  firmware \"%s\"\n",
			       c->model, c->serial, c->firmware);
		else if (c->err[0])
			printf(" error: %s\n", c->err);
		else
			printf(" (not on nvme or aiosnvme)\n");
		for (j = 0; j < c->nr_ns; j++) {
			struct ns_info *n = &c->ns[j];

			printf("    %-18s", n->dev[0] ? n->dev : "(no disk)");
			if (n->nsid)
				printf(" nsid %-4u", n->nsid);
			if (n->identified)
				printf(" size %llu (%s)  lba %u",
				       (unsigned long long)(n->nsze * n->lba_size),
				       human_size(n->nsze * n->lba_size), n->lba_size);
			if (n->err[0])
				printf(" error: %s", n->err);
			else if (!n->identified)
				printf(" (not read)");
			putchar('\n');
		}
	}
}

static void print_list_json(struct ctrl_info *ctrls, int nr)
{
	int i, j;

	printf("{\n  \"controllers\": [");
	for (i = 0; i < nr; i++) {
		struct ctrl_info *c = &ctrls[i];

		printf("%s\n    {\n      \"address\": ", i ? "," : "");
		json_str(c->bdf);
		printf(",\n      \"driver\": ");
		json_str(c->driver);
		printf(",\n      \"device\": ");
		json_str(c->dev[0] ? c->dev : NULL);
		if (c->identified) {
			printf(",\n      \"vid\": %u,\n      \"model\": ", c->vid);
			json_str(c->model);
			printf(",\n      \"serial\": ");
			json_str(c->serial);
			printf(",\n      \"firmware\": ");
			json_str(c->firmware);
			printf(",\n      \"nn\": %u", c->nn);
		}
		if (c->err[0]) {
			printf(",\n      \"error\": ");
			json_str(c->err);
		}
		printf(",\n      \"namespaces\": [");
		for (j = 0; j < c->nr_ns; j++) {
			struct ns_info *n = &c->ns[j];

			printf("%s\n        { \"device\": ", j ? "," : "");
			json_str(n->dev[0] ? n->dev : NULL);
			printf(", \"nsid\": %u", n->nsid);
			if (n->identified)
				printf(", \"nsze\": %llu, \"lba_size\": %u, \"size\": %llu",
				       (unsigned long long)n->nsze, n->lba_size,
				       (unsigned long long)(n->nsze * n->lba_size));
			if (n->err[0]) {
				printf(", \"error\": ");
				json_str(n->err);
			}
			printf(" }");
		}
		printf("%s]\n    }", c->nr_ns ? "\n      " : "");
	}
	printf("%s]\n}\n", nr ? "\n  " : "");
}

static int cmd_list(int argc)
{
	struct ctrl_info *ctrls;
	int i, nr;

	if (argc) {
		fprintf(stderr, "aios-ctl: list takes no argument (see aios-ctl --help)\n");
		return 2;
	}
	nr = scan_ctrls(&ctrls);
	for (i = 0; i < nr; i++)
		probe_ctrl(&ctrls[i]);
	if (json)
		print_list_json(ctrls, nr);
	else
		print_list_text(ctrls, nr);
	for (i = 0; i < nr; i++)
		free(ctrls[i].ns);
	free(ctrls);
	if (stock_root)
		nvme_free_tree(stock_root);
	return exit_status;
}

/*
 * @arg as the PCI address of an aiosnvme controller: an address (domain
 * optional), or its devices' names, aiosnvme<C>[n<N>] with or without /dev/.
 */
static bool resolve_aios(const char *arg, char *bdf, size_t len)
{
	char dir[PATH_MAX], name[64], link[PATH_MAX], drv[64] = "";
	const char *base = base_name(arg);
	struct dirent *d;
	ssize_t n;
	DIR *dh;
	int inst;

	if (strchr(base, ':')) {
		/* Without a domain, 0000. */
		fmt_str(bdf, len, "%s%s", strchr(base, ':') == strrchr(base, ':') ? "0000:" : "",
			base);
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s", bdf);
		if (access(dir, F_OK)) {
			report(NULL, "%s: no such PCI device", bdf);
			return false;
		}
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/driver", bdf);
		n = readlink(dir, link, sizeof(link) - 1);
		if (n >= 0) {
			link[n] = 0;
			fmt_str(drv, sizeof(drv), "%s", base_name(link));
		}
		if (strcmp(drv, "aiosnvme")) {
			report(NULL, "%s: not on aiosnvme (driver: %s)", bdf,
			       drv[0] ? drv : "none");
			return false;
		}
		return true;
	}
	if (sscanf(base, "aiosnvme%d", &inst) != 1 || inst < 0 ||
	    !(dev_name_is(base, "aiosnvme", false) || dev_name_is(base, "aiosnvme", true))) {
		report(NULL, "%s: not an aiosnvme device or PCI address", arg);
		return false;
	}
	fmt_str(name, sizeof(name), "aiosnvme%d", inst);
	dh = opendir("/sys/bus/pci/drivers/aiosnvme");
	while (dh && (d = readdir(dh))) {
		if (!strchr(d->d_name, ':'))
			continue;
		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/%s", d->d_name, name);
		if (!access(dir, F_OK)) {
			fmt_str(bdf, len, "%s", d->d_name);
			closedir(dh);
			return true;
		}
	}
	if (dh)
		closedir(dh);
	report(NULL, "%s: no controller %s on aiosnvme", arg, name);
	return false;
}

/* Reads queue_stats of the aiosnvme controller at @bdf; -1 on error. */
static int read_stats(const char *bdf, struct queue_stat **out, int *nr_irq, int *depth)
{
	char dir[PATH_MAX], path[PATH_MAX], buf[64], line[256];
	struct queue_stat *qs = NULL, q;
	int nr = 0, ret;
	FILE *f;

	*out = NULL;
	fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s/aiosnvme", bdf);
	ret = read_attr(dir, "queue_count", buf, sizeof(buf));
	if (!ret) {
		*nr_irq = atoi(buf);
		ret = read_attr(dir, "queue_depth", buf, sizeof(buf));
	}
	if (ret) {
		report(NULL, "%s: cannot read %s: %s", bdf, dir, strerror(-ret));
		return -1;
	}
	*depth = atoi(buf);
	fmt_str(path, sizeof(path), "%s/queue_stats", dir);
	f = fopen(path, "r");
	if (!f) {
		report(NULL, "%s: cannot read %s: %s", bdf, path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		memset(&q, 0, sizeof(q));
		if (sscanf(line, "%u %7s %llu %llu %llu %llu %llu", &q.qid, q.type,
			   &q.submitted, &q.irq_done, &q.poll_done, &q.slot_waits,
			   &q.rtt_ns) != 7) {
			line[strcspn(line, "\n")] = 0;
			report(NULL, "%s: unexpected line in %s: '%s'", bdf, path, line);
			fclose(f);
			free(qs);
			return -1;
		}
		qs = xrealloc(qs, (nr + 1) * sizeof(*qs));
		qs[nr++] = q;
	}
	fclose(f);
	*out = qs;
	return nr;
}

static void print_stats_text(const char *bdf, const char *name, struct queue_stat *qs,
			     int nr, int nr_irq, int depth)
{
	struct queue_stat t = { 0 };
	int i;

	printf("%s  /dev/%s  %d queues (%d irq, %d poll), depth %d\n", bdf, name, nr,
	       nr_irq, nr - nr_irq, depth);
	printf("  %4s %-5s %12s %12s %12s %11s %9s\n", "QID", "TYPE", "SUBMITTED",
	       "IRQ-DONE", "POLL-DONE", "SLOT-WAITS", "RTT-US");
	for (i = 0; i < nr; i++) {
		printf("  %4u %-5s %12llu %12llu %12llu %11llu %9.1f\n", qs[i].qid,
		       qs[i].type, qs[i].submitted, qs[i].irq_done, qs[i].poll_done,
		       qs[i].slot_waits, qs[i].rtt_ns / 1000.0);
		t.submitted += qs[i].submitted;
		t.irq_done += qs[i].irq_done;
		t.poll_done += qs[i].poll_done;
		t.slot_waits += qs[i].slot_waits;
	}
	printf("  %4s %-5s %12llu %12llu %12llu %11llu\n", "all", "", t.submitted,
	       t.irq_done, t.poll_done, t.slot_waits);
}

static void print_stats_json(const char *bdf, const char *name, struct queue_stat *qs,
			     int nr, int nr_irq, int depth)
{
	int i;

	printf("\n    {\n      \"address\": ");
	json_str(bdf);
	printf(",\n      \"device\": \"/dev/%s\",\n", name);
	printf("      \"queue_count\": %d,\n      \"queue_depth\": %d,\n", nr_irq, depth);
	printf("      \"queues\": [");
	for (i = 0; i < nr; i++) {
		printf("%s\n        { \"qid\": %u, \"type\": ", i ? "," : "", qs[i].qid);
		json_str(qs[i].type);
		printf(", \"submitted\": %llu, \"irq_completed\": %llu", qs[i].submitted,
		       qs[i].irq_done);
		printf(", \"poll_completed\": %llu, \"slot_waits\": %llu, \"rtt_ns\": %llu }",
		       qs[i].poll_done, qs[i].slot_waits, qs[i].rtt_ns);
	}
	printf("%s]\n    }", nr ? "\n      " : "");
}

static int cmd_stats(int argc, char **argv)
{
	char (*bdfs)[64] = NULL, name[64];
	struct dirent **ents;
	struct queue_stat *qs;
	int i, n, nr = 0, nr_irq, depth, shown = 0;

	if (argc) {
		bdfs = xrealloc(NULL, argc * sizeof(*bdfs));
		for (i = 0; i < argc; i++)
			if (resolve_aios(argv[i], bdfs[nr], sizeof(bdfs[nr])))
				nr++;
	} else {
		n = scandir("/sys/bus/pci/drivers/aiosnvme", &ents, NULL, alphasort);
		for (i = 0; i < n; i++) {
			if (strchr(ents[i]->d_name, ':')) {
				bdfs = xrealloc(bdfs, (nr + 1) * sizeof(*bdfs));
				fmt_str(bdfs[nr++], sizeof(*bdfs), "%s", ents[i]->d_name);
			}
			free(ents[i]);
		}
		if (n >= 0)
			free(ents);
		if (!nr)
			report(NULL, "no controller is on aiosnvme (%ssee tools/aios-bind)",
			       n < 0 ? "the aios module is not loaded; " : "");
	}
	if (json)
		printf("{\n  \"controllers\": [");
	for (i = 0; i < nr; i++) {
		char dir[PATH_MAX];
		int nq;

		fmt_str(dir, sizeof(dir), PCI_DEVICES "/%s", bdfs[i]);
		if (!find_child(dir, "aiosnvme", name, sizeof(name)))
			fmt_str(name, sizeof(name), "aiosnvme?");
		nq = read_stats(bdfs[i], &qs, &nr_irq, &depth);
		if (nq < 0)
			continue;
		if (json) {
			printf("%s", shown ? "," : "");
			print_stats_json(bdfs[i], name, qs, nq, nr_irq, depth);
		} else {
			print_stats_text(bdfs[i], name, qs, nq, nr_irq, depth);
		}
		shown++;
		free(qs);
	}
	if (json)
		printf("%s]\n}\n", shown ? "\n  " : "");
	free(bdfs);
	return exit_status;
}

static void show_help(FILE *f)
{
	fputs("usage: aios-ctl [-o text|json] [list]\n"
	      "       aios-ctl [-o text|json] stats [DEV...]\n"
	      "\n"
	      "The NVMe controllers driven by nvme.ko or aiosnvme, with Identify data read\n"
	      "through each driver's passthrough interface, and aiosnvme's queue counters.\n"
	      "\n"
	      "  list     (the default) one line per NVMe PCI controller: address, driver,\n"
	      "           controller device, model, serial and firmware (Identify\n"
	      "           Controller); under it one line per namespace: disk, nsid, size\n"
	      "           (nsze x LBA size, from Identify Namespace) and LBA size\n"
	      "  stats    per-queue counters of aiosnvme controllers (from sysfs\n"
	      "           aiosnvme/queue_stats): submitted, ended from the interrupt, ended\n"
	      "           by a poller, waits for a free slot, recent round trip.  DEV is a\n"
	      "           PCI address, aiosnvme<C>[n<N>] or /dev/aiosnvme<C>[n<N>]; default:\n"
	      "           every controller on aiosnvme\n"
	      "\n"
	      "  -o, --output FMT   text (default) or json\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "Passthrough commands need root.  Exit status: 0; 1 if a device could not\n"
	      "be read (the rest is still shown, the error also on stderr); 2 on bad usage.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd;
	int o;

	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			if (!strcmp(optarg, "json")) {
				json = true;
			} else if (!strcmp(optarg, "text")) {
				json = false;
			} else {
				fprintf(stderr, "aios-ctl: unknown output format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			show_help(stdout);
			return 0;
		default:
			show_help(stderr);
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind++] : "list";
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "list"))
		return cmd_list(argc);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	fprintf(stderr, "aios-ctl: unknown command '%s' (see aios-ctl --help)\n", cmd);
	return 2;
}
