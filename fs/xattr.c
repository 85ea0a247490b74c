// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: reading extended attributes, from the space after the inode's
 * extra fields and from the one external xattr block (i_file_acl).
 * Read-only for now: nothing here sets or removes an attribute.
 */
#include <linux/fs.h>
#include <linux/xattr.h>
#include <linux/capability.h>
#include "aiosfs.h"

#define AIOSFS_XATTR_MAX_VALUE	65536

/* One list of entries; value offsets count from base. */
struct aiosfs_xattr_area {
	const void *base;
	const void *first;
	const void *end;
};

/* Called for each entry; a non-zero return stops the walk with that value. */
typedef int (*aiosfs_xattr_fn)(const struct aiosfs_xattr_entry *e, const void *value,
			       void *arg);

static int aiosfs_xattr_walk(struct inode *inode, const struct aiosfs_xattr_area *a,
			     aiosfs_xattr_fn fn, void *arg)
{
	const void *p = a->first;
	int ret;

	for (;;) {
		const struct aiosfs_xattr_entry *e = p;
		u32 offs, size;

		if (p + sizeof(u32) > a->end)
			goto bad;
		if (!*(const u32 *)p)
			return 0;
		if (p + sizeof(*e) > a->end ||
		    p + AIOSFS_XATTR_ENTRY_LEN(e->e_name_len) > a->end)
			goto bad;
		offs = le16_to_cpu(e->e_value_offs);
		size = le32_to_cpu(e->e_value_size);
		if (e->e_value_inum || size > AIOSFS_XATTR_MAX_VALUE ||
		    a->base + offs + size > a->end || (size && a->base + offs < a->first))
			goto bad;
		ret = fn(e, a->base + offs, arg);
		if (ret)
			return ret;
		p += AIOSFS_XATTR_ENTRY_LEN(e->e_name_len);
	}
bad:
	aiosfs_error(inode->i_sb, "inode %lu: corrupt xattr entry at offset %zu", inode->i_ino,
		     (size_t)(p - a->base));
	return -AIOSFS_EFSCORRUPTED;
}

/* The in-inode area, if the inode has one with the magic; bh to release. */
static struct buffer_head *aiosfs_xattr_ibody(struct inode *inode, struct aiosfs_xattr_area *a)
{
	struct aiosfs_sb_info *sbi = AIOSFS_SB(inode->i_sb);
	unsigned int start = AIOSFS_GOOD_OLD_INODE_SIZE + AIOSFS_I(inode)->i_extra_isize;
	const struct aiosfs_xattr_ibody_header *h;
	struct aiosfs_inode *raw;
	struct buffer_head *bh;

	if (sbi->s_inode_size <= AIOSFS_GOOD_OLD_INODE_SIZE ||
	    start + sizeof(*h) + sizeof(u32) > sbi->s_inode_size)
		return NULL;
	bh = aiosfs_read_raw_inode(inode->i_sb, inode->i_ino, &raw);
	if (IS_ERR(bh))
		return bh;
	h = (const void *)raw + start;
	if (le32_to_cpu(h->h_magic) != AIOSFS_XATTR_MAGIC) {
		brelse(bh);
		return NULL;
	}
	a->first = h + 1;
	a->base = a->first;
	a->end = (const void *)raw + sbi->s_inode_size;
	return bh;
}

static struct buffer_head *aiosfs_xattr_block(struct inode *inode, struct aiosfs_xattr_area *a)
{
	struct super_block *sb = inode->i_sb;
	u64 blk = AIOSFS_I(inode)->i_file_acl;
	const struct aiosfs_xattr_header *h;
	struct buffer_head *bh;

	if (!blk)
		return NULL;
	bh = aiosfs_bread(sb, blk, "xattr");
	if (IS_ERR(bh))
		return bh;
	h = (const void *)bh->b_data;
	if (le32_to_cpu(h->h_magic) != AIOSFS_XATTR_MAGIC || le32_to_cpu(h->h_blocks) != 1) {
		aiosfs_error(sb, "inode %lu: bad xattr block %llu", inode->i_ino, blk);
		brelse(bh);
		return ERR_PTR(-AIOSFS_EFSCORRUPTED);
	}
	if (AIOSFS_SB(sb)->s_has_csum && !aiosfs_buffer_verified(bh)) {
		if (!aiosfs_xattr_block_csum_ok(sb, blk, bh->b_data)) {
			aiosfs_error(sb, "inode %lu: checksum mismatch in xattr block %llu",
				     inode->i_ino, blk);
			brelse(bh);
			return ERR_PTR(-AIOSFS_EFSBADCRC);
		}
		aiosfs_set_buffer_verified(bh);
	}
	a->base = bh->b_data;
	a->first = h + 1;
	a->end = bh->b_data + sb->s_blocksize;
	return bh;
}

