/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_file_writer.h - a small file replaced whole and durably, by a
 * control thread of its own, so that a slow or stuck disk never stalls
 * the caller (the control core: hc_restart.c's state file) in steady
 * state.  (Ending a writer, hc_file_writer_free, waits for its last
 * write, at most hc_file_writer_end_wait_ms: a write stuck longer is left
 * to end on its own.)
 *
 * The caller hands over the file's whole contents (copied); the writer
 * thread writes them to a fresh file of its own beside PATH, under a
 * name made at the time (PATH.hctmp.XXXXXX, mkostemp: nothing planted at a
 * fixed name - a symlink, a FIFO, a directory - is opened, removed or in
 * the way), fsyncs it, renames it over PATH and fsyncs the directory:
 * after a crash PATH is either the old file or the new one, never empty
 * or cut.  A failed write removes its own file; one cut short (a crash
 * of the machine, a SIGKILL, the watchdog's abort) leaves it, and the next
 * writer of PATH removes it when it starts (hc_file_writer_sweep).  Contents
 * handed over while a write is in progress wait; newer contents replace
 * waiting ones (only the latest matters).  A failed write is logged (the
 * first of a run of failures) and counted, and hc_file_writer_failed()
 * says so once, so that the caller hands the contents over again.
 */
#ifndef HC_FILE_WRITER_H
#define HC_FILE_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct hc_file_writer;

/* A writer for path (kept, not copied) on a DPDK control thread named
 * name.  NULL with errno: out of memory, or no thread could be started
 * (the caller tries again later; nothing is ever written in its own
 * thread). */
struct hc_file_writer *hc_file_writer_new(const char *path, const char *name);

/* Hand over len bytes of contents: 0, or -ENOMEM (nothing handed over). */
int hc_file_writer_put(struct hc_file_writer *fw, const void *buf, size_t len);

/* 1 if a write failed since the last call (the caller hands over again). */
int hc_file_writer_failed(struct hc_file_writer *fw);

/* Files written whole, and writes that failed, so far. */
void hc_file_writer_counts(struct hc_file_writer *fw, uint64_t *writes, uint64_t *errors);

/* How long the write in progress has taken so far, in ms (0: none): a
 * disk that hangs shows here, not in the caller's time. */
uint64_t hc_file_writer_busy_ms(struct hc_file_writer *fw);

/* Wait until everything handed over is written (or failed). */
void hc_file_writer_flush(struct hc_file_writer *fw);

/* Flush, end the thread, free fw (NULL: nothing).  Waits at most
 * hc_file_writer_end_wait_ms (5 s) for the writes: if one is still in
 * progress then (a hung disk), it is logged and left to end on its own
 * (the thread frees fw after its last write), and this returns. */
void hc_file_writer_free(struct hc_file_writer *fw);
extern uint32_t hc_file_writer_end_wait_ms;
/* Writers left behind that have since ended and freed themselves (tests). */
extern unsigned hc_file_writer_left_ended;

/* Remove what cut-short writes of path left beside it (regular files of
 * ours named PATH.hctmp.XXXXXX, or PATH.tmp): how many.  The writer thread does
 * it once when it starts. */
unsigned hc_file_writer_sweep(const char *path);

/* The write itself, in the calling thread: 0 or an errno. */
int hc_file_replace(const char *path, const void *buf, size_t len);

/* Tests only: called by the writer thread before each write (NULL: none),
 * so that a test can hold a write as long as a slow disk would. */
extern void (*hc_file_writer_test_hold)(void);

#endif /* HC_FILE_WRITER_H */
