/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_log.h - the appliance's one rte_log type and its wrapper macro.
 *
 * Slow path only: the fast path counts, it never logs.
 */
#ifndef HC_LOG_H
#define HC_LOG_H

#include <rte_log.h>

extern int hc_logtype;

#define HC_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, hc_logtype, "headcount: " fmt "\n", ##__VA_ARGS__)

#endif /* HC_LOG_H */
