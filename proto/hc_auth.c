/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_auth.c - sealing and checking datagrams, and the keys file (see
 * hc_auth.h).  The MAC is libsodium's; nothing here is cryptography of
 * our own: it only decides which bytes go in and where the tag goes.
 */
#include "hc_auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

_Static_assert(crypto_shorthash_siphashx24_BYTES == HC_AUTH_TAG_LEN, "tag is 16 bytes");
_Static_assert(crypto_shorthash_siphashx24_KEYBYTES == HC_AUTH_KEY_LEN, "key is 16 bytes");
_Static_assert(crypto_auth_KEYBYTES == HC_AUTH_FILE_KEY_LEN, "file key is 32 bytes");
_Static_assert(crypto_auth_BYTES == HC_AUTH_FILE_MAC_LEN, "file MAC is 32 bytes");

#define TAG_OFF offsetof(struct hc_hdr, auth_tag)
#define FLAGS_OFF offsetof(struct hc_hdr, flags)

int hc_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void hc_auth_tag(uint8_t tag[HC_AUTH_TAG_LEN], const void *buf, size_t len,
		 const uint8_t key[HC_AUTH_KEY_LEN])
{
	crypto_shorthash_siphashx24(tag, buf, len, key);
}

void hc_auth_seal(void *buf, size_t len, const uint8_t key[HC_AUTH_KEY_LEN], unsigned slot)
{
	uint8_t *p = buf;
	uint16_t flags;

	memcpy(&flags, p + FLAGS_OFF, sizeof(flags));
	flags = ntohs(flags) | HC_HDR_F_AUTH;
	flags = slot ? (flags | HC_HDR_F_KEY_SLOT) : (flags & ~HC_HDR_F_KEY_SLOT);
	flags = htons(flags);
	memcpy(p + FLAGS_OFF, &flags, sizeof(flags));
	memset(p + TAG_OFF, 0, HC_AUTH_TAG_LEN);
	uint8_t tag[HC_AUTH_TAG_LEN];
	hc_auth_tag(tag, p, len, key);
	memcpy(p + TAG_OFF, tag, HC_AUTH_TAG_LEN);
}

int hc_auth_verify(void *buf, size_t len, const struct hc_auth_gw_keys *k)
{
	uint8_t *p = buf;
	uint16_t flags;

	if (len < sizeof(struct hc_hdr))
		return -1;
	memcpy(&flags, p + FLAGS_OFF, sizeof(flags));
	flags = ntohs(flags);
	if (!(flags & HC_HDR_F_AUTH))
		return -1;
	unsigned slot = (flags & HC_HDR_F_KEY_SLOT) ? 1 : 0;
	if (k == NULL || !k->have[slot])
		return -1;

	uint64_t got[2], want[2], zero[2] = {0, 0};
	memcpy(got, p + TAG_OFF, HC_AUTH_TAG_LEN);
	memcpy(p + TAG_OFF, zero, HC_AUTH_TAG_LEN);
	hc_auth_tag((uint8_t *)want, p, len, k->key[slot]);
	memcpy(p + TAG_OFF, got, HC_AUTH_TAG_LEN);
	/* constant time: no early exit on the first differing byte (the
	 * same as crypto_verify_16, without a call on the fast path) */
	uint64_t diff = (got[0] ^ want[0]) | (got[1] ^ want[1]);
	return diff == 0 ? (int)slot : -1;
}

int hc_auth_key_parse(const char *hex, uint8_t key[HC_AUTH_KEY_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (strlen(hex) != 2 * HC_AUTH_KEY_LEN)
		return -1;
	if (sodium_hex2bin(key, HC_AUTH_KEY_LEN, hex, strlen(hex), NULL, &bin_len, &end) != 0 ||
	    bin_len != HC_AUTH_KEY_LEN || (end != NULL && *end != '\0'))
		return -1;
	return 0;
}

static void fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err != NULL && err_len > 0)
		vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* The file must be ours (or root's) and closed to group and others. */
static int check_private(int fd, const char *path, char *err, size_t err_len)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		fail(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, err_len, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fail(err, err_len, "%s: mode %04o lets group or others at the keys; "
		     "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		fail(err, err_len, "%s: owned by uid %u, neither root nor us", path,
		     (unsigned)st.st_uid);
		return -1;
	}
	return 0;
}

