/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_config.h - the appliance's configuration, as every layer reads it.
 *
 * Filled once from defaults, the config file's [appliance] section and
 * the command line (app/hc_options.c, one table row per option) before
 * any lcore runs, read-only afterwards (a reload changes the control
 * core's policy and keys, never this struct).  Only data here: who
 * parses it and how lives in the app layer.
 */
#ifndef HC_CONFIG_H
#define HC_CONFIG_H

#include <stdint.h>

#define HC_CONFIG_MAX_POOL_SPECS 64

struct hc_config {
	uint32_t ip_be;            /* --ip, network order                    */
	int ip_explicit;           /* --ip was given (not the lab default):
	                              physical ports need it (hc_port.c)     */
	uint32_t udp_port;         /* --udp-port, host order (1..65535)      */
	uint32_t max_users;        /* --max-users: whole appliance           */
	uint32_t max_rooms;        /* --max-rooms: room ids 1 .. max-1       */
	uint32_t max_gateways;     /* --max-gateways: gateway ids 1 .. max-1 */
	uint32_t burst;            /* --burst                                */
	uint32_t rx_desc;          /* --rx-desc                              */
	uint32_t mbufs;            /* --mbufs                                */
	int mbufs_explicit;        /* --mbufs was given: not sized to the
	                              workers (hc_port_default_mbufs)        */
	uint32_t gather_mbufs;     /* --gather-mbufs: multi-segment frames are
	                              gathered into these (9 KiB each)       */
	uint32_t merge_interval_ms;/* --merge-interval-ms                    */
	uint32_t gap_timeout_ms;   /* --gap-timeout-ms: NACK a gap after     */
	uint32_t gap_nacks;        /* --gap-nacks: NACK rounds without progress, then give up */
	uint32_t gateway_timeout_ms; /* --gateway-timeout-ms: silent = dead, 0 never */
	uint32_t heartbeat_ms;     /* --heartbeat-ms: A->G heartbeat period  */
	double stats_interval_s;   /* --stats-interval, 0 = quiet            */
	double idle_exit_s;        /* --idle-exit, 0 = never                 */
	double duration_s;         /* --duration, 0 = until a signal         */
	const char *policy_file;   /* --config FILE (docs/configuration.md)  */
	int check_config;          /* --check-config: validate, start nothing */
	uint64_t cli_set;          /* option rows given on the command line  */
	const char *pool_specs[HC_CONFIG_MAX_POOL_SPECS]; /* --pool ...      */
	uint32_t n_pool_specs;
	uint32_t max_reservations; /* --max-reservations                     */
	int no_admission;          /* --no-admission: JOINs never refused    */
	const char *dump_rooms;    /* --dump-rooms FILE                      */
	const char *dump_stats;    /* --dump-stats FILE                      */
	const char *keys_file;     /* --keys FILE: per-gateway keys (v2 auth) */
	int no_auth;               /* --no-auth: accept untagged datagrams    */
	uint32_t max_places_per_gw;/* --max-places-per-gateway: seats one
	                              gateway may hold reserved at once      */
	uint32_t max_snapshot_users; /* --max-snapshot-users: members one
	                              gateway's snapshot may stage           */
	uint32_t max_users_per_gw; /* --max-users-per-gateway: users one
	                              gateway may hold (0: no cap)          */
	uint32_t gateway_sweeps;   /* --gateway-sweeps: sweeps one gateway
	                              may cause a second, 2N at once (0: no
	                              limit)                                */
	const char *state_file;    /* --state-file FILE ("none": none): the
	                              gateways holding users, for the restart
	                              hold (control/hc_restart.h)           */
	const char *peer_state_file; /* --peer-state-file FILE ("none"): an
	                              HA peer's state file, copied here by
	                              hc-state-sync; its gateways are held
	                              for too (control/hc_restart.h)       */
	const char *ha_mode;       /* --ha backup: one of an HA pair
	                              (control/hc_ha.h); NULL: standalone   */
	const char *ha_box;        /* --ha-box 0/1: the box's epochs even or
	                              odd (hc_ha_next_epoch); NULL: either  */
	const char *state_key_file; /* --state-key FILE: the pair's key for
	                              the state files (NULL: they carry no
	                              MAC and none is checked)              */
	unsigned have_state_key;   /* keys loaded from state_key_file (at
	                              start: hc_boot_load): 0, 1, or 2 while
	                              the key is rotated (the first signs)  */
	uint8_t state_key[2][32];  /* ([HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN];
	                              a reload's are the control core's:
	                              hc_decide_state_keys)                */
};

#endif /* HC_CONFIG_H */
