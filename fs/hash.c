// SPDX-License-Identifier: GPL-2.0
/*
 * aiosfs: the directory index name hashes of the ext4 format: the legacy
 * hash, a cut-down MD4 ("half MD4") and TEA, each with a signed-char and
 * an unsigned-char variant (the superblock says which one mke2fs picked).
 * The results must match the format bit for bit, so each step follows the
 * definitions exactly.
 */
#include <linux/bitops.h>
#include "aiosfs.h"

#define AIOSFS_TEA_DELTA	0x9E3779B9U
#define AIOSFS_MD4_K2		0x5A827999U	/* sqrt(2) * 2^30 */
#define AIOSFS_MD4_K3		0x6ED9EBA1U	/* sqrt(3) * 2^30 */

/* A name byte as the variant reads it: sign-extended or not. */
static u32 aiosfs_hash_char(const char *name, unsigned int i, bool is_signed)
{
	if (is_signed)
		return (u32)(s32)(s8)name[i];
	return (u8)name[i];
}

static u32 aiosfs_legacy_hash(const char *name, unsigned int len, bool is_signed)
{
	u32 h0 = 0x12a3fe2d, h1 = 0x37abe8f9, h;
	unsigned int i;

	for (i = 0; i < len; i++) {
		h = h1 + (h0 ^ (aiosfs_hash_char(name, i, is_signed) * 7152373U));
		if (h & 0x80000000U)
			h -= 0x7fffffffU;
		h1 = h0;
		h0 = h;
	}
	return h0 << 1;
}

/*
 * Packs up to 4 * nwords bytes of the name into words, first byte most
 * significant; words past the name are filled with a pattern of its length.
 */
static void aiosfs_name_to_words(const char *name, unsigned int len, u32 *words,
				 unsigned int nwords, bool is_signed)
{
	unsigned int i, w = 0, used = min(len, nwords * 4);
	u32 pad = len | (len << 8), val;

	pad |= pad << 16;
	val = pad;

	for (i = 0; i < used; i++) {
		val = (val << 8) + aiosfs_hash_char(name, i, is_signed);
		if (i % 4 == 3) {
			words[w++] = val;
			val = pad;
		}
	}
	if (w < nwords && used % 4)
		words[w++] = val;
	while (w < nwords)
		words[w++] = pad;
}

static void aiosfs_tea(u32 buf[4], const u32 in[4])
{
	u32 b0 = buf[0], b1 = buf[1], sum = 0;
	int round;

	for (round = 0; round < 16; round++) {
		sum += AIOSFS_TEA_DELTA;
		b0 += ((b1 << 4) + in[0]) ^ (b1 + sum) ^ ((b1 >> 5) + in[1]);
		b1 += ((b0 << 4) + in[2]) ^ (b0 + sum) ^ ((b0 >> 5) + in[3]);
	}
	buf[0] += b0;
	buf[1] += b1;
}

static u32 aiosfs_md4_f(u32 x, u32 y, u32 z)
{
	return z ^ (x & (y ^ z));		/* x ? y : z, bitwise */
}

static u32 aiosfs_md4_g(u32 x, u32 y, u32 z)
{
	return (x & y) + ((x ^ y) & z);		/* majority; the terms never overlap */
}

static u32 aiosfs_md4_h(u32 x, u32 y, u32 z)
{
	return x ^ y ^ z;
}

static u32 (*const aiosfs_md4_fn[3])(u32, u32, u32) = {
	aiosfs_md4_f, aiosfs_md4_g, aiosfs_md4_h,
};

/*
 * Three rounds of eight steps of MD4 over 8 words.  Step s updates word
 * a, d, c, b in turn (index (4 - s) % 4) from the other three in order.
 */
static void aiosfs_half_md4(u32 buf[4], const u32 in[8])
{
	static const u8 order[3][8] = {
		{ 0, 1, 2, 3, 4, 5, 6, 7 },
		{ 1, 3, 5, 7, 0, 2, 4, 6 },
		{ 3, 7, 2, 6, 1, 5, 0, 4 },
	};
	static const u8 shift[3][4] = { { 3, 7, 11, 19 }, { 3, 5, 9, 13 }, { 3, 9, 11, 15 } };
	static const u32 konst[3] = { 0, AIOSFS_MD4_K2, AIOSFS_MD4_K3 };
	u32 v[4] = { buf[0], buf[1], buf[2], buf[3] };
	unsigned int r, s, t;

	for (r = 0; r < 3; r++) {
		for (s = 0; s < 8; s++) {
			t = (4 - s % 4) % 4;
			v[t] += aiosfs_md4_fn[r](v[(t + 1) % 4], v[(t + 2) % 4], v[(t + 3) % 4]) +
				in[order[r][s]] + konst[r];
			v[t] = rol32(v[t], shift[r][s % 4]);
		}
	}
	for (t = 0; t < 4; t++)
		buf[t] += v[t];
}

/*
 * The index hash of a name: bit 0 is clear (it marks collisions on disk).
 * The minor hash (NULL: not wanted) only orders names in readdir.
 */
int aiosfs_dirhash(unsigned int version, const u32 seed[4], const char *name,
		   unsigned int len, u32 *hash, u32 *minor)
{
	u32 buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	bool is_signed = version < AIOSFS_HASH_LEGACY_UNSIGNED;
	unsigned int off;
	u32 in[8], h, m = 0;

	if (seed[0] || seed[1] || seed[2] || seed[3])
		memcpy(buf, seed, sizeof(buf));
	switch (version) {
	case AIOSFS_HASH_LEGACY:
	case AIOSFS_HASH_LEGACY_UNSIGNED:
		h = aiosfs_legacy_hash(name, len, is_signed);
		break;
	case AIOSFS_HASH_HALF_MD4:
	case AIOSFS_HASH_HALF_MD4_UNSIGNED:
		for (off = 0; off < len; off += 32) {
			aiosfs_name_to_words(name + off, len - off, in, 8, is_signed);
			aiosfs_half_md4(buf, in);
		}
		h = buf[1];
		m = buf[2];
		break;
	case AIOSFS_HASH_TEA:
	case AIOSFS_HASH_TEA_UNSIGNED:
		for (off = 0; off < len; off += 16) {
			aiosfs_name_to_words(name + off, len - off, in, 4, is_signed);
			aiosfs_tea(buf, in);
		}
		h = buf[0];
		m = buf[1];
		break;
	default:
		return -EOPNOTSUPP;
	}
	h &= ~1U;
	/* The largest value is the end-of-directory marker of 32-bit readdir. */
	if (h == 0xfffffffeU)
		h = 0xfffffffcU;
	*hash = h;
	if (minor)
		*minor = m;
	return 0;
}
