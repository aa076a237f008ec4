/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dump.c - write the room table as CSV (see hc_dump.h). Slow path.
 */
#include "hc_dump.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hc_dump_rooms_csv(const char *path, const struct hc_room_view *v)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "headcount: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "room,users\n");
	for (uint32_t r = 1; r < v->max_rooms; r++)
		if (v->room_users[r] != 0)
			fprintf(f, "%u,%u\n", r, v->room_users[r]);
	/* (a write that failed before the last buffer, a full disk, leaves
	 * only the stream's error flag: fclose flushes the rest and may
	 * succeed) */
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "headcount: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
