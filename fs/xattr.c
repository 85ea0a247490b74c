// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: extended attributes, in the space after the inode's extra fields
 * and in the one external xattr block (i_file_acl), in ext4's format.
 *
 * Setters hold i_rwsem (the VFS takes it), which serializes the changes of
 * one inode.  An area is changed in place under its buffer's lock, and
 * readers walk it under that lock, so they see it whole.  A block that
 * other inodes share (h_refcount > 1, made by ext4's sharing of identical
 * blocks) is never changed in place: the changer gets a copy of its own.
 */
#include <linux/fs.h>
#include <linux/xattr.h>
#include <linux/security.h>
#include <linux/posix_acl_xattr.h>
#include <linux/capability.h>
#include <linux/sort.h>
#include <linux/mm.h>
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
	/* A setter may be moving the inode to a new block: either is whole. */
	u64 blk = READ_ONCE(AIOSFS_I(inode)->i_file_acl);
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
		/* Setters change an area under this lock: never see half a change. */
		lock_buffer(bh);
		ret = aiosfs_xattr_walk(inode, &a, fn, arg);
		unlock_buffer(bh);
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

ssize_t aiosfs_xattr_get_value(struct inode *inode, int index, const char *name, void *buffer,
			       size_t size)
{
	struct aiosfs_xattr_query q = {
		.index = index, .name = name, .name_len = strlen(name),
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

static int aiosfs_xattr_get(const struct xattr_handler *handler, struct dentry *unused,
			    struct inode *inode, const char *name, void *buffer, size_t size)
{
	return aiosfs_xattr_get_value(inode, handler->flags, name, buffer, size);
}

struct aiosfs_xattr_list {
	char *buffer;
	size_t size;
	size_t used;
	struct super_block *sb;
};

/* ACL entries have an empty name: the prefix is all of it. */
static const char *aiosfs_xattr_prefix(struct super_block *sb, int index)
{
	switch (index) {
	case AIOSFS_XATTR_INDEX_USER:
		return XATTR_USER_PREFIX;
	case AIOSFS_XATTR_INDEX_TRUSTED:
		return capable(CAP_SYS_ADMIN) ? XATTR_TRUSTED_PREFIX : NULL;
	case AIOSFS_XATTR_INDEX_SECURITY:
		return XATTR_SECURITY_PREFIX;
	case AIOSFS_XATTR_INDEX_POSIX_ACL_ACCESS:
		return (sb->s_flags & SB_POSIXACL) ? XATTR_NAME_POSIX_ACL_ACCESS : NULL;
	case AIOSFS_XATTR_INDEX_POSIX_ACL_DEFAULT:
		return (sb->s_flags & SB_POSIXACL) ? XATTR_NAME_POSIX_ACL_DEFAULT : NULL;
	default:
		/* system.* (richacl, data) is not readable through aiosfs yet. */
		return NULL;
	}
}

static int aiosfs_xattr_add(const struct aiosfs_xattr_entry *e, const void *value, void *arg)
{
	struct aiosfs_xattr_list *l = arg;
	const char *prefix = aiosfs_xattr_prefix(l->sb, e->e_name_index);
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
	struct aiosfs_xattr_list l = { .buffer = buffer, .size = size,
				       .sb = dentry->d_sb };
	int ret = aiosfs_xattr_each(d_inode(dentry), aiosfs_xattr_add, &l);

	return ret < 0 ? ret : l.used;
}

/*
 * The write side.  A change rebuilds the whole area it touches from a list
 * of its attributes: entries from the start, values packed down from the
 * end, 4-byte aligned with zero padding, as ext4 lays them out.
 */

/* One attribute of an area being rebuilt. */
struct aiosfs_xattr_item {
	const char *name;
	const void *value;
	u32 size;
	u8 name_len;
	u8 index;
};

struct aiosfs_xattr_items {
	struct aiosfs_xattr_item *it;
	unsigned int n;
	unsigned int max;
};

/* What the caller asked for; value NULL removes. */
struct aiosfs_xattr_req {
	struct aiosfs_xattr_item item;
	int flags;
};

/* One change of one inode's attributes, inside one handle. */
struct aiosfs_xattr_ctx {
	struct inode *inode;
	struct aiosfs_handle *h;
	struct buffer_head *ibh;	/* the inode table block, if the inode has room */
	void *iarea;			/* ... the in-inode area's magic in it */
	unsigned int isize;		/* ... bytes after the magic */
	bool imagic;			/* ... which is there */
	struct buffer_head *bbh;	/* the xattr block, if any */
	struct aiosfs_xattr_items ii;	/* the in-inode attributes (in icopy) */
	struct aiosfs_xattr_items bi;	/* the block's (in bcopy) */
	struct aiosfs_xattr_items out;	/* an area's new list */
	void *icopy;
	void *bcopy;
	void *scratch;			/* the new area is built here */
	bool alloc_failed;		/* ENOSPC came from the allocator */
	bool inode_changed;		/* the inode's slot or i_file_acl changed */
};

#define AIOSFS_XATTR_VALUE_LEN(size)	(((size) + AIOSFS_XATTR_ROUND) & ~AIOSFS_XATTR_ROUND)
#define AIOSFS_XATTR_NAME_SHIFT		5
#define AIOSFS_XATTR_VALUE_SHIFT	16
#define AIOSFS_XATTR_BLOCK_SHIFT	16

/*
 * ext4's entry hash: the name's bytes (unsigned, as current kernels and
 * e2fsck compute it), then the value's little-endian words, padding included.
 */
static u32 aiosfs_xattr_hash(const struct aiosfs_xattr_entry *e, const void *value)
{
	const unsigned char *name = (const unsigned char *)e->e_name;
	const __le32 *v = value;
	u32 hash = 0, n;

	for (n = e->e_name_len; n; n--)
		hash = (hash << AIOSFS_XATTR_NAME_SHIFT) ^
		       (hash >> (32 - AIOSFS_XATTR_NAME_SHIFT)) ^ *name++;
	for (n = AIOSFS_XATTR_VALUE_LEN(le32_to_cpu(e->e_value_size)) >> 2; n; n--)
		hash = (hash << AIOSFS_XATTR_VALUE_SHIFT) ^
		       (hash >> (32 - AIOSFS_XATTR_VALUE_SHIFT)) ^ le32_to_cpu(*v++);
	return hash;
}

/* ext4's block hash, over the entries' hashes; 0 (never shared) if one is 0. */
static u32 aiosfs_xattr_block_hash(const void *block)
{
	const struct aiosfs_xattr_entry *e = block + sizeof(struct aiosfs_xattr_header);
	u32 hash = 0;

	while (*(const u32 *)e) {
		if (!e->e_hash)
			return 0;
		hash = (hash << AIOSFS_XATTR_BLOCK_SHIFT) ^
		       (hash >> (32 - AIOSFS_XATTR_BLOCK_SHIFT)) ^ le32_to_cpu(e->e_hash);
		e = (const void *)e + AIOSFS_XATTR_ENTRY_LEN(e->e_name_len);
	}
	return hash;
}

static int aiosfs_xattr_collect(const struct aiosfs_xattr_entry *e, const void *value, void *arg)
{
	struct aiosfs_xattr_items *l = arg;

	/* The walk keeps entries inside the area, so max (area / 16) holds them all. */
	if (WARN_ON_ONCE(l->n >= l->max))
		return -AIOSFS_EFSCORRUPTED;
	l->it[l->n++] = (struct aiosfs_xattr_item) {
		.name = e->e_name, .value = value, .size = le32_to_cpu(e->e_value_size),
		.name_len = e->e_name_len, .index = e->e_name_index,
	};
	return 0;
}

static int aiosfs_xattr_find(const struct aiosfs_xattr_items *l,
			     const struct aiosfs_xattr_item *x)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->it[i].index == x->index && l->it[i].name_len == x->name_len &&
		    !memcmp(l->it[i].name, x->name, x->name_len))
			return i;
	return -1;
}

