/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ini.c - the strict INI reader (see hc_ini.h for why not rte_cfgfile).
 *
 * The whole file is read into one buffer, which is cut into NUL-terminated
 * names and values in place; entries point into it.  Bounded: at most
 * HC_INI_MAX_BYTES of file, lines of at most 1023 characters.  Repeats
 * (a section twice, a key twice in a section) are found through two
 * open-addressing tables of at least twice the lines (so at most half
 * full), keyed by a hash of the name (and the section's index): each line
 * costs O(1) expected, the file O(lines), where comparing every pair cost
 * O(lines^2) (a 1 MiB file of keys: about 10^10 comparisons).
 */
#include "hc_ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HC_INI_MAX_BYTES (1u << 20)
#define HC_INI_MAX_LINE 1023

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int hc_ini_name_ok(const char *name)
{
	for (const char *p = name; *p != '\0'; p++)
		if (!name_char(*p))
			return 0;
	return *name != '\0';
}

static int space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Cut a line at its comment; trim both ends.  Returns the trimmed start. */
static char *strip(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && (p == s || space(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	while (space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The repeat tables: slot = index + 1 of a section or entry, 0 empty;
 * the name's hash beside it, so names are compared only on a hash match. */
struct seen_table {
	unsigned *slot;
	uint32_t *hash;
	size_t mask;
};

static int seen_init(struct seen_table *t, size_t lines)
{
	size_t cap = 16;
	while (cap < 2 * lines)
		cap *= 2;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->hash = calloc(cap, sizeof(*t->hash));
	t->mask = cap - 1;
	return t->slot != NULL && t->hash != NULL ? 0 : -1;
}

static void seen_free(struct seen_table *t)
{
	free(t->slot);
	free(t->hash);
}

/* FNV-1a over the name, seeded by a number (the section's index). */
static uint32_t name_hash(const char *s, uint32_t seed)
{
	uint32_t h = 2166136261u ^ (seed * 16777619u);
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h ^= h >> 15;
	return h * 0x2c1b3c6du;
}

/* The first section named name, or -1 after recording it as index idx. */
static int seen_section(struct hc_ini *ini, struct seen_table *t, const char *name, unsigned idx)
{
	uint32_t h = name_hash(name, 0);
	size_t i = h & t->mask;
	for (; t->slot[i] != 0; i = (i + 1) & t->mask) {
		if (t->hash[i] != h)
			continue;
		ini->compares++;
		if (strcmp(ini->sec[t->slot[i] - 1].name, name) == 0)
			return (int)(t->slot[i] - 1);
	}
	t->slot[i] = idx + 1;
	t->hash[i] = h;
	return -1;
}

/* The line of the first entry of section sec_idx named key, or 0 after
 * recording entry idx as that first one. */
static unsigned seen_key(struct hc_ini *ini, struct seen_table *t, unsigned sec_idx,
			 const char *key, unsigned idx)
{
	uint32_t h = name_hash(key, sec_idx + 1);
	size_t i = h & t->mask;
	const char *sec = ini->sec[sec_idx].name;
	for (; t->slot[i] != 0; i = (i + 1) & t->mask) {
		const struct hc_ini_entry *e = &ini->e[t->slot[i] - 1];
		if (t->hash[i] != h)
			continue;
		ini->compares++;
		if (e->section == sec && strcmp(e->key, key) == 0)
			return e->line;
	}
	t->slot[i] = idx + 1;
	t->hash[i] = h;
	return 0;
}

static int fail(struct hc_ini *ini, char *err, size_t errlen, unsigned line,
		const char *why)
{
	snprintf(err, errlen, "%s:%u: %s", ini->path, line, why);
	hc_ini_free(ini);
	return -1;
}

static int parse(struct hc_ini *ini, const char *path, const char *text, char *err,
		 size_t errlen, struct seen_table *secs, struct seen_table *keys)
{
	size_t len = strlen(text), lines = 1;
	memset(ini, 0, sizeof(*ini));
	ini->path = path;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	ini->text = malloc(len + 1);
	ini->e = calloc(lines, sizeof(*ini->e));
	ini->sec = calloc(lines, sizeof(*ini->sec));
	if (ini->text == NULL || ini->e == NULL || ini->sec == NULL ||
	    seen_init(secs, lines) != 0 || seen_init(keys, lines) != 0)
		return fail(ini, err, errlen, 0, "out of memory");
	memcpy(ini->text, text, len + 1);

	const char *cur = NULL; /* the open section */
	unsigned line = 0;
	char *next = ini->text;
	while (next != NULL) {
		char *s = next, *nl = strchr(s, '\n');
		next = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		line++;
		if (strlen(s) > HC_INI_MAX_LINE)
			return fail(ini, err, errlen, line, "line longer than 1023 characters");
		s = strip(s);
		if (*s == '\0')
			continue;
		if (*s == '{' && ini->n_sec == 0)
			return fail(ini, err, errlen, line, "this looks like JSON; the config "
				    "file is INI: [section] and key = value lines "
				    "(docs/configuration.md)");
		if (*s == '[') {
			size_t n = strlen(s);
			if (n < 3 || s[n - 1] != ']')
				return fail(ini, err, errlen, line, "a section line is '[name]'");
			s[n - 1] = '\0';
			char *name = strip(s + 1);
			for (char *p = name; *p != '\0'; p++)
				if (!name_char(*p))
					return fail(ini, err, errlen, line, "a section name is letters, "
						    "digits, '.', '_' and '-'");
			if (*name == '\0')
				return fail(ini, err, errlen, line, "a section line is '[name]'");
			int k = seen_section(ini, secs, name, ini->n_sec);
			if (k >= 0) {
				char why[128];
				snprintf(why, sizeof(why), "[%.64s]: section given twice "
					 "(first on line %u)", name, ini->sec[k].line);
				return fail(ini, err, errlen, line, why);
			}
			ini->sec[ini->n_sec++] = (struct hc_ini_section){name, line};
			cur = name;
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL)
			return fail(ini, err, errlen, line, "neither '[section]' nor 'key = value'");
		*eq = '\0';
		char *key = strip(s), *val = strip(eq + 1);
		if (*key == '\0')
			return fail(ini, err, errlen, line, "'= value' without a key");
		for (char *p = key; *p != '\0'; p++)
			if (!name_char(*p))
				return fail(ini, err, errlen, line, "a key is letters, digits, '.', "
					    "'_' and '-' (is a line broken in two?)");
		if (cur == NULL) {
			char why[160];
			snprintf(why, sizeof(why), "%.64s: a key before any [section] (every key "
				 "belongs to one)", key);
			return fail(ini, err, errlen, line, why);
		}
		if (*val == '\0') {
			char why[160];
			snprintf(why, sizeof(why), "[%.64s] %.64s: no value", cur, key);
			return fail(ini, err, errlen, line, why);
		}
		unsigned earlier = seen_key(ini, keys, ini->n_sec - 1, key, ini->n);
		ini->e[ini->n++] = (struct hc_ini_entry){cur, key, val, line, earlier};
	}
	if (ini->n_sec == 0)
		return fail(ini, err, errlen, line, "no [section] in the file (an empty file, "
			    "or not an INI file?)");
	return 0;
}

int hc_ini_parse(struct hc_ini *ini, const char *path, const char *text, char *err,
		 size_t errlen)
{
	struct seen_table secs = {0}, keys = {0};
	int rc = parse(ini, path, text, err, errlen, &secs, &keys);
	seen_free(&secs);
	seen_free(&keys);
	return rc;
}

int hc_ini_read(struct hc_ini *ini, const char *path, char *err, size_t errlen)
{
	memset(ini, 0, sizeof(*ini));
	/* a regular file only, opened non-blocking: a FIFO put at the path
	 * would block the open itself (the control lcore's, at a reload) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	const char *why = fd < 0 || fstat(fd, &st) != 0 ? strerror(errno)
			  : !S_ISREG(st.st_mode)          ? "not a regular file"
							  : NULL;
	if (why != NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	char *buf = malloc(HC_INI_MAX_BYTES + 1);
	size_t n = buf != NULL ? fread(buf, 1, HC_INI_MAX_BYTES + 1, f) : 0;
	int bad = buf == NULL || ferror(f);
	fclose(f);
	if (bad || n > HC_INI_MAX_BYTES || memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "%s:0: %s", path, bad ? "cannot read" :
			 n > HC_INI_MAX_BYTES ? "larger than 1 MiB" : "a NUL byte: not a text file");
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	int rc = hc_ini_parse(ini, path, buf, err, errlen);
	free(buf);
	return rc;
}

void hc_ini_free(struct hc_ini *ini)
{
	free(ini->text);
	free(ini->e);
	free(ini->sec);
	const char *path = ini->path;
	memset(ini, 0, sizeof(*ini));
	ini->path = path;
}

unsigned hc_ini_earlier(const struct hc_ini *ini, unsigned i)
{
	return ini->e[i].earlier;
}
