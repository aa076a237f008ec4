/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_options.h - the appliance's own options: the command line (after
 * EAL's "--", or all of it) and the config file's [appliance] section,
 * both from one table in hc_options.c.
 *
 * Nothing else in the program reads argv.  Defaults -> file -> command
 * line -> check, and main builds from the resulting struct hc_config
 * (common/hc_config.h); app/hc_conffile.h puts the steps together.
 */
#ifndef HC_OPTIONS_H
#define HC_OPTIONS_H

#include <stdio.h>

#include "hc_config.h"
#include "hc_ini.h"

/* Every row's default. */
void hc_config_defaults(struct hc_config *c);
/*
 * Apply argv (argv[0] is the program name) on top of c.  Returns 0, 1 if
 * --help or --config-doc was printed, -1 after printing what was wrong
 * (naming the option).  Sets c->cli_set.
 */
int hc_config_parse_args(struct hc_config *c, int argc, char **argv);
/* The [appliance] section of ini on top of c.  0, or -1 with
 * "file:line: [appliance] key: reason" in err. */
int hc_config_apply_ini(struct hc_config *c, const struct hc_ini *ini, char *err,
			size_t errlen);
/* Checks across options (exactly one of keys and no-auth).  0 or -1. */
int hc_config_check(const struct hc_config *c, char *err, size_t errlen);
/* Defaults, then argv, then the checks: hc_config_parse_args's returns. */
int hc_config_parse(struct hc_config *c, int argc, char **argv);
void hc_config_usage(const char *prog);
/* The names of the [appliance] keys a reload cannot apply whose values
 * differ between running and next (at most cap; a key file named in both
 * is not one: a reload follows its path).  Returns how many. */
unsigned hc_config_restart_changes(const struct hc_config *running,
				   const struct hc_config *next, const char **names,
				   unsigned cap);
/* docs/configuration.md, whole (generated: see hc_conffile.c). */
void hc_config_doc(FILE *f);

/* From hc_conffile.c, for the doc. */
extern const char hc_config_doc_intro[];
void hc_conffile_eal_doc(FILE *f);

#endif /* HC_OPTIONS_H */