/* ext4 finds block entries by a sorted scan: (name_index, name_len, name). */
static int aiosfs_xattr_cmp(const void *a, const void *b)
{
	const struct aiosfs_xattr_item *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, x->name_len);
}

/*
 * c->out := from without its entry number found (-1: none), plus the new
 * attribute if add: where the old one was, or last (as ext4 appends in the
 * inode), or in sorted order for a block.
 */
static void aiosfs_xattr_edit(struct aiosfs_xattr_ctx *c, const struct aiosfs_xattr_items *from,
			      int found, const struct aiosfs_xattr_item *x, bool add, bool sorted)
{
	struct aiosfs_xattr_items *out = &c->out;
	unsigned int i;

	out->n = 0;
	for (i = 0; i < from->n; i++) {
		if (i != found)
			out->it[out->n++] = from->it[i];
		else if (add && !sorted)
			out->it[out->n++] = *x;
	}
	if (add && (found < 0 || sorted))
		out->it[out->n++] = *x;
	if (sorted)
		sort(out->it, out->n, sizeof(*out->it), aiosfs_xattr_cmp, NULL);
}

/*
 * Lays l out in base[first, end): entries from first, values from end down,
 * value offsets counting from base.  -ENOSPC if it does not fit.
 */
static int aiosfs_xattr_layout(void *base, unsigned int first, unsigned int end,
			       const struct aiosfs_xattr_items *l, bool hash)
{
	unsigned int i, need = sizeof(u32), offs = end;
	struct aiosfs_xattr_entry *e = base + first;

	for (i = 0; i < l->n; i++)
		need += AIOSFS_XATTR_ENTRY_LEN(l->it[i].name_len) +
			AIOSFS_XATTR_VALUE_LEN(l->it[i].size);
	if (need > end - first)
		return -ENOSPC;
	memset(base + first, 0, end - first);
	for (i = 0; i < l->n; i++) {
		const struct aiosfs_xattr_item *x = &l->it[i];

		e->e_name_len = x->name_len;
		e->e_name_index = x->index;
		e->e_value_size = cpu_to_le32(x->size);
		memcpy(e->e_name, x->name, x->name_len);
		/* An empty value has offset 0, as ext4 writes it. */
		if (x->size) {
			offs -= AIOSFS_XATTR_VALUE_LEN(x->size);
			memcpy(base + offs, x->value, x->size);
			e->e_value_offs = cpu_to_le16(offs);
		}
		/* ext4 hashes block entries only; e2fsck accepts 0 in the inode. */
		if (hash)
			e->e_hash = cpu_to_le32(aiosfs_xattr_hash(e, base + offs));
		e = (void *)e + AIOSFS_XATTR_ENTRY_LEN(x->name_len);
	}
	return 0;
}