/* Walks the in-inode entries, then the block's. */
static int aiosfs_xattr_each(struct inode *inode, aiosfs_xattr_fn fn, void *arg)
{
	struct buffer_head *(*const area[])(struct inode *, struct aiosfs_xattr_area *) = {
		aiosfs_xattr_ibody, aiosfs_xattr_block,
	};
	struct aiosfs_xattr_area a;
	struct buffer_head *bh;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(area); i++) {
		bh = area[i](inode, &a);
		if (IS_ERR(bh))
			return PTR_ERR(bh);
		if (!bh)
			continue;
		ret = aiosfs_xattr_walk(inode, &a, fn, arg);
		brelse(bh);
		if (ret)
			return ret;
	}
	return 0;
}

struct aiosfs_xattr_query {
	int index;
	const char *name;
	size_t name_len;
	void *buffer;
	size_t size;
};

/* Returns the value's length + 1 when found, so that 0 can mean "go on". */
static int aiosfs_xattr_match(const struct aiosfs_xattr_entry *e, const void *value, void *arg)
{
	struct aiosfs_xattr_query *q = arg;
	u32 size = le32_to_cpu(e->e_value_size);

	if (e->e_name_index != q->index || e->e_name_len != q->name_len ||
	    memcmp(e->e_name, q->name, q->name_len))
		return 0;
	if (q->buffer) {
		if (size > q->size)
			return -ERANGE;
		memcpy(q->buffer, value, size);
	}
	return size + 1;
}

static int aiosfs_xattr_get(const struct xattr_handler *handler, struct dentry *unused,
			    struct inode *inode, const char *name, void *buffer, size_t size)
{
	struct aiosfs_xattr_query q = {
		.index = handler->flags, .name = name, .name_len = strlen(name),
		.buffer = buffer, .size = size,
	};
	int ret;

	if (q.name_len > 255)
		return -ERANGE;
	ret = aiosfs_xattr_each(inode, aiosfs_xattr_match, &q);
	if (ret < 0)
		return ret;
	return ret ? ret - 1 : -ENODATA;
}

struct aiosfs_xattr_list {
	char *buffer;
	size_t size;
	size_t used;
};

static const char *aiosfs_xattr_prefix(int index)
{
	switch (index) {
	case AIOSFS_XATTR_INDEX_USER:
		return XATTR_USER_PREFIX;
	case AIOSFS_XATTR_INDEX_TRUSTED:
		return capable(CAP_SYS_ADMIN) ? XATTR_TRUSTED_PREFIX : NULL;
	case AIOSFS_XATTR_INDEX_SECURITY:
		return XATTR_SECURITY_PREFIX;
	default:
		/* POSIX ACLs and system.* are not readable through aiosfs yet. */
		return NULL;
	}
}

static int aiosfs_xattr_add(const struct aiosfs_xattr_entry *e, const void *value, void *arg)
{
	const char *prefix = aiosfs_xattr_prefix(e->e_name_index);
	struct aiosfs_xattr_list *l = arg;
	size_t plen, len;

	if (!prefix)
		return 0;
	plen = strlen(prefix);
	len = plen + e->e_name_len + 1;
	if (l->buffer) {
		if (l->used + len > l->size)
			return -ERANGE;
		memcpy(l->buffer + l->used, prefix, plen);
		memcpy(l->buffer + l->used + plen, e->e_name, e->e_name_len);
		l->buffer[l->used + len - 1] = '\0';
	}
	l->used += len;
	return 0;
}

ssize_t aiosfs_listxattr(struct dentry *dentry, char *buffer, size_t size)
{
	struct aiosfs_xattr_list l = { .buffer = buffer, .size = size };
	int ret = aiosfs_xattr_each(d_inode(dentry), aiosfs_xattr_add, &l);

	return ret < 0 ? ret : l.used;
}

static const struct xattr_handler aiosfs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_USER,
	.get	= aiosfs_xattr_get,
};

static const struct xattr_handler aiosfs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_TRUSTED,
	.get	= aiosfs_xattr_get,
};

static const struct xattr_handler aiosfs_xattr_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_SECURITY,
	.get	= aiosfs_xattr_get,
};

/* Not const: 6.1's super_block wants a pointer to non-const pointers. */
const struct xattr_handler *aiosfs_xattr_handlers[] = {
	&aiosfs_xattr_user_handler,
	&aiosfs_xattr_trusted_handler,
	&aiosfs_xattr_security_handler,
	NULL,
};
