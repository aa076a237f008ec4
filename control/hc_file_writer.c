/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_file_writer.c - a small file replaced whole and durably, off the
 * caller's core (see hc_file_writer.h).  Slow path: a mutex guards the
 * hand-over, never held during I/O.
 */
#include "hc_file_writer.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "hc_log.h"

/* A temporary file's name: PATH, this, and mkostemp's six characters (a
 * name of its own, so that a sweep never takes an operator's file such as
 * PATH.backup) */
#define TEMP_INFIX ".hctmp."

void (*hc_file_writer_test_hold)(void);
uint32_t hc_file_writer_end_wait_ms = 5000;
unsigned hc_file_writer_left_ended;

struct hc_file_writer {
	char *path;             /* (a copy: a writer left behind outlives
	                           its caller's) */
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* contents waiting, or a write done, or stop,
	                           or the thread's end (CLOCK_MONOTONIC) */
	pthread_t tid;
	char *next;             /* contents waiting (malloc'd), or NULL     */
	size_t next_len;
	int busy;               /* the thread writes                        */
	uint64_t busy_since_ms; /* ... since (CLOCK_MONOTONIC)               */
	int stop;
	int ended;              /* the thread is past its last write          */
	int left_behind;        /* hc_file_writer_free gave up waiting: the
	                           thread frees the writer when it ends       */
	int failed;             /* a write failed since the caller last asked */
	int failing;            /* the last write failed (log only the first) */
	uint64_t writes, errors; /* (under mu)                              */
};

/* write all of buf to fd: 0 or an errno */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* path's directory into dir (cap bytes; "." for a bare name): 0, or
 * ENAMETOOLONG.  *base (if not NULL): the name in it, within path. */
