/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_restart.c - the restart hold and its state file (see hc_restart.h).
 */
#include "hc_restart.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_random.h>

#include "hc_auth.h"
#include "hc_dataplane.h"
#include "hc_file_writer.h"
#include "hc_log.h"

#define NOT_RESTATED (1ull << 63)
#define KEPT_LINK_DOWN (1ull << 62) /* held users when a data link was
                                       lost: listed until none is
                                       (hc_restart_links) */

static void end_hold(struct hc_restart *r, uint64_t now, int expired)
{
	r->holding = 0;
	r->st.expired = (uint64_t)expired;
	r->st.hold_ms = (now - r->started) * 1000 / rte_get_tsc_hz();
	HC_LOG(NOTICE, "restart hold over after %lu ms: %lu of %lu gateways restated%s",
	       (unsigned long)r->st.hold_ms, (unsigned long)r->st.restated,
	       (unsigned long)r->st.listed, expired ? " (the others timed out)" : "");
}

/* The largest state file read: 65,535 ids of 6 bytes, and comments. */
#define STATE_FILE_MAX (1u << 20)
#define STATE_FILE_LOGGED 3     /* bad lines logged one by one, then counted */

/* path opened for reading as a state file: a regular file (not a FIFO,
 * which would block the control core, nor a device), no symlink followed
 * (a peer's file arrives by rsync), at most STATE_FILE_MAX bytes.  NULL
 * with errno set (ENOENT: none). */
static FILE *open_state_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	int why = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL :
		  st.st_size > STATE_FILE_MAX ? EFBIG : 0;
	FILE *f = why == 0 ? fdopen(fd, "r") : NULL;
	if (f == NULL) {
		why = why != 0 ? why : errno;
		close(fd);
		errno = why;
	}
	return f;
}

/* A keyed state file's last line: this, the MAC's 64 hex digits of
 * every byte before the line, a newline. */
#define MAC_PREFIX "#mac hmac-sha512-256 "
#define MAC_LINE_LEN (sizeof(MAC_PREFIX) - 1 + HC_AUTH_FILE_MAC_HEX + 1)

/* The whole of f (at most STATE_FILE_MAX bytes) in a new buffer with a
 * NUL after it (*len bytes before it), or NULL: errno EFBIG (grown past
 * the bound since it was opened), ENOMEM, or a read error's. */