/* Reads both areas into private copies and lists their attributes. */
static int aiosfs_xattr_load(struct aiosfs_xattr_ctx *c)
{
	struct inode *inode = c->inode;
	struct super_block *sb = inode->i_sb;
	u32 isz = AIOSFS_SB(sb)->s_inode_size;
	u16 extra = AIOSFS_I(inode)->i_extra_isize;
	unsigned int start = AIOSFS_GOOD_OLD_INODE_SIZE + extra;
	struct aiosfs_xattr_area a;
	struct aiosfs_inode *raw;
	int err;

	/*
	 * No area without extra fields: ext4 takes i_extra_isize 0 as room
	 * for its own fields there, not for attributes.
	 */
	if (isz > AIOSFS_GOOD_OLD_INODE_SIZE && extra &&
	    start + 2 * sizeof(u32) + sizeof(struct aiosfs_xattr_entry) <= isz) {
		c->ibh = aiosfs_read_raw_inode(sb, inode->i_ino, &raw);
		if (IS_ERR(c->ibh)) {
			err = PTR_ERR(c->ibh);
			c->ibh = NULL;
			return err;
		}
		c->iarea = (void *)raw + start;
		c->isize = isz - start - sizeof(u32);
		lock_buffer(c->ibh);
		c->imagic = le32_to_cpu(*(__le32 *)c->iarea) == AIOSFS_XATTR_MAGIC;
		memcpy(c->icopy, c->iarea + sizeof(u32), c->isize);
		unlock_buffer(c->ibh);
		if (c->imagic) {
			a.base = c->icopy;
			a.first = c->icopy;
			a.end = c->icopy + c->isize;
			err = aiosfs_xattr_walk(inode, &a, aiosfs_xattr_collect, &c->ii);
			if (err)
				return err;
		}
	}
	c->bbh = aiosfs_xattr_block(inode, &a);
	if (IS_ERR(c->bbh)) {
		err = PTR_ERR(c->bbh);
		c->bbh = NULL;
		return err;
	}
	if (!c->bbh)
		return 0;
	/* Another sharer may be changing h_refcount: copy under the lock. */
	lock_buffer(c->bbh);
	memcpy(c->bcopy, c->bbh->b_data, sb->s_blocksize);
	unlock_buffer(c->bbh);
	a.first = c->bcopy + (a.first - a.base);
	a.end = c->bcopy + sb->s_blocksize;
	a.base = c->bcopy;
	return aiosfs_xattr_walk(inode, &a, aiosfs_xattr_collect, &c->bi);
}

