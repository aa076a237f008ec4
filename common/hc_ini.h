/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ini.h - a small strict INI reader that remembers line numbers.
 *
 * Why not DPDK's rte_cfgfile: it keeps no line numbers (an error could not
 * say where), accepts keys before any section, silently takes the last of
 * two equal keys, and reads a JSON file as an odd INI.  This reader only
 * splits the file into sections and "key = value" entries, in order, each
 * with its line; what the keys mean, which ones exist and which ones may
 * repeat is its caller's business (app/hc_conffile.c, control/hc_policy.c).
 *
 * Syntax: "[name]" opens a section (name: letters, digits, '.', '_', '-');
 * "key = value" (the same characters in key; value trimmed, not empty);
 * blank lines; comments from ';' or '#' at the start of a line or after
 * white space to the end of the line.  Anything else is an error naming
 * the file and line: a key before the first section, a section twice, a
 * line longer than 1023 characters, a file of no sections or one that
 * starts with '{' (JSON).  Slow path, but linear: repeated sections and
 * keys are found by hashing (section, key) once per line while reading,
 * not by comparing every pair.
 */
#ifndef HC_INI_H
#define HC_INI_H

#include <stddef.h>

struct hc_ini_entry {
	const char *section;
	const char *key;
	const char *value;
	unsigned line;
	unsigned earlier;             /* line of the first entry of the same
	                                 section and key; 0: this is it    */
};

struct hc_ini_section {
	const char *name;
	unsigned line;
};

struct hc_ini {
	const char *path;             /* as given (not copied)          */
	struct hc_ini_entry *e;       /* entries in file order          */
	unsigned n;
	struct hc_ini_section *sec;   /* sections in file order         */
	unsigned n_sec;
	char *text;                   /* owns every string above        */
	unsigned long compares;       /* names compared finding repeats
	                                 (a hash match first: tests check
	                                 it stays about the repeats)       */
};

/* Read path into ini.  0, or -1 with "path:line: reason" in err (ini then
 * holds nothing to free). */
int hc_ini_read(struct hc_ini *ini, const char *path, char *err, size_t errlen);
/* The same from a string already in memory (tests). */
int hc_ini_parse(struct hc_ini *ini, const char *path, const char *text, char *err,
		 size_t errlen);
void hc_ini_free(struct hc_ini *ini);

/* 1 if name is a name as a section's: letters, digits, '.', '_' and '-',
 * at least one (a pool's name, from a file or --pool). */
int hc_ini_name_ok(const char *name);

/* The line of the first entry of the same section and key as entry i, or
 * 0 if it is the first (found while reading: O(1)). */
unsigned hc_ini_earlier(const struct hc_ini *ini, unsigned i);

#endif /* HC_INI_H */