static char *slurp(FILE *f, size_t *len)
{
	char *buf = malloc(STATE_FILE_MAX + 2);
	if (buf == NULL)
		return NULL;
	errno = 0;
	size_t n = fread(buf, 1, STATE_FILE_MAX + 1, f);
	int why = ferror(f) ? (errno != 0 ? errno : EIO) : n > STATE_FILE_MAX ? EFBIG : 0;
	if (why != 0) {
		free(buf);
		errno = why;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Is buf (len bytes) a keyed state file whose last line is the MAC, under
 * key, of every byte before it?  Then *body is their count. */
static int mac_good(const char *buf, size_t len, const struct hc_restart *r, size_t *body)
{
	if (len < MAC_LINE_LEN || buf[len - 1] != '\n')
		return 0;
	size_t at = len - MAC_LINE_LEN;
	if ((at > 0 && buf[at - 1] != '\n') ||
	    memcmp(buf + at, MAC_PREFIX, sizeof(MAC_PREFIX) - 1) != 0)
		return 0;
	*body = at;
	for (unsigned k = 0; k < r->n_keys; k++) /* (a second while the key is rotated) */
		if (hc_auth_file_check_hex(buf + at + sizeof(MAC_PREFIX) - 1, buf, at,
					   r->key[k]) == 0)
			return 1;
	return 0;
}

#define UNKNOWN_LINE "unknown" /* the set written is not all: hc_restart.unknown */

/* One line of a state file: 1 and the id, 0 for a blank or comment line,
 * 2 for UNKNOWN_LINE, -1 for anything else.  Blanks around the id, a CR
 * before the newline and a comment after it ('#') are allowed. */
static int parse_line(const char *line, unsigned long *gw)
{
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (strncmp(p, UNKNOWN_LINE, sizeof(UNKNOWN_LINE) - 1) == 0) {
		const char *end = p + sizeof(UNKNOWN_LINE) - 1;
		while (isspace((unsigned char)*end))
			end++;
		if (*end == '\0' || *end == '#')
			return 2;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	char *end;
	errno = 0;
	*gw = strtoul(p, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	return errno == 0 && *gw != 0 && (*end == '\0' || *end == '#') ? 1 : -1;
}

/* A state file's gateway ids into r->swept (marked NOT_RESTATED) and,
 * for this box's own file, r->written.  Returns how many were not listed
 * already.  If the file cannot be read, or a line is not a gateway id
 * (skipped; the others count), *unknown is set (logged): who held users
 * is not known for sure, and the hold lasts its whole time.  A missing
 * file adds nothing (a first start). */
/* A keyed peer copy's stamp ('#written MS WRITER', the body's second
 * line): NULL if it names another writer and a time within
 * HC_RESTART_FRESH_MS of wall_ms, else why not. */
static const char *stamp_bad(const struct hc_restart *r, const char *body, size_t len,
			     uint64_t wall_ms)
{
	const char *nl = memchr(body, '\n', len);
	const char *line = nl != NULL ? nl + 1 : NULL;
	static const char tag[] = "#written ";
	if (line == NULL || (size_t)(body + len - line) < sizeof(tag) ||
	    memcmp(line, tag, sizeof(tag) - 1) != 0)
		return "no '#written' stamp";
	char *end;
	errno = 0;
	unsigned long long ms = strtoull(line + sizeof(tag) - 1, &end, 10);
	if (errno != 0 || end == line + sizeof(tag) - 1 || *end != ' ')
		return "a malformed '#written' stamp";
	const char *who = end + 1, *eol = memchr(who, '\n', (size_t)(body + len - who));
	size_t n = eol != NULL ? (size_t)(eol - who) : 0;
	if (n == strlen(r->self) && memcmp(who, r->self, n) == 0)
		return "written by this process (its own file sent back)";
	uint64_t age = wall_ms > ms ? wall_ms - ms : ms - wall_ms;
	if (age > HC_RESTART_FRESH_MS)
		return wall_ms > ms ? "stamped too long ago (the copy stopped coming, or a "
				      "replay)" : "stamped too far ahead of this box's clock";
	return NULL;
}

static long read_file(struct hc_restart *r, const char *path, int own, int *unknown,
		      uint64_t wall_ms)
{
	FILE *f = open_state_file(path);
	if (f == NULL) {
		if (errno == ENOENT && (own || !r->keyed))
			return 0; /* a first start */
		if (errno == ENOENT) { /* keyed: the peer's copy was deleted? */
			HC_LOG(WARNING, "%s: no peer copy (deleted, or the pair's first takeover): "
			       "placements wait the whole restart hold", path);
			r->st.stale++;
			*unknown = 1;
			return 0;
		}
		HC_LOG(WARNING, "%s: %s: placements wait the whole restart hold", path,
		       errno == EINVAL ? "not a regular file" : strerror(errno));
		*unknown = 1;
		return 0;
	}
	size_t len = 0;
	char *buf = slurp(f, &len);
	fclose(f);
	if (buf == NULL) {
		if (errno == EFBIG)
			HC_LOG(WARNING, "%s: longer than %u bytes: placements wait the whole "
			       "restart hold", path, STATE_FILE_MAX);
		else
			HC_LOG(WARNING, "%s: %s: placements wait the whole restart hold", path,
			       strerror(errno));
		*unknown = 1;
		return 0;
	}
	if (r->keyed && !mac_good(buf, len, r, &len)) {
		/* forged, cut short, or written without the key: none of it
		 * is believed (a forged file could shorten the hold) */
		HC_LOG(WARNING, "%s: no MAC under --state-key, or a wrong one (forged, cut "
		       "short, or written without the key): not believed, placements wait "
		       "the whole restart hold", path);
		r->st.unauthenticated++;
		*unknown = 1;
		free(buf);
		return 0;
	}
	const char *why = r->keyed && !own ? stamp_bad(r, buf, len, wall_ms) : NULL;
	if (why != NULL) {
		HC_LOG(WARNING, "%s: %s: not believed, placements wait the whole restart hold",
		       path, why);
		r->st.stale++;
		*unknown = 1;
		free(buf);
		return 0;
	}
	uint8_t *seen = calloc(r->max_gateways, 1);
	if (seen == NULL) {
		free(buf);
		*unknown = 1;
		return 0;
	}
	long lineno = 0, bad = 0, beyond = 0; /* (the first few logged, then a count) */
	for (size_t at = 0; at < len;) { /* each line, its newline made a NUL */
		char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
		at += n + 1;
		lineno++;
		unsigned long gw = 0;
		/* a NUL would hide the rest of its line from the parser */
		int kind = memchr(line, '\0', n) != NULL ? -1 : (line[n] = '\0', parse_line(line, &gw));
		if (kind == 0)
			continue;
		if (kind == 2) {
			HC_LOG(WARNING, "%s:%ld: the box that wrote it did not know which gateways "
			       "held users (its restart hold had not run its time): placements "
			       "wait the whole restart hold", path, lineno);
			*unknown = 1;
			if (own)
				r->written_unknown = 1; /* (on disk: rewritten without it
				                           once this hold knows) */
			continue;
		}
		if (kind < 0) {
			if (bad++ < STATE_FILE_LOGGED)
				HC_LOG(WARNING, "%s:%ld: not a gateway id: line skipped, placements "
				       "wait the whole restart hold", path, lineno);
			*unknown = 1;
			continue;
		}
		if (gw >= r->max_gateways) {
			if (beyond++ < STATE_FILE_LOGGED)
				HC_LOG(WARNING, "%s:%ld: gateway %lu is not below --max-gateways: "
				       "not waited for", path, lineno, gw);
			continue;
		}
		seen[gw] = 1;
	}
	free(buf);
	if (bad > STATE_FILE_LOGGED || beyond > STATE_FILE_LOGGED)
		HC_LOG(WARNING, "%s: %ld lines not a gateway id, %ld gateways not below "
		       "--max-gateways in all (the first %d of each logged)", path, bad, beyond,
		       STATE_FILE_LOGGED);
	long n = 0;
	for (uint32_t gw = 1; gw < r->max_gateways; gw++) {
		if (!seen[gw])
			continue;
		if (own)
			r->written[gw] = 1;
		if (!(r->swept[gw] & NOT_RESTATED)) {
			r->swept[gw] = NOT_RESTATED;
			n++;
		}
	}
	free(seen);
	return n;
}

static int is_none(const char *path)
{
	return path == NULL || strcmp(path, "none") == 0;
}

void hc_restart_set_keys(struct hc_restart *r, const uint8_t (*keys)[HC_RESTART_KEY_LEN],
			 unsigned n_keys)
{
	n_keys = n_keys < HC_RESTART_KEYS ? n_keys : HC_RESTART_KEYS;
	if (n_keys == 0 || r->n_keys == 0 || memcmp(r->key[0], keys[0], HC_RESTART_KEY_LEN) != 0)
		r->written_ms = 0; /* another signing key: the file written again at the
		                      next look (its copy under the key the peer moves to) */
	memset(r->key, 0, sizeof(r->key));
	if (n_keys > 0)
		memcpy(r->key, keys, (size_t)n_keys * HC_RESTART_KEY_LEN);
	r->n_keys = n_keys;
	r->keyed = n_keys > 0;
}

static void writer_counts(struct hc_restart *r);

/* r's arrays: at a takeover (prev, the hold it ends) the pair prev made
 * for it, cleared, with prev's own as the next pair (prev's written may
 * be the also[] being read: it is neither cleared nor freed here); else
 * new ones (-ENOMEM: none). */
static int hold_arrays(struct hc_restart *r, uint32_t max_gateways,
		       const struct hc_restart *prev)
{
	if (prev != NULL && prev->swept_next != NULL && prev->max_gateways == max_gateways) {
		r->swept = prev->swept_next;
		r->written = prev->written_next;
		memset(r->swept, 0, max_gateways * sizeof(*r->swept));
		memset(r->written, 0, max_gateways);
		r->swept_next = prev->swept;
		r->written_next = prev->written;
		return 0;
	}
	r->swept = calloc(max_gateways, sizeof(*r->swept));
	r->written = calloc(max_gateways, 1);
	r->swept_next = calloc(max_gateways, sizeof(*r->swept_next));
	r->written_next = calloc(max_gateways, 1);
	if (r->swept == NULL || r->written == NULL || r->swept_next == NULL ||
	    r->written_next == NULL)
		return -ENOMEM;
	return 0;
}

static void free_arrays(struct hc_restart *r)
{
	free(r->swept);
	free(r->written);
	free(r->swept_next);
	free(r->written_next);
}

/* hc_restart_init, and also[] (max_gateways flags, or NULL): gateways
 * counted as the own file's though it may not have them yet (the set a
 * takeover's writer was handed last), and prev (NULL at a start): the
 * hold a takeover ends, whose next pair of arrays r takes. */
static int init_hold(struct hc_restart *r, const char *path, const char *peer_path,
		     const uint8_t (*keys)[HC_RESTART_KEY_LEN], unsigned n_keys,
		     uint32_t max_gateways, unsigned n_workers, uint64_t now,
		     uint64_t timeout_tsc, uint64_t wall_ms, const uint8_t *also,
		     const struct hc_restart *prev)
{
	memset(r, 0, sizeof(*r));
	if (is_none(path))
		return 0;
	r->path = path;
	hc_restart_set_keys(r, keys, n_keys);
	/* this process, as a keyed file's stamp names it: its host name (for
	 * people) and a random id (two boxes cloned from one image share a
	 * host name and paths) */
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "?");
	for (char *c = host; *c != '\0'; c++)
		if (isspace((unsigned char)*c) || !isprint((unsigned char)*c))
			*c = '_';
	static uint64_t run_id;
	while (run_id == 0)
		run_id = rte_rand();
	snprintf(r->self, sizeof(r->self), "%s:%016llx", host, (unsigned long long)run_id);
	r->max_gateways = max_gateways;
	/* its directory, if missing (one level: /var/lib/headcount) */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			HC_LOG(WARNING, "%s: %s", dir, strerror(errno));
	}
	r->all_workers = (1ull << n_workers) - 1;
	if (hold_arrays(r, max_gateways, prev) != 0) {
		hc_restart_free(r);
		return -ENOMEM;
	}
	/* who held users is not known for sure; nor, at a takeover, when
	 * the hold it follows did not know and had not run its time (that
	 * hold's 'unknown' line may still sit in a write the writer holds,
	 * not read below); and what the own file says, as it was written */
	int unknown = prev != NULL && prev->unknown;
	if (prev != NULL)
		r->written_unknown = prev->written_unknown;
	long own = read_file(r, path, 1, &unknown, wall_ms);
	for (uint32_t gw = 1; also != NULL && gw < max_gateways; gw++) {
		if (also[gw] == 0xff)
			unknown = 1; /* the last write failed: its set is not known */
		if (also[gw] != 1 || (r->swept[gw] & NOT_RESTATED))
			continue;
		r->swept[gw] = NOT_RESTATED;
		r->written[gw] = 1;
		own++;
	}
	long peer = is_none(peer_path) ? 0 : read_file(r, peer_path, 0, &unknown, wall_ms);
	long n = own + peer;
	r->unknown = unknown;
	if (n == 0 && !unknown)
		return 0;
	r->st.listed = (uint64_t)n;
	r->st.listed_by_peer = (uint64_t)peer;
	/* unknown: one more than can restate, so only the timeout ends it */
	r->waiting = (uint32_t)n + (unknown ? 1 : 0);
	r->holding = 1;
	r->started = now;
	r->until = now + timeout_tsc;
	HC_LOG(NOTICE, "%s: %ld gateways held users before this start (%ld more named only by "
	       "the peer's %s): placements wait until they restated (at most %lu ms)", path,
	       own, peer, is_none(peer_path) ? "(none)" : peer_path,
	       (unsigned long)(timeout_tsc * 1000 / rte_get_tsc_hz()));
	return 0;
}

int hc_restart_init(struct hc_restart *r, const char *path, const char *peer_path,
		    const uint8_t (*keys)[HC_RESTART_KEY_LEN], unsigned n_keys,
		    uint32_t max_gateways, unsigned n_workers, uint64_t now,
		    uint64_t timeout_tsc, uint64_t wall_ms)
{
	return init_hold(r, path, peer_path, keys, n_keys, max_gateways, n_workers, now,
			 timeout_tsc, wall_ms, NULL, NULL);
}

int hc_restart_again(struct hc_restart *r, const char *path, const char *peer_path,
		     const uint8_t (*keys)[HC_RESTART_KEY_LEN], unsigned n_keys,
		     uint32_t max_gateways, unsigned n_workers, uint64_t now,
		     uint64_t timeout_tsc, uint64_t wall_ms)
{
	/* the new hold made aside (telemetry reads r's counters meanwhile,
	 * and the files take the disk's time), then taken whole.  The writer
	 * kept (ending it would wait for the disk); the set it was handed
	 * last counts with the own file, which may not have it yet; the
	 * counters that count from the start of the process carried */
	static struct hc_restart fresh;
	struct hc_file_writer *fw = r->fw;
	int rc = init_hold(&fresh, path, peer_path, keys, n_keys, max_gateways, n_workers, now,
			   timeout_tsc, wall_ms, fw != NULL ? r->written : NULL, r);
	/* kept even with no memory for the hold (not reached from a start
	 * with a state file: the hold's arrays were made then; else no file
	 * this epoch: fresh.path is NULL, and nothing is handed to it):
	 * ending it here would wait on the control core for a disk that may
	 * hang, and leave a write behind that could land over a later
	 * writer's file */
	fresh.fw = fw;
	fresh.save_errors = r->save_errors;
	fresh.st.restated += r->st.restated;
	fresh.st.restated_late += r->st.restated_late;
	writer_counts(&fresh);
	if (r->swept == NULL || fresh.swept_next != r->swept)
		free_arrays(r); /* (else fresh took them all: its next pair) */
	*r = fresh;
	memset(&fresh, 0, sizeof(fresh)); /* (the key) */
	__asm__ __volatile__("" : : "r"(&fresh) : "memory");
	return rc;
}

void hc_restart_free(struct hc_restart *r)
{
	hc_file_writer_free(r->fw); /* (what it was handed is written first,
	                               unless the disk hangs beyond 5 s) */
	free_arrays(r);
	memset(r, 0, sizeof(*r)); /* (the key too) */
	__asm__ __volatile__("" : : "r"(r) : "memory"); /* (not an elided store) */
}

int hc_restart_waits_for(const struct hc_restart *r, uint16_t gw)
{
	return r->holding && gw < r->max_gateways && (r->swept[gw] & NOT_RESTATED) != 0;
}

int hc_restart_swept(struct hc_restart *r, uint16_t gw, unsigned worker, uint64_t now)
{
	if (gw >= r->max_gateways || !(r->swept[gw] & NOT_RESTATED))
		return 0;
	r->swept[gw] |= 1ull << worker;
	if ((r->swept[gw] & r->all_workers) != r->all_workers)
		return 0;
	r->swept[gw] &= KEPT_LINK_DOWN; /* (restated: kept while a link is lost) */
	r->waiting--;
	if (!r->holding) { /* after an early end: only off the carried list */
		r->st.restated_late++;
		return 0;
	}
	r->st.restated++;
	if (r->waiting > 0)
		return 0;
	end_hold(r, now, 0);
	return 1;
}

/* The listed gateways not restated by the hold's deadline are waited for
 * no more (not carried into the file written: a restart then does not
 * wait for a gateway that may be gone). */
static void forget_unrestated(struct hc_restart *r)
{
	for (uint32_t gw = 1; gw < r->max_gateways; gw++)
		r->swept[gw] &= ~NOT_RESTATED;
	r->waiting = 0;
	r->unknown = 0; /* (a gateway not listed has restated or is gone) */
}

void hc_restart_end(struct hc_restart *r, uint64_t now)
{
	if (r->holding)
		end_hold(r, now, 0);
}

int hc_restart_poll(struct hc_restart *r, uint64_t now)
{
	if (r->waiting == 0 || now < r->until)
		return 0;
	int ended = r->holding;
	if (ended)
		end_hold(r, now, 1);
	forget_unrestated(r);
	return ended;
}

/* A keyed file's last line, its MAC, appended to *body (*len bytes,
 * malloc'd): 0 or -ENOMEM. */
static int add_mac(char **body, size_t *len, const uint8_t *key)
{
	char *more = realloc(*body, *len + MAC_LINE_LEN + 1);
	if (more == NULL)
		return -ENOMEM;
	char mac[HC_AUTH_FILE_MAC_HEX + 1];
	hc_auth_file_mac_hex(mac, more, *len, key);
	*len += (size_t)snprintf(more + *len, MAC_LINE_LEN + 1, "%s%s\n", MAC_PREFIX, mac);
	*body = more;
	return 0;
}

/* The writer's counts, and the failures before it, into r->st. */
static void writer_counts(struct hc_restart *r)
{
	uint64_t errors = 0;
	r->st.write_busy_ms = 0;
	if (r->fw != NULL) {
		hc_file_writer_counts(r->fw, &r->st.writes, &errors);
		r->st.write_busy_ms = hc_file_writer_busy_ms(r->fw);
	}
	r->st.write_errors = errors + r->save_errors;
}

void hc_restart_flush(struct hc_restart *r)
{
	if (r->fw != NULL)
		hc_file_writer_flush(r->fw);
	writer_counts(r);
}

/* Does gateway g hold users, as the file written says?  Those the
 * workers count, and a listed gateway that has not restated yet (a hold
 * ended early): it still holds its users, which a restart now must
 * wait for as this one did. */
static uint8_t holds_users(const struct hc_restart *r, const struct hc_dataplane *dp,
			   uint32_t g)
{
	return hc_dp_gateway_users(dp, (uint16_t)g) > 0 ||
	       (r->swept[g] & (NOT_RESTATED | KEPT_LINK_DOWN)) != 0;
}

void hc_restart_links(struct hc_restart *r, const struct hc_dataplane *dp, uint64_t lost)
{
	uint64_t newly = lost & ~r->links_lost;
	r->links_lost = lost;
	if (r->swept == NULL || (newly == 0 && lost != 0))
		return;
	uint32_t kept = 0;
	for (uint32_t g = 1; g < r->max_gateways; g++) {
		if (lost == 0) {
			r->swept[g] &= ~KEPT_LINK_DOWN;
		} else if (holds_users(r, dp, g)) { /* (each port lost adds) */
			r->swept[g] |= KEPT_LINK_DOWN;
			kept++;
		}
	}
	if (newly != 0 && r->path != NULL)
		HC_LOG(WARNING, "%s: lists the %u gateways holding users while a data link "
		       "is lost (cut off, not gone: a takeover from it waits for them)",
		       r->path, kept);
}

void hc_restart_save(struct hc_restart *r, const struct hc_dataplane *dp, uint64_t wall_ms)
{
	if (r->path == NULL || r->holding)
		return;
	if (r->fw == NULL)
		r->fw = hc_file_writer_new(r->path, "hc-state-file");
	if (r->fw == NULL) {
		if (r->save_errors++ == 0)
			HC_LOG(WARNING, "%s: no writer thread (%s): tried again each second",
			       r->path, strerror(errno));
		r->st.write_errors = r->save_errors;
		return;
	}
	writer_counts(r);
	if (r->st.write_busy_ms >= HC_RESTART_REFRESH_MS && !r->stuck_logged) {
		HC_LOG(WARNING, "%s: one write has taken %lu ms so far (a disk that hangs?): "
		       "%s", r->path, (unsigned long)r->st.write_busy_ms,
		       r->keyed ? "the peer's copy goes stale 30 s after the last one written"
				: "the file stays as it was");
		r->stuck_logged = 1;
	} else if (r->st.write_busy_ms == 0) {
		r->stuck_logged = 0;
	}
	if (hc_file_writer_failed(r->fw))
		memset(r->written, 0xff, r->max_gateways); /* (logged there) */
	/* keyed: the stamp renewed (the peer believes a fresh copy only,
	 * whether this box reads a peer file or not) */
	int changed = r->keyed && (wall_ms < r->written_ms ||
				   wall_ms - r->written_ms >= HC_RESTART_REFRESH_MS);
	changed |= r->unknown != r->written_unknown;
	for (uint32_t g = 1; g < r->max_gateways && !changed; g++)
		changed = r->written[g] != holds_users(r, dp, g);
	if (!changed)
		return;
	/* the body in memory first: a keyed file's last line is its MAC */
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL) {
		if (r->save_errors++ == 0)
			HC_LOG(WARNING, "%s: %s", r->path, strerror(errno));
		writer_counts(r);
		return;
	}
	fprintf(mem, "# headcount: gateways holding users (restart hold, see --state-file)\n");
	if (r->keyed)
		fprintf(mem, "#written %llu %s\n", (unsigned long long)wall_ms, r->self);
	for (uint32_t g = 1; g < r->max_gateways; g++) {
		r->written[g] = holds_users(r, dp, g);
		if (r->written[g])
			fprintf(mem, "%u\n", g);
	}
	/* (a hold that did not know who held users, ended early: the set
	 * above may lack a gateway still to restate; so the next start
	 * holds its whole time too) */
	if (r->unknown)
		fprintf(mem, UNKNOWN_LINE "\n");
	r->written_unknown = r->unknown;
	if (fclose(mem) != 0 || (r->keyed && add_mac(&body, &len, r->key[0]) != 0) ||
	    hc_file_writer_put(r->fw, body, len) != 0) {
		free(body);
		if (r->save_errors++ == 0)
			HC_LOG(WARNING, "%s: out of memory", r->path);
		writer_counts(r);
		memset(r->written, 0xff, r->max_gateways); /* try again next time */
		return;
	}
	free(body);
	r->written_ms = wall_ms;
}