/* Rewrites the in-inode area from c->out; the caller writes the inode after. */
static int aiosfs_xattr_write_ibody(struct aiosfs_xattr_ctx *c)
{
	int err;

	if (!c->isize)
		return -ENOSPC;
	err = aiosfs_xattr_layout(c->scratch, 0, c->isize, &c->out, false);
	if (err)
		return err;
	/* Nothing was there and nothing is to be: leave the slot alone. */
	if (!c->out.n && !c->imagic)
		return 0;
	err = aiosfs_journal_get_write_access(c->h, c->ibh);
	if (err)
		return err;
	lock_buffer(c->ibh);
	*(__le32 *)c->iarea = cpu_to_le32(AIOSFS_XATTR_MAGIC);
	memcpy(c->iarea + sizeof(u32), c->scratch, c->isize);
	unlock_buffer(c->ibh);
	/* aiosfs_mark_inode_dirty() sums the slot and journals the block. */
	c->inode_changed = true;
	return 0;
}

/*
 * Drops the inode's reference to xattr block bh: the last one frees it.
 * The count is read and changed under the buffer's lock, as other sharers
 * drop theirs concurrently.
 */
static int aiosfs_xattr_put_ref(struct aiosfs_handle *h, struct inode *inode,
				struct buffer_head *bh)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_xattr_header *xh = (void *)bh->b_data;
	u32 refs;
	int err;

	err = aiosfs_journal_get_write_access(h, bh);
	if (err)
		return err;
	lock_buffer(bh);
	refs = le32_to_cpu(xh->h_refcount);
	if (refs > 1) {
		xh->h_refcount = cpu_to_le32(refs - 1);
		aiosfs_xattr_block_csum_set(sb, bh->b_blocknr, bh->b_data);
	}
	unlock_buffer(bh);
	if (!refs) {
		aiosfs_error(sb, "inode %lu: xattr block %llu has no references", inode->i_ino,
			     (u64)bh->b_blocknr);
		return -AIOSFS_EFSCORRUPTED;
	}
	if (refs == 1) {
		aiosfs_free_blocks(h, inode, bh->b_blocknr, 1, AIOSFS_FREE_METADATA);
		return 0;
	}
	/* Every sharer counts the block in its i_blocks: this one no longer. */
	inode_sub_bytes(inode, sb->s_blocksize);
	return aiosfs_journal_dirty_metadata(h, bh);
}

/* The inode's own copy of block content c->scratch, in a new block. */
static int aiosfs_xattr_new_block(struct aiosfs_xattr_ctx *c)
{
	struct inode *inode = c->inode;
	struct super_block *sb = inode->i_sb;
	struct buffer_head *bh;
	u32 count = 1;
	u64 blk;
	int err;

	err = aiosfs_new_blocks(c->h, inode, 0, &count, &blk, AIOSFS_ALLOC_METADATA);
	if (err) {
		c->alloc_failed = err == -ENOSPC;
		return err;
	}
	bh = sb_getblk(sb, blk);
	if (!bh) {
		err = -ENOMEM;
		goto free;
	}
	err = aiosfs_journal_get_create_access(c->h, bh);
	if (err)
		goto put;
	lock_buffer(bh);
	memcpy(bh->b_data, c->scratch, sb->s_blocksize);
	aiosfs_xattr_block_csum_set(sb, blk, bh->b_data);
	set_buffer_uptodate(bh);
	aiosfs_set_buffer_verified(bh);
	unlock_buffer(bh);
	err = aiosfs_journal_dirty_metadata(c->h, bh);
	if (err)
		goto put;
	brelse(bh);
	/* Readers may follow i_file_acl now: the new block is whole. */
	WRITE_ONCE(AIOSFS_I(inode)->i_file_acl, blk);
	c->inode_changed = true;
	/* The old block, shared (or by now only ours), loses this inode. */
	return c->bbh ? aiosfs_xattr_put_ref(c->h, inode, c->bbh) : 0;
put:
	brelse(bh);
free:
	aiosfs_free_blocks(c->h, inode, blk, 1, AIOSFS_FREE_METADATA);
	return err;
}

