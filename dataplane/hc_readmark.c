/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_readmark.c - a worker's mark of how far back its input is read
 * (hc_readmark.h says how and why).
 */
#include <string.h>

#include "hc_readmark.h"

void hc_rmark_init(struct hc_rmark *m, uint64_t now)
{
	memset(m, 0, sizeof(*m));
	m->mark = now;
}

void hc_rmark_add_source(struct hc_rmark *m, unsigned i, uint32_t capacity)
{
	if (i >= HC_RMARK_SOURCES)
		return;
	m->src[i].used = 1;
	m->src[i].capacity = capacity;
	m->src[i].emptied = 0;
	m->src[i].taken_at_mark = m->src[i].taken;
}

/* Has source s given everything it held at the mark? */
static int read_to_mark(const struct hc_rmark_source *s)
{
	return !s->used || s->emptied ||
	       (s->capacity != 0 && s->taken - s->taken_at_mark >= s->capacity);
}

uint64_t hc_rmark_tick(struct hc_rmark *m, uint64_t now)
{
	for (unsigned i = 0; i < HC_RMARK_SOURCES; i++)
		if (!read_to_mark(&m->src[i]))
			return m->read_up_to;
	m->read_up_to = m->mark;
	m->mark = now;
	for (unsigned i = 0; i < HC_RMARK_SOURCES; i++) {
		m->src[i].emptied = 0;
		m->src[i].taken_at_mark = m->src[i].taken;
	}
	return m->read_up_to;
}
