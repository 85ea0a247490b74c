// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: POSIX ACLs, kept as ext4 keeps them: the xattrs of index 2
 * (access) and 3 (default) with an empty name, whose value is a version
 * word and then the entries, 8 bytes for named users and groups and 4 for
 * the others (which carry no id).  The VFS checks permissions against the
 * ACL that get_acl returns and caches.
 */
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/slab.h>
#include "aiosfs.h"

#define AIOSFS_ACL_VERSION	1

struct aiosfs_acl_entry {
	__le16 e_tag;
	__le16 e_perm;
	__le32 e_id;			/* only ACL_USER and ACL_GROUP have it */
};

#define AIOSFS_ACL_SHORT	4	/* an entry without e_id */

static bool aiosfs_acl_has_id(u16 tag)
{
	return tag == ACL_USER || tag == ACL_GROUP;
}

static int aiosfs_acl_index(int type)
{
	return type == ACL_TYPE_ACCESS ? AIOSFS_XATTR_INDEX_POSIX_ACL_ACCESS :
					 AIOSFS_XATTR_INDEX_POSIX_ACL_DEFAULT;
}

/* Entries of an on-disk value, or -EINVAL if it is not one. */
static int aiosfs_acl_count(const void *value, size_t size)
{
	const void *p = value + sizeof(__le32), *end = value + size;
	int n = 0;

	if (size < sizeof(__le32) ||
	    le32_to_cpu(*(const __le32 *)value) != AIOSFS_ACL_VERSION)
		return -EINVAL;
	while (p < end) {
		const struct aiosfs_acl_entry *e = p;
		size_t len;

		if (end - p < AIOSFS_ACL_SHORT)
			return -EINVAL;
		len = aiosfs_acl_has_id(le16_to_cpu(e->e_tag)) ? sizeof(*e) : AIOSFS_ACL_SHORT;
		if (end - p < len)
			return -EINVAL;
		p += len;
		n++;
	}
	return n;
}

static struct posix_acl *aiosfs_acl_from_disk(const void *value, size_t size)
{
	const void *p = value + sizeof(__le32);
	struct posix_acl *acl;
	int n = aiosfs_acl_count(value, size), i;