/* Rewrites the xattr block from c->out: in place, in a new block, or frees it. */
static int aiosfs_xattr_write_block(struct aiosfs_xattr_ctx *c)
{
	struct super_block *sb = c->inode->i_sb;
	struct aiosfs_xattr_header *xh = c->scratch;
	struct buffer_head *bh = c->bbh;
	int err;

	if (!c->out.n) {
		if (!bh)
			return 0;
		err = aiosfs_xattr_put_ref(c->h, c->inode, bh);
		if (err)
			return err;
		WRITE_ONCE(AIOSFS_I(c->inode)->i_file_acl, 0);
		c->inode_changed = true;
		return 0;
	}
	err = aiosfs_xattr_layout(c->scratch, sizeof(*xh), sb->s_blocksize, &c->out, true);
	if (err)
		return err;
	memset(xh, 0, sizeof(*xh));
	xh->h_magic = cpu_to_le32(AIOSFS_XATTR_MAGIC);
	xh->h_refcount = cpu_to_le32(1);
	xh->h_blocks = cpu_to_le32(1);
	xh->h_hash = cpu_to_le32(aiosfs_xattr_block_hash(c->scratch));
	if (!bh)
		return aiosfs_xattr_new_block(c);
	err = aiosfs_journal_get_write_access(c->h, bh);
	if (err)
		return err;
	/* Only this inode uses it (counts only go down): change it in place. */
	lock_buffer(bh);
	if (le32_to_cpu(((struct aiosfs_xattr_header *)bh->b_data)->h_refcount) != 1) {
		unlock_buffer(bh);
		return aiosfs_xattr_new_block(c);
	}
	memcpy(bh->b_data, c->scratch, sb->s_blocksize);
	aiosfs_xattr_block_csum_set(sb, bh->b_blocknr, bh->b_data);
	unlock_buffer(bh);
	return aiosfs_journal_dirty_metadata(c->h, bh);
}

/* The in-inode area without entry found, and with x if add. */
static int aiosfs_xattr_put_ibody(struct aiosfs_xattr_ctx *c, int found,
				  const struct aiosfs_xattr_item *x, bool add)
{
	aiosfs_xattr_edit(c, &c->ii, found, x, add, false);
	return aiosfs_xattr_write_ibody(c);
}

static int aiosfs_xattr_put_block(struct aiosfs_xattr_ctx *c, int found,
				  const struct aiosfs_xattr_item *x, bool add)
{
	aiosfs_xattr_edit(c, &c->bi, found, x, add, true);
	return aiosfs_xattr_write_block(c);
}

static bool aiosfs_xattr_same(const struct aiosfs_xattr_items *l, int found,
			      const struct aiosfs_xattr_item *x)
{
	return found >= 0 && l->it[found].size == x->size &&
	       !memcmp(l->it[found].value, x->value, x->size);
}

/*
 * Like ext4: an attribute goes in the inode if it fits there, else in the
 * block; it is never in both.  Each area is written at most once, so the
 * lists loaded at the start stay right throughout.
 */
