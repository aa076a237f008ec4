/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_restart.h - the restart hold: after a (re)start, no seat is handed
 * out that a gateway may still hold.
 *
 * The gateways keep their users across an appliance restart; the new
 * incarnation's seat book starts empty and learns them back from the
 * gateways' snapshots (restatements).  A seat handed out before a gateway
 * restated could be one of its users' seats.  So the control core keeps
 * a state file (--state-file) naming the gateways that hold users, and a
 * new incarnation that finds gateways there holds placements (PLACEs wait
 * in their rings, JOINs' seat requests in the control core) until each of
 * them has restated — every worker has swept its snapshot — or until the
 * gateway timeout has passed (a gateway silent that long is dead anyway).
 * Restatements themselves are decided at once.
 *
 * An HA pair's boxes keep a file each: only a master writes its own, and
 * hc-state-sync (deploy/keepalived/hc-state-sync.py) copies it to the
 * other box, where it is the peer state file (--peer-state-file).  A hold
 * waits for the gateways either file names: after a takeover the new
 * master's own file is old (it last served long ago, or never) and the
 * peer's names the gateways the old master served.
 *
 * The file is text, one gateway id per line after a comment line; it is
 * rewritten (a new file renamed over the old) when the set of gateways
 * holding users changes, checked once a second, never during a
 * hold; written to disk (fsync) before the rename, so neither a process
 * nor a machine crash leaves it empty.  A missing file means a first
 * start.  With the pair's key (--state-key) its last line is a MAC
 * (HMAC-SHA-512-256, hc_auth.h) of every byte before it, and a file read
 * without a good one is not believed at all: it was forged (the copy
 * crosses the pair's management network), cut short, or written without
 * the key; who held users is then not known, and the hold lasts its
 * whole time (counted: unauthenticated).  A keyed file also names its
 * writer (host name and a random id of the process) and the wall clock it
 * was written at, and is rewritten every HC_RESTART_REFRESH_MS while its
 * box serves; a peer's
 * copy is believed only if another box wrote it within
 * HC_RESTART_FRESH_MS of now (either way: clocks differ), so a copy
 * replayed later, a file this process wrote sent back, or a copy the sync
 * stopped delivering is not believed either (counted: stale).  A
 * replay within that window is not detected.
 * Control core only (slow path: the files read at a start or takeover;
 * the own file made when the set changes, and every 10 s for a keyed
 * file, looked at once a second, and written by a thread of its own,
 * hc_file_writer.h, so that a slow disk never stalls the control core).
 */
#ifndef HC_RESTART_H
#define HC_RESTART_H

#include <stdint.h>

struct hc_dataplane;
struct hc_file_writer;

#define HC_RESTART_KEYS    2  /* (HC_AUTH_FILE_KEYS_MAX)               */
#define HC_RESTART_KEY_LEN 32 /* (HC_AUTH_FILE_KEY_LEN)                */

struct hc_restart_stats {
	uint64_t listed;     /* gateways the state files named at start  */
	uint64_t listed_by_peer; /* ... named by the peer's file only    */
	uint64_t restated;   /* ... that restated during the hold        */
	uint64_t restated_late; /* ... that restated after their hold had
	                           ended early (no longer waited for)    */
	uint64_t expired;    /* 1: the hold ended at the timeout          */
	uint64_t hold_ms;    /* how long placements were held             */
	uint64_t writes;     /* state files written                       */
	uint64_t write_errors;
	uint64_t write_busy_ms; /* the write in progress so far (0: none) */
	uint64_t unauthenticated; /* state files read with --state-key whose
	                             MAC was missing or wrong (not believed) */
	uint64_t stale;      /* peer copies with a good MAC not believed: no
	                        stamp, this box's own, or stamped more than
	                        HC_RESTART_FRESH_MS from now              */
};

struct hc_restart {
	const char *path;         /* NULL: no state file                   */
	uint32_t max_gateways;
	uint64_t all_workers;     /* mask of the workers that must sweep   */
	uint64_t *swept;          /* [max_gateways] workers that swept; a
	                             listed gateway not restated yet has bit
	                             63 set, one kept listed while a data
	                             link is down bit 62 (hc_restart_links) */
	uint32_t waiting;         /* listed gateways not restated yet      */
	int holding;
	int unknown;              /* who held users was not known at the
	                             hold's start (a file not believed, a
	                             bad line): until the hold's deadline the
	                             file written says so (an 'unknown'
	                             line), even after an early end: a
	                             restart meanwhile holds its whole time */
	int written_unknown;      /* the last file written said 'unknown'  */
	uint64_t links_lost;      /* hc_restart_links: ports lost, as told */
	uint64_t started, until;  /* TSC                                   */
	uint8_t *written;         /* [max_gateways] the file's set         */
	uint64_t *swept_next;     /* [max_gateways] each: the pair the next */
	uint8_t *written_next;    /* hold takes (hc_restart_again), made
	                             with these, so that a takeover allocates
	                             no hold: out of memory then would leave
	                             the new epoch with no hold and no file */
	int keyed;                /* files carry a MAC under key[0], and one
	                             read without a good one under a key is
	                             not believed                          */
	uint8_t key[HC_RESTART_KEYS][HC_RESTART_KEY_LEN]; /* (hc_auth.h's
	                             HC_AUTH_FILE_KEYS_MAX, _KEY_LEN)      */
	unsigned n_keys;          /* 2 while the key is rotated             */
	char self[320];           /* keyed: who writes path (the host name and
	                             a random id of this process), stamped  */
	uint64_t written_ms;      /* keyed: the wall clock of the last write
	                             handed to the writer                  */
	struct hc_file_writer *fw; /* path's writer thread (hc_file_writer.h),
	                             started by the first save             */
	uint64_t save_errors;     /* saves that failed before the writer   */
	int stuck_logged;         /* a write running 10 s or more was logged */
	struct hc_restart_stats st;
};

/*
 * Read the state file (path NULL or "none": none) and the peer's (the
 * same) and start holding if they name gateways: until those restated or
 * timeout_tsc passed.  Returns 0 or -errno (out of memory).  A file that
 * cannot be read (or is not a regular file, is a symlink, or is over
 * 1 MiB), or a line that is no gateway id, is logged and makes the hold
 * last until timeout_tsc (the ids of a bad line's file still count; a
 * file not read whole counts for nothing).  keys: n_keys (0: none, 2
 * while the key is rotated) keys: both files must then end in a good MAC
 * under one of them (else none of that file counts, and the hold lasts
 * until timeout_tsc), and the file written gets one under keys[0]; the peer's must also be fresh, by its
 * stamp, at wall_ms (the wall clock, ms).  Only path is ever written.
 */
#define HC_RESTART_REFRESH_MS 10000u /* a keyed file's stamp renewed     */
#define HC_RESTART_FRESH_MS   30000u /* a peer copy's stamp believed     */
int hc_restart_init(struct hc_restart *r, const char *path, const char *peer_path,
		    const uint8_t (*keys)[HC_RESTART_KEY_LEN], unsigned n_keys,
		    uint32_t max_gateways, unsigned n_workers, uint64_t now,
		    uint64_t timeout_tsc, uint64_t wall_ms);

/* The keys from now on (a reload of --state-key): files are written
 * under keys[0], and one read is believed under any of the n_keys (at
 * most HC_RESTART_KEYS; 0: files carry no MAC and none is checked).  A
 * new keys[0] has the file written again at the next save. */
void hc_restart_set_keys(struct hc_restart *r, const uint8_t (*keys)[HC_RESTART_KEY_LEN],
			 unsigned n_keys);
void hc_restart_free(struct hc_restart *r);

/* A takeover (or a new epoch): hold again as hc_restart_init would,
 * keeping r's writer thread (ending it would wait
 * for the disk) and counting the set it was handed last with the own
 * file, which may not have it on disk yet (the hold lasts its whole time
 * if the last write failed).  st.restated, writes and write_errors count
 * on; the new hold is made aside and taken whole (telemetry never reads
 * them as 0 meanwhile).  The new hold's arrays are the pair r made for
 * it (swept_next, written_next), cleared, and r's own become the next
 * epoch's pair: the hold and the file never depend on memory found at a
 * takeover.  (What only reads the files allocates: with none, a file
 * counts as unreadable, and the hold lasts its whole time.) */
int hc_restart_again(struct hc_restart *r, const char *path, const char *peer_path,
		     const uint8_t (*keys)[HC_RESTART_KEY_LEN], unsigned n_keys,
		     uint32_t max_gateways, unsigned n_workers, uint64_t now,
		     uint64_t timeout_tsc, uint64_t wall_ms);

static inline int hc_restart_holding(const struct hc_restart *r)
{
	return r->holding;
}

/* Does the hold still wait for gateway gw's restatement (listed, not yet
 * restated)?  Its heartbeats then ask for a snapshot (RESYNC_NEEDED). */
int hc_restart_waits_for(const struct hc_restart *r, uint16_t gw);

/* Worker `worker` swept gateway gw's snapshot.  Returns 1 if that ended
 * the hold (after a hold ended early: 0, the gateway no longer listed for
 * want of a restatement). */
int hc_restart_swept(struct hc_restart *r, uint16_t gw, unsigned worker, uint64_t now);

/* End the hold now (held requests would block a worker).  The listed
 * gateways not restated yet stay in the file hc_restart_save writes until
 * they restate or the hold's deadline passes: they still hold users. */
void hc_restart_end(struct hc_restart *r, uint64_t now);

/* The hold's deadline: returns 1 if it ended a hold now.  Past it, the
 * listed gateways not restated are waited for (and listed) no more. */
int hc_restart_poll(struct hc_restart *r, uint64_t now);

/* The data ports whose link is lost (hc_links_lost: seen up, down now)
 * changed: for each port newly lost, the gateways holding users then are
 * kept listed in the state file until no link is lost (the workers soon
 * declare them dead: they are cut off, not gone, and a takeover's hold
 * from this file must wait for them; an HA pair's peer takes over,
 * keepalived's check says so).  The control core calls it when
 * hc_links_lost differs from links_lost. */
void hc_restart_links(struct hc_restart *r, const struct hc_dataplane *dp, uint64_t lost);

/* Outside a hold: write the state file if the gateways holding users
 * changed, if the last write failed or, keyed, if it was last written
 * HC_RESTART_REFRESH_MS or more before wall_ms (its stamp kept fresh for
 * the peer).  The contents are made here and written by r's writer
 * thread: the disk's time (fsync) is never the control core's.  st's
 * writes and write_errors are the writer's as of this call. */
void hc_restart_save(struct hc_restart *r, const struct hc_dataplane *dp, uint64_t wall_ms);

/* Wait until the state file handed over last is written (or failed),
 * and take the writer's counts into st. */
void hc_restart_flush(struct hc_restart *r);

#endif /* HC_RESTART_H */
