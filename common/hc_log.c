/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_log.c - registration of the "headcount" rte_log type.
 */
#include "hc_log.h"

RTE_LOG_REGISTER_DEFAULT(hc_logtype, INFO);