static int aiosfs_xattr_change(struct aiosfs_xattr_ctx *c, const struct aiosfs_xattr_req *r)
{
	const struct aiosfs_xattr_item *x = &r->item;
	int fi, fb, err;

	err = aiosfs_xattr_load(c);
	if (err)
		return err;
	fi = aiosfs_xattr_find(&c->ii, x);
	fb = aiosfs_xattr_find(&c->bi, x);
	if ((fi >= 0 || fb >= 0) && (r->flags & XATTR_CREATE))
		return -EEXIST;
	if (fi < 0 && fb < 0 && ((r->flags & XATTR_REPLACE) || !x->value))
		return -ENODATA;
	if (!x->value) {
		err = fi >= 0 ? aiosfs_xattr_put_ibody(c, fi, x, false) : 0;
		if (!err && fb >= 0)
			err = aiosfs_xattr_put_block(c, fb, x, false);
		return err;
	}
	/* Unchanged: nothing to rewrite (nor a shared block to copy). */
	if (aiosfs_xattr_same(&c->ii, fi, x) || (fi < 0 && aiosfs_xattr_same(&c->bi, fb, x)))
		return 0;
	if (fb >= 0 && fi < 0) {
		/*
		 * In the block, it stays there if it fits: moving it into the
		 * inode first would let a reader miss it in both areas.
		 */
		err = aiosfs_xattr_put_block(c, fb, x, true);
		if (err != -ENOSPC || c->alloc_failed)
			return err;
		err = aiosfs_xattr_put_ibody(c, -1, x, true);
		return err ?: aiosfs_xattr_put_block(c, fb, x, false);
	}
	err = aiosfs_xattr_put_ibody(c, fi, x, true);
	if (!err)
		return fb >= 0 ? aiosfs_xattr_put_block(c, fb, x, false) : 0;
	if (err != -ENOSPC)
		return err;
	/* Into the block first, then out of the inode: readers find it throughout. */
	err = aiosfs_xattr_put_block(c, fb, x, true);
	if (!err && fi >= 0)
		err = aiosfs_xattr_put_ibody(c, fi, x, false);
	return err;
}

static struct aiosfs_xattr_ctx *aiosfs_xattr_ctx_alloc(struct super_block *sb)
{
	unsigned int bs = sb->s_blocksize, isz = AIOSFS_SB(sb)->s_inode_size;
	unsigned int imax = isz / sizeof(struct aiosfs_xattr_entry) + 1;
	unsigned int bmax = bs / sizeof(struct aiosfs_xattr_entry) + 1;
	struct aiosfs_xattr_ctx *c;
	struct aiosfs_xattr_item *it;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NULL;
	/* out takes the larger list plus one. */
	it = kvmalloc_array(imax + 2 * bmax + 1, sizeof(*it), GFP_KERNEL);
	c->scratch = kvmalloc(2 * bs + isz, GFP_KERNEL);
	if (!it || !c->scratch) {
		kvfree(it);
		kvfree(c->scratch);
		kfree(c);
		return NULL;
	}
	c->bcopy = c->scratch + bs;
	c->icopy = c->bcopy + bs;
	c->ii = (struct aiosfs_xattr_items) { .it = it, .max = imax };
	c->bi = (struct aiosfs_xattr_items) { .it = it + imax, .max = bmax };
	c->out = (struct aiosfs_xattr_items) { .it = it + imax + bmax, .max = bmax + 1 };
	return c;
}

/* Forgets one attempt's state, keeping the memory for a retry. */
static void aiosfs_xattr_ctx_reset(struct aiosfs_xattr_ctx *c)
{
	brelse(c->ibh);
	brelse(c->bbh);
	c->ibh = NULL;
	c->bbh = NULL;
	c->isize = 0;
	c->imagic = false;
	c->ii.n = 0;
	c->bi.n = 0;
	c->alloc_failed = false;
	c->inode_changed = false;
}

static void aiosfs_xattr_ctx_free(struct aiosfs_xattr_ctx *c)
{
	aiosfs_xattr_ctx_reset(c);
	kvfree(c->ii.it);
	kvfree(c->scratch);
	kfree(c);
}

