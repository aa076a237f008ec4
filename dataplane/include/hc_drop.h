/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_drop.h - why a frame was dropped: the enum and names, both made from
 * the one list in hc_drop.def.
 *
 * Every frame the dataplane does not apply is counted under exactly one
 * reason.  Names are used verbatim in the stats line, telemetry and
 * --dump-stats ("drop_<name>").
 */
#ifndef HC_DROP_H
#define HC_DROP_H

#include "hc_proto_check.h"

enum hc_drop_reason {
#define HC_DROP(NAME, name, why) HC_DROP_##NAME,
#include "hc_drop.def"
	HC_DROP_COUNT
};

/* The protocol block mirrors the verdicts: same names, same order. */
#define HC_DROP_PROTO_FIRST HC_DROP_TRUNCATED
_Static_assert(HC_DROP_NOT_IMPLEMENTED - HC_DROP_PROTO_FIRST == HC_PV_NOT_IMPLEMENTED - 1,
	       "drop reasons mirror verdicts");

extern const char *const hc_drop_names[HC_DROP_COUNT];

static inline enum hc_drop_reason hc_drop_from_verdict(enum hc_proto_verdict v)
{
	return (enum hc_drop_reason)(HC_DROP_PROTO_FIRST + (int)v - 1);
}

#endif /* HC_DROP_H */
