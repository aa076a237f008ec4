/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_mbuf_meta.c - registration of the dataplane's mbuf dynamic field
 * (see hc_mbuf_meta.h).
 */
#include "hc_mbuf_meta.h"

#include <errno.h>

#include <rte_errno.h>

int hc_mbuf_meta_offset = -1;

int hc_mbuf_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "headcount_payload_off",
		.size = sizeof(uint16_t),
		.align = __alignof__(uint16_t),
	};
	int off = rte_mbuf_dynfield_register(&desc);
	if (off < 0)
		return -rte_errno;
	hc_mbuf_meta_offset = off;
	return 0;
}