int aiosfs_xattr_set(struct inode *inode, int index, const char *name, const void *value,
		     size_t size, int flags)
{
	struct super_block *sb = inode->i_sb;
	struct aiosfs_xattr_req r = {
		.item = { .name = name, .value = value, .size = size, .index = index },
		.flags = flags,
	};
	size_t name_len = strlen(name);
	struct aiosfs_xattr_ctx *c;
	/* Inside a caller's handle (a create, set_acl) no commit may be waited for. */
	bool nested = current->journal_info;
	struct aiosfs_handle *h;
	int err, err2, retries = 0;
	u32 tid;

	if (name_len > 255)
		return -ERANGE;
	r.item.name_len = name_len;
	/* Larger than any block could hold (ext4 makes it ENOSPC too). */
	if (value && size > sb->s_blocksize)
		return -ENOSPC;
	if (!AIOSFS_SB(sb)->s_journal)
		return -EROFS;
	c = aiosfs_xattr_ctx_alloc(sb);
	if (!c)
		return -ENOMEM;
	c->inode = inode;
retry:
	h = aiosfs_journal_start(sb, AIOSFS_CREDITS_XATTR);
	if (IS_ERR(h)) {
		err = PTR_ERR(h);
		goto out;
	}
	c->h = h;
	err = aiosfs_xattr_change(c, &r);
	if (!err) {
		aios_inode_set_ctime_current(inode);
		c->inode_changed = true;
	}
	/* Even after a failure: a changed area must get its inode checksum. */
	if (c->inode_changed) {
		err2 = aiosfs_mark_inode_dirty(h, inode);
		err = err ?: err2;
	}
	tid = aiosfs_handle_tid(h);
	err2 = aiosfs_journal_stop(h);
	err = err ?: err2;
	if (err == -ENOSPC && c->alloc_failed && !nested && aiosfs_retry_alloc(sb, &retries)) {
		aiosfs_xattr_ctx_reset(c);
		goto retry;
	}
	if (!err && IS_SYNC(inode) && !nested)
		err = aiosfs_journal_commit_tid(sb, tid, NULL);
out:
	aiosfs_xattr_ctx_free(c);
	return err;
}

int aiosfs_xattr_release_block(struct aiosfs_handle *h, struct inode *inode)
{
	struct aiosfs_inode_info *ei = AIOSFS_I(inode);
	struct super_block *sb = inode->i_sb;
	const struct aiosfs_xattr_header *xh;
	struct buffer_head *bh;
	int err;

	if (!ei->i_file_acl)
		return 0;
	bh = aiosfs_bread(sb, ei->i_file_acl, "xattr");
	if (IS_ERR(bh))
		return PTR_ERR(bh);
	xh = (const void *)bh->b_data;
	if (le32_to_cpu(xh->h_magic) != AIOSFS_XATTR_MAGIC) {
		aiosfs_error(sb, "inode %lu: bad xattr block %llu", inode->i_ino, ei->i_file_acl);
		err = -AIOSFS_EFSCORRUPTED;
	} else {
		err = aiosfs_xattr_put_ref(h, inode, bh);
	}
	brelse(bh);
	if (!err)
		WRITE_ONCE(ei->i_file_acl, 0);
	return err;
}

static int aiosfs_xattr_set_handler(const struct xattr_handler *handler, AIOS_IDMAP_ARG idmap,
				    struct dentry *unused, struct inode *inode, const char *name,
				    const void *value, size_t size, int flags)
{
	return aiosfs_xattr_set(inode, handler->flags, name, value, size, flags);
}

static const struct xattr_handler aiosfs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_USER,
	.get	= aiosfs_xattr_get,
	.set	= aiosfs_xattr_set_handler,
};

static const struct xattr_handler aiosfs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_TRUSTED,
	.get	= aiosfs_xattr_get,
	.set	= aiosfs_xattr_set_handler,
};

static const struct xattr_handler aiosfs_xattr_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.flags	= AIOSFS_XATTR_INDEX_SECURITY,
	.get	= aiosfs_xattr_get,
	.set	= aiosfs_xattr_set_handler,
};

static int aiosfs_store_security(struct inode *inode, const struct xattr *xattrs, void *unused)
{
	const struct xattr *x;
	int err = 0;

	for (x = xattrs; x->name && !err; x++)
		err = aiosfs_xattr_set(inode, AIOSFS_XATTR_INDEX_SECURITY, x->name, x->value,
				       x->value_len, 0);
	return err;
}

int aiosfs_init_security(struct inode *inode, struct inode *dir, const struct qstr *name)
{
	return security_inode_init_security(inode, dir, name, aiosfs_store_security, NULL);
}

/* Not const: 6.1's super_block wants a pointer to non-const pointers. */
const struct xattr_handler *aiosfs_xattr_handlers[] = {
	&aiosfs_xattr_user_handler,
	&aiosfs_xattr_trusted_handler,
	&aiosfs_xattr_security_handler,
	AIOS_ACL_XATTR_HANDLERS
	NULL,
};
