/*
 * hc_config.h - the appliance's own command line (after EAL's "--").
 *
 * Owns parsing and validation of every headcount option; nothing else in
 * the program reads argv.  Parse -> check -> the rest of main builds from
 * the resulting struct, which is read-only once the lcores run.
 */
#ifndef HC_CONFIG_H
#define HC_CONFIG_H

#include <stdint.h>

struct hc_config {
	uint32_t ip_be;            /* --ip, network order                    */
	uint16_t udp_port;         /* --udp-port, host order                 */
	uint32_t max_users;        /* --max-users: whole appliance           */
	uint32_t max_rooms;        /* --max-rooms: room ids 1 .. max-1       */
	uint32_t max_gateways;     /* --max-gateways: gateway ids 1 .. max-1 */
	uint32_t burst;            /* --burst                                */
	uint32_t rx_desc;          /* --rx-desc                              */
	uint32_t mbufs;            /* --mbufs                                */
	uint32_t merge_interval_ms;/* --merge-interval-ms                    */
	uint32_t gap_timeout_ms;   /* --gap-timeout-ms: NACK a gap after     */
	uint32_t gap_nacks;        /* --gap-nacks: NACK rounds, then give up */
	uint32_t gateway_timeout_ms; /* --gateway-timeout-ms: silent = dead, 0 never */
	uint32_t heartbeat_ms;     /* --heartbeat-ms: A->G heartbeat period  */
	double stats_interval_s;   /* --stats-interval, 0 = quiet            */
	double idle_exit_s;        /* --idle-exit, 0 = never                 */
	double duration_s;         /* --duration, 0 = until a signal         */
	const char *policy_file;   /* --config FILE (pools, timers; INI)     */
	const char *pool_specs[64];/* --pool ID:NAME:MIN:MAX[:TARGET]        */
	uint32_t n_pool_specs;
	uint32_t max_reservations; /* --max-reservations                     */
	int no_admission;          /* --no-admission: JOINs never refused     */
	const char *dump_rooms;    /* --dump-rooms FILE                      */
	const char *dump_stats;    /* --dump-stats FILE                      */
};

/*
 * Parse argv (argv[0] is the program name).  Returns 0 on success, 1 if
 * --help was printed, -1 after printing what was wrong.
 */
int hc_config_parse(struct hc_config *c, int argc, char **argv);
void hc_config_usage(const char *prog);

#endif /* HC_CONFIG_H */
