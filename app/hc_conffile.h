/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_conffile.h - the one config file, put together with the command
 * line: what main starts from (EAL arguments, options, policy, keys), the
 * --check-config answer, and the reload the control core calls on SIGHUP.
 *
 * Precedence: built-in default < config file < command-line flag.  The
 * file is strict: every error is "file:line: [section] key: reason" and
 * exits 2 before EAL starts.  The format: docs/configuration.md.
 */
#ifndef HC_CONFFILE_H
#define HC_CONFFILE_H

#include <stddef.h>

#include "hc_auth.h"
#include "hc_config.h"
#include "hc_ini.h"
#include "hc_policy.h"

#define HC_EAL_MAX_ARGS 128

struct hc_boot {
	struct hc_config cfg;        /* read-only once EAL starts           */
	struct hc_policy pol;        /* the policy the control core starts with */
	struct hc_auth_keyring *ring;/* the keys (NULL: --no-auth)          */
	int eal_argc;                /* what rte_eal_init gets              */
	char *eal_argv[HC_EAL_MAX_ARGS + 1];
	/* private: what a reload reads again */
	struct hc_ini ini;           /* the file (cfg's strings point here) */
	int have_ini;
	int eal_from_file;           /* EAL arguments came from [eal]       */
	int app_argc;
	char **app_argv;             /* our options, argv[0] first          */
	char *eal_args_copy;         /* [eal] args, split in place          */
};

/*
 * Read argv ("EAL options -- options", or options alone) and the config
 * file it names.  Returns -1: go on and start with b; otherwise the exit
 * status (0: --help, --config-doc or a good --check-config; 2: an error,
 * already printed).
 */
int hc_boot(struct hc_boot *b, int argc, char **argv);
/* hc_boot's work without printing: 0 (go on), 1 (--help or --config-doc
 * printed), -1 with the error in err (empty if printed already: a bad
 * flag).  hc_boot_free frees what it made (tests). */
int hc_boot_load(struct hc_boot *b, int argc, char **argv, char *err, size_t errlen);
void hc_boot_free(struct hc_boot *b);

/*
 * Build the policy and keys from the file again (same flags), for a
 * SIGHUP: np gets the new policy, keys the gateways' keys and the key
 * files' new paths (struct hc_reload_keys, control/hc_control.h).  Keys
 * whose change needs a restart are logged as such and ignored.  Returns
 * 0, or -1 with "file:line: [section] key: reason" in err and nothing
 * allocated.  ctx is the struct hc_boot.
 */
struct hc_reload_keys;
int hc_conffile_reload(void *ctx, struct hc_policy *np, struct hc_reload_keys *keys,
		       char *err, size_t errlen);

#endif /* HC_CONFFILE_H */
