/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_worker.h - the worker lcore's loop (hc_worker.c).
 */
#ifndef HC_WORKER_H
#define HC_WORKER_H

#include <stdint.h>

#include "hc_worker_state.h"

/* The lcore entry point: arg is the struct hc_worker. */
int hc_worker_main(void *arg);


#endif /* HC_WORKER_H */