	if (n <= 0)
		return n ? ERR_PTR(n) : NULL;
	acl = posix_acl_alloc(n, GFP_NOFS);
	if (!acl)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++) {
		const struct aiosfs_acl_entry *e = p;
		struct posix_acl_entry *pa = &acl->a_entries[i];

		pa->e_tag = le16_to_cpu(e->e_tag);
		pa->e_perm = le16_to_cpu(e->e_perm);
		p += aiosfs_acl_has_id(pa->e_tag) ? sizeof(*e) : AIOSFS_ACL_SHORT;
		switch (pa->e_tag) {
		case ACL_USER_OBJ:
		case ACL_GROUP_OBJ:
		case ACL_MASK:
		case ACL_OTHER:
			break;
		case ACL_USER:
			pa->e_uid = make_kuid(&init_user_ns, le32_to_cpu(e->e_id));
			if (!uid_valid(pa->e_uid))
				goto bad;
			break;
		case ACL_GROUP:
			pa->e_gid = make_kgid(&init_user_ns, le32_to_cpu(e->e_id));
			if (!gid_valid(pa->e_gid))
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	return acl;
bad:
	posix_acl_release(acl);
	return ERR_PTR(-EINVAL);
}

/* The on-disk value of acl (kfree it), its size in *size. */
static void *aiosfs_acl_to_disk(const struct posix_acl *acl, size_t *size)
{
	size_t len = sizeof(__le32);
	void *value, *p;
	int i;

	for (i = 0; i < acl->a_count; i++)
		len += aiosfs_acl_has_id(acl->a_entries[i].e_tag) ?
		       sizeof(struct aiosfs_acl_entry) : AIOSFS_ACL_SHORT;
	value = kmalloc(len, GFP_NOFS);
	if (!value)
		return ERR_PTR(-ENOMEM);
	*(__le32 *)value = cpu_to_le32(AIOSFS_ACL_VERSION);
	p = value + sizeof(__le32);
	for (i = 0; i < acl->a_count; i++) {
		const struct posix_acl_entry *pa = &acl->a_entries[i];
		struct aiosfs_acl_entry *e = p;

		e->e_tag = cpu_to_le16(pa->e_tag);
		e->e_perm = cpu_to_le16(pa->e_perm);
		switch (pa->e_tag) {
		case ACL_USER:
			e->e_id = cpu_to_le32(from_kuid(&init_user_ns, pa->e_uid));
			break;
		case ACL_GROUP:
			e->e_id = cpu_to_le32(from_kgid(&init_user_ns, pa->e_gid));
			break;
		case ACL_USER_OBJ:
		case ACL_GROUP_OBJ:
		case ACL_MASK:
		case ACL_OTHER:
			p += AIOSFS_ACL_SHORT;
			continue;
		default:
			kfree(value);
			return ERR_PTR(-EINVAL);
		}
		p += sizeof(*e);
	}
	*size = len;
	return value;
}

struct posix_acl *aiosfs_get_acl(struct inode *inode, int type, bool rcu)
{
	struct posix_acl *acl;
	ssize_t size;
	void *value;

	if (rcu)
		return ERR_PTR(-ECHILD);
	size = aiosfs_xattr_get_value(inode, aiosfs_acl_index(type), "", NULL, 0);
	if (size == -ENODATA)
		return NULL;
	if (size < 0)
		return ERR_PTR(size);
	value = kmalloc(size, GFP_NOFS);
	if (!value)
		return ERR_PTR(-ENOMEM);
	size = aiosfs_xattr_get_value(inode, aiosfs_acl_index(type), "", value, size);
	acl = size < 0 ? ERR_PTR(size) : aiosfs_acl_from_disk(value, size);
	kfree(value);
	if (acl == ERR_PTR(-EINVAL))
		aiosfs_error(inode->i_sb, "inode %lu: bad %s ACL", inode->i_ino,
			     type == ACL_TYPE_ACCESS ? "access" : "default");
	return acl;
}

/* Writes (or with acl NULL removes) the ACL; inside a handle or in its own. */
static int aiosfs_store_acl(struct inode *inode, int type, struct posix_acl *acl)
{
	size_t size = 0;
	void *value = NULL;
	int err;

	if (type == ACL_TYPE_DEFAULT && !S_ISDIR(inode->i_mode))
		return acl ? -EACCES : 0;
	if (acl) {
		value = aiosfs_acl_to_disk(acl, &size);
		if (IS_ERR(value))
			return PTR_ERR(value);
	}
	err = aiosfs_xattr_set(inode, aiosfs_acl_index(type), "", value, size, 0);
	kfree(value);
	if (err == -ENODATA && !acl)
		err = 0;
	if (!err)
		set_cached_acl(inode, type, acl);
	return err;
}

int aiosfs_set_acl(AIOS_IDMAP_ARG idmap, AIOS_ACL_TARGET target, struct posix_acl *acl, int type)
{
	struct inode *inode = aios_acl_inode(target);
	umode_t mode = inode->i_mode;
	struct aiosfs_handle *h;
	int err, err2;

	if (type == ACL_TYPE_ACCESS && acl) {
		/* An ACL that says no more than the mode goes into the mode. */
		err = posix_acl_update_mode(idmap, inode, &mode, &acl);
		if (err)
			return err;
	}
	/* The ACL and the mode that follows it commit together. */
	h = aiosfs_journal_start(inode->i_sb, AIOSFS_CREDITS_XATTR + AIOSFS_CREDITS_INODE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = aiosfs_store_acl(inode, type, acl);
	if (!err && mode != inode->i_mode) {
		inode->i_mode = mode;
		aios_inode_set_ctime_current(inode);
		err = aiosfs_mark_inode_dirty(h, inode);
	}
	err2 = aiosfs_journal_stop(h);
	return err ?: err2;
}

/*
 * A new inode's ACLs, from its directory's default ACL, in the handle that
 * creates it.  posix_acl_create() already fitted the mode (and applied the
 * umask where there is no default ACL: with ACLs on, the VFS leaves that
 * to us).
 */
int aiosfs_init_acl(struct inode *inode, struct posix_acl *default_acl, struct posix_acl *acl)
{
	int err = 0;

	if (default_acl)
		err = aiosfs_store_acl(inode, ACL_TYPE_DEFAULT, default_acl);
	if (!err && acl)
		err = aiosfs_store_acl(inode, ACL_TYPE_ACCESS, acl);
	return err;
}