/* A key file opened for reading (no symlink followed) and checked
 * private (check_private), or -1 with err said.  Opened non-blocking:
 * a FIFO put at the path would block the open itself (on the control
 * lcore, at a reload) before check_private could refuse it; a regular
 * file's reads never block either way. */
static int open_private(const char *path, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		fail(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (check_private(fd, path, err, err_len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct hc_auth_keyring *hc_auth_keys_load(const char *path, char *err, size_t err_len)
{
	int fd = open_private(path, err, err_len);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		fail(err, err_len, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct hc_auth_keyring *ring = calloc(1, sizeof(*ring));
	if (ring == NULL) {
		fail(err, err_len, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}

	char line[256];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fail(err, err_len, "%s:%u: line too long", path, lineno);
			goto bad;
		}
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		/* whitespace-separated fields, each whole (sscanf's %31s split
		 * an over-long one in two, and a malformed line could load) */
		char *field[4], *save = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " \t\r\n\v\f", &save); t != NULL && n < 4;
		     t = strtok_r(NULL, " \t\r\n\v\f", &save))
			field[n++] = t;
		if (n == 0)
			continue;
		const char *gw_s = field[0], *slot_s = n > 1 ? field[1] : "",
			   *hex = n > 2 ? field[2] : "";
		if (n != 3) {
			fail(err, err_len, "%s:%u: want \"GATEWAY SLOT KEY\" (KEY: 32 hex digits)",
			     path, lineno);
			goto bad;
		}
		char *e;
		errno = 0;
		unsigned long gw = strtoul(gw_s, &e, 10);
		if (errno != 0 || *e != '\0' || gw == 0 || gw > 65535 || !isdigit((unsigned char)gw_s[0])) {
			fail(err, err_len, "%s:%u: gateway \"%s\" is not 1..65535", path, lineno, gw_s);
			goto bad;
		}
		if (strcmp(slot_s, "0") != 0 && strcmp(slot_s, "1") != 0) {
			fail(err, err_len, "%s:%u: slot \"%s\" is not 0 or 1", path, lineno, slot_s);
			goto bad;
		}
		unsigned slot = slot_s[0] - '0';
		struct hc_auth_gw_keys *k = &ring->gw[gw];
		if (k->have[slot]) {
			fail(err, err_len, "%s:%u: gateway %lu slot %u given twice", path, lineno, gw, slot);
			goto bad;
		}
		if (hc_auth_key_parse(hex, k->key[slot]) != 0) {
			fail(err, err_len, "%s:%u: key is not 32 hex digits", path, lineno);
			goto bad;
		}
		if (!k->have[0] && !k->have[1])
			ring->n_gateways++;
		k->have[slot] = 1;
		ring->n_keys++;
	}
	if (ferror(f)) {
		fail(err, err_len, "%s: read error", path);
		goto bad;
	}
	fclose(f);
	return ring;
bad:
	sodium_memzero(ring, sizeof(*ring));
	free(ring);
	fclose(f);
	return NULL;
}

/* One line of a file key's file (NUL-terminated, its comment cut): 0
 * blank, 1 a key (in key), -1 anything else. */
static int file_key_line(char *line, uint8_t key[HC_AUTH_FILE_KEY_LEN])
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = 0;
	while (p[n] != '\0' && !isspace((unsigned char)p[n]))
		n++;
	if (n == 0)
		return 0;
	for (size_t k = n; p[k] != '\0'; k++)
		if (!isspace((unsigned char)p[k]))
			return -1; /* a second word */
	size_t bin_len = 0;
	const char *end = NULL;
	if (n != 2 * HC_AUTH_FILE_KEY_LEN ||
	    sodium_hex2bin(key, HC_AUTH_FILE_KEY_LEN, p, n, NULL, &bin_len, &end) != 0 ||
	    bin_len != HC_AUTH_FILE_KEY_LEN || end != p + n)
		return -1;
	return 1;
}

int hc_auth_file_key_load(const char *path,
			  uint8_t key[HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN], unsigned *n,
			  char *err, size_t err_len)
{
	*n = 0;
	sodium_memzero(key, HC_AUTH_FILE_KEYS_MAX * HC_AUTH_FILE_KEY_LEN); /* (what a failure leaves) */
	int fd = open_private(path, err, err_len);
	if (fd < 0)
		return -1;
	/* read(), not stdio: no buffer of the key's digits left unzeroed */
	char buf[4096];
	size_t len = 0;
	int rc = 0;
	for (;;) {
		ssize_t got = read(fd, buf + len, sizeof(buf) - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fail(err, err_len, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == sizeof(buf)) {
			fail(err, err_len, "%s: longer than %zu bytes: not a key file", path,
			     sizeof(buf) - 1);
			rc = -1;
			break;
		}
	}
	close(fd);
	if (rc == 0 && memchr(buf, '\0', len) != NULL) {
		fail(err, err_len, "%s: a NUL byte: not a key file", path);
		rc = -1;
	}
	unsigned lineno = 0, keys = 0;
	uint8_t one[HC_AUTH_FILE_KEY_LEN];
	for (size_t at = 0; rc == 0 && at < len;) {
		char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
		at += n + 1;
		line[n] = '\0'; /* (a newline, or buf[len] < sizeof(buf)) */
		lineno++;
		int kind = file_key_line(line, one);
		if (kind == 1 && keys < HC_AUTH_FILE_KEYS_MAX) {
			memcpy(key[keys++], one, sizeof(one));
		} else if (kind == 1) {
			fail(err, err_len, "%s:%u: a third key (one signs; a second is accepted "
			     "too while the key is rotated)", path, lineno);
			rc = -1;
		} else if (kind != 0) {
			fail(err, err_len, "%s:%u: want one key of 64 hex digits (e.g. from "
			     "'od -An -tx1 -N32 /dev/urandom | tr -d \" \\n\"')", path, lineno);
			rc = -1;
		}
	}
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(one, sizeof(one));
	if (rc == 0 && keys == 0) {
		fail(err, err_len, "%s: no key (want one line of 64 hex digits)", path);
		rc = -1;
	}
	if (rc != 0)
		sodium_memzero(key, HC_AUTH_FILE_KEYS_MAX * HC_AUTH_FILE_KEY_LEN);
	else
		*n = keys;
	return rc;
}

void hc_auth_file_mac(uint8_t mac[HC_AUTH_FILE_MAC_LEN], const void *buf, size_t len,
		      const uint8_t key[HC_AUTH_FILE_KEY_LEN])
{
	crypto_auth(mac, buf, len, key);
}

int hc_auth_file_check(const uint8_t mac[HC_AUTH_FILE_MAC_LEN], const void *buf, size_t len,
		       const uint8_t key[HC_AUTH_FILE_KEY_LEN])
{
	return crypto_auth_verify(mac, buf, len, key) == 0 ? 0 : -1;
}

void hc_auth_file_mac_hex(char hex[HC_AUTH_FILE_MAC_HEX + 1], const void *buf, size_t len,
			  const uint8_t key[HC_AUTH_FILE_KEY_LEN])
{
	uint8_t mac[HC_AUTH_FILE_MAC_LEN];
	crypto_auth(mac, buf, len, key);
	sodium_bin2hex(hex, HC_AUTH_FILE_MAC_HEX + 1, mac, sizeof(mac));
}

int hc_auth_file_check_hex(const char *hex, const void *buf, size_t len,
			   const uint8_t key[HC_AUTH_FILE_KEY_LEN])
{
	uint8_t mac[HC_AUTH_FILE_MAC_LEN];
	size_t bin_len = 0;
	const char *end = NULL;
	if (sodium_hex2bin(mac, sizeof(mac), hex, HC_AUTH_FILE_MAC_HEX, NULL, &bin_len, &end) != 0 ||
	    bin_len != sizeof(mac) || end != hex + HC_AUTH_FILE_MAC_HEX)
		return -1;
	return hc_auth_file_check(mac, buf, len, key);
}
