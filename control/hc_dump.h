/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dump.h - the room table as CSV, the format shared with the scenario
 * generator's ground truth:
 *
 *     room,users
 *     17,42
 *
 * one row per non-empty room, rooms ascending.  Tests compare files
 * byte for byte.
 */
#ifndef HC_DUMP_H
#define HC_DUMP_H

#include "hc_view.h"

/* Write v to path. Returns 0, or -1 after printing why. */
int hc_dump_rooms_csv(const char *path, const struct hc_room_view *v);

#endif /* HC_DUMP_H */
