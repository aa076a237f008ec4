/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_options.h - the appliance's own command line (after EAL's "--").
 *
 * Nothing else in the program reads argv.  Parse -> check -> main builds
 * from the resulting struct hc_config (common/hc_config.h).
 */
#ifndef HC_OPTIONS_H
#define HC_OPTIONS_H

#include "hc_config.h"

/*
 * Fill c from argv (argv[0] is the program name), defaults first.
 * Returns 0 on success, 1 if --help was printed, -1 after printing what
 * was wrong (naming the option).
 */
int hc_config_parse(struct hc_config *c, int argc, char **argv);
void hc_config_usage(const char *prog);

#endif /* HC_OPTIONS_H */
