/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_drop.c - the names of the drop reasons, from hc_drop.def.
 */
#include "hc_drop.h"

const char *const hc_drop_names[HC_DROP_COUNT] = {
#define HC_DROP(NAME, name, why) [HC_DROP_##NAME] = #name,
#include "hc_drop.def"
};