static int dir_of(const char *path, char *dir, size_t cap, const char **base)
{
	int len = snprintf(dir, cap, "%s", path);
	if (len < 0 || (size_t)len >= cap)
		return ENAMETOOLONG;
	char *slash = strrchr(dir, '/');
	if (base != NULL)
		*base = slash == NULL ? path : path + (slash - dir) + 1;
	if (slash == NULL)
		snprintf(dir, cap, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/* fsync path's directory (so that the rename survives a crash) */
static int sync_dir(const char *path)
{
	char dir[4096];
	int why = dir_of(path, dir, sizeof(dir), NULL);
	if (why != 0)
		return why;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	why = fsync(fd) != 0 ? errno : 0;
	close(fd);
	return why;
}

int hc_file_replace(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s" TEMP_INFIX "XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ENAMETOOLONG;
	/* a fresh file of ours under a name nobody could know beforehand
	 * (PATH.hctmp.XXXXXX, mkostemp: created, O_EXCL, mode 0600): nothing
	 * planted at a fixed name (a symlink, a FIFO, a directory)
	 * redirects, blocks or fails the write, and nothing there is removed */
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return errno;
	/* on disk before it replaces the old one: a crash of the machine
	 * must not leave an empty or cut file */
	int why = write_all(fd, buf, len);
	if (why == 0 && fsync(fd) != 0)
		why = errno;
	if (close(fd) != 0 && why == 0)
		why = errno;
	if (why == 0 && rename(tmp, path) != 0)
		why = errno;
	if (why != 0) {
		unlink(tmp);
		return why;
	}
	return sync_dir(path);
}

/* One write, its outcome counted and (the first of a run of failures)
 * logged.  Called without mu. */
static void write_one(struct hc_file_writer *fw, const char *buf, size_t len)
{
	if (hc_file_writer_test_hold != NULL)
		hc_file_writer_test_hold();
	int why = hc_file_replace(fw->path, buf, len);
	pthread_mutex_lock(&fw->mu);
	int was_failing = fw->failing; /* (logged after the lock: a slow log
	                                  must not hold the caller's put) */
	if (why == 0) {
		fw->writes++;
	} else {
		fw->errors++;
		fw->failed = 1;
	}
	fw->failing = why != 0;
	int left_behind = fw->left_behind; /* (the process may be past
	                                      rte_eal_cleanup: no log) */
	pthread_mutex_unlock(&fw->mu);
	if (left_behind)
		return;
	if (why == 0 && was_failing)
		HC_LOG(NOTICE, "%s: written again", fw->path);
	else if (why != 0 && !was_failing)
		HC_LOG(WARNING, "%s: %s (tried again)", fw->path, strerror(why));
}

static uint64_t monotonic_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Is name what a writer of base left: base TEMP_INFIX and mkostemp's six
 * characters, or base.tmp (the name before 2026-12-03)? */
static int is_leftover(const char *name, const char *base, size_t blen)
{
	if (strncmp(name, base, blen) != 0)
		return 0;
	const char *rest = name + blen;
	if (strcmp(rest, ".tmp") == 0)
		return 1;
	size_t il = sizeof(TEMP_INFIX) - 1;
	if (strncmp(rest, TEMP_INFIX, il) != 0)
		return 0;
	rest += il;
	for (int i = 0; i < 6; i++)
		if (!isalnum((unsigned char)rest[i]))
			return 0;
	return rest[6] == '\0';
}

/*
 * What earlier writers of path left behind when they were cut short (a
 * machine's crash, a SIGKILL or the watchdog's abort mid-write): regular
 * files of ours beside it named PATH.hctmp.XXXXXX, or PATH.tmp (the name
 * used before 2026-12-03), removed.  Anything else (a directory, a symlink,
 * another user's file, another name) is left alone.  Once, when the
 * writer starts, in its own thread.  Returns how many went.
 */
unsigned hc_file_writer_sweep(const char *path)
{
	char dir[4096];
	const char *base;
	if (dir_of(path, dir, sizeof(dir), &base) != 0)
		return 0;
	size_t blen = strlen(base);
	if (blen == 0)
		return 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	unsigned gone = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		const char *n = e->d_name;
		if (!is_leftover(n, base, blen))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		if (unlinkat(dirfd(d), n, 0) == 0)
			gone++;
	}
	closedir(d);
	if (gone > 0)
		HC_LOG(NOTICE, "%s: %u unfinished earlier writes removed", path, gone);
	return gone;
}

static void writer_release(struct hc_file_writer *fw)
{
	free(fw->next);
	free(fw->path);
	pthread_cond_destroy(&fw->cv);
	pthread_mutex_destroy(&fw->mu);
	free(fw);
}

static void *writer_main(void *arg)
{
	struct hc_file_writer *fw = arg;
	hc_file_writer_sweep(fw->path);
	pthread_mutex_lock(&fw->mu);
	fw->busy = 0; /* (a flush waited for the sweep) */
	pthread_cond_broadcast(&fw->cv);
	for (;;) {
		while (fw->next == NULL && !fw->stop)
			pthread_cond_wait(&fw->cv, &fw->mu);
		if (fw->next == NULL)
			break; /* stop, and nothing waits */
		char *buf = fw->next;
		size_t len = fw->next_len;
		fw->next = NULL;
		fw->busy = 1;
		fw->busy_since_ms = monotonic_ms();
		pthread_mutex_unlock(&fw->mu);
		write_one(fw, buf, len);
		free(buf);
		pthread_mutex_lock(&fw->mu);
		fw->busy = 0;
		pthread_cond_broadcast(&fw->cv); /* (a flush waits) */
	}
	fw->ended = 1;
	pthread_cond_broadcast(&fw->cv); /* (hc_file_writer_free waits) */
	int left_behind = fw->left_behind;
	pthread_mutex_unlock(&fw->mu);
	if (left_behind) {
		/* (no log: the process may be past rte_eal_cleanup) */
		writer_release(fw);
		__atomic_add_fetch(&hc_file_writer_left_ended, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

struct hc_file_writer *hc_file_writer_new(const char *path, const char *name)
{
	struct hc_file_writer *fw = calloc(1, sizeof(*fw));
	if (fw == NULL)
		return NULL;
	fw->path = strdup(path);
	if (fw->path == NULL) {
		free(fw);
		return NULL;
	}
	pthread_mutex_init(&fw->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fw->cv, &ca);
	pthread_condattr_destroy(&ca);
	fw->busy = 1; /* (the thread's sweep of leftovers first) */
	fw->busy_since_ms = monotonic_ms();
	/* a control thread: on the CPUs no lcore polls */
	int rc = rte_ctrl_thread_create(&fw->tid, name, NULL, writer_main, fw);
	if (rc != 0) {
		writer_release(fw);
		errno = rc < 0 ? -rc : rc;
		return NULL;
	}
	return fw;
}

int hc_file_writer_put(struct hc_file_writer *fw, const void *buf, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, buf, len);
	pthread_mutex_lock(&fw->mu);
	free(fw->next); /* waiting, and older: never written */
	fw->next = copy;
	fw->next_len = len;
	pthread_cond_broadcast(&fw->cv);
	pthread_mutex_unlock(&fw->mu);
	return 0;
}

int hc_file_writer_failed(struct hc_file_writer *fw)
{
	pthread_mutex_lock(&fw->mu);
	int failed = fw->failed;
	fw->failed = 0;
	pthread_mutex_unlock(&fw->mu);
	return failed;
}

void hc_file_writer_counts(struct hc_file_writer *fw, uint64_t *writes, uint64_t *errors)
{
	pthread_mutex_lock(&fw->mu);
	*writes = fw->writes;
	*errors = fw->errors;
	pthread_mutex_unlock(&fw->mu);
}

uint64_t hc_file_writer_busy_ms(struct hc_file_writer *fw)
{
	pthread_mutex_lock(&fw->mu);
	uint64_t since = fw->busy ? fw->busy_since_ms : 0;
	pthread_mutex_unlock(&fw->mu);
	uint64_t now = monotonic_ms();
	return since == 0 ? 0 : now > since ? now - since : 1;
}

void hc_file_writer_flush(struct hc_file_writer *fw)
{
	pthread_mutex_lock(&fw->mu);
	while (fw->next != NULL || fw->busy)
		pthread_cond_wait(&fw->cv, &fw->mu);
	pthread_mutex_unlock(&fw->mu);
}

void hc_file_writer_free(struct hc_file_writer *fw)
{
	if (fw == NULL)
		return;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += hc_file_writer_end_wait_ms / 1000;
	until.tv_nsec += (long)(hc_file_writer_end_wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fw->mu);
	fw->stop = 1; /* (what waits is written first) */
	pthread_cond_broadcast(&fw->cv);
	while (!fw->ended && pthread_cond_timedwait(&fw->cv, &fw->mu, &until) != ETIMEDOUT)
		;
	if (!fw->ended) {
		/* a disk that hangs: the caller (shutdown) goes on; the thread
		 * frees the writer when its writes return, and a write cut
		 * short by the exit is swept at the next start */
		fw->left_behind = 1;
		pthread_t tid = fw->tid;
		uint64_t busy_ms = fw->busy ? monotonic_ms() - fw->busy_since_ms : 0;
		HC_LOG(WARNING, "%s: a write has taken %" PRIu64 " ms: left to end on its own",
		       fw->path, busy_ms);
		pthread_mutex_unlock(&fw->mu);
		pthread_detach(tid);
		return;
	}
	pthread_mutex_unlock(&fw->mu);
	pthread_join(fw->tid, NULL);
	writer_release(fw);
}
