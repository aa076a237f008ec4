/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_frame.c - Ethernet/IPv4/UDP framing and the Internet checksum (see
 * hc_frame.h).  Fields are written byte by byte in network order, so any
 * buffer alignment will do.
 */
#include "hc_frame.h"
#include "hc_csum.h"

#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

uint16_t hc_frame_csum_native(const void *buf, size_t len, uint64_t initial)
{
	return hc_csum_fold(hc_csum_add(buf, len, initial));
}

uint16_t hc_frame_csum(const void *buf, size_t len, uint32_t initial)
{
	/* the sum of big-endian words is the native sum read big-endian
	 * (RFC 1071: the sum is byte-order independent) */
	uint16_t native = hc_frame_csum_native(buf, len, 0);
	uint8_t b[2];
	memcpy(b, &native, 2);
	uint64_t sum = (uint64_t)(b[0] << 8 | b[1]) + initial;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void hc_frame_fix_csums(uint8_t *f, size_t frame_len)
{
	uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = get16(ip + 2);
	if (frame_len < 14 + 20 || ihl < 20 || 14 + ihl > frame_len)
		return;
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~hc_frame_csum(ip, ihl, 0));
	if (ip[9] != 17 || total < ihl + 8 || 14 + total > frame_len)
		return;
	uint8_t *udp = ip + ihl;
	size_t ulen = total - ihl;
	uint32_t pseudo = (uint32_t)get16(ip + 12) + get16(ip + 14) + get16(ip + 16) +
			  get16(ip + 18) + 17 + (uint32_t)ulen;
	put16(udp + 6, 0);
	uint16_t c = (uint16_t)~hc_frame_csum(udp, ulen, pseudo);
	put16(udp + 6, c == 0 ? 0xffff : c);
}

size_t hc_frame_put_headers(uint8_t *out, const struct hc_frame_addr *a, uint16_t ip_id,
			    size_t payload_len)
{
	memcpy(out, a->dst_mac, 6);
	memcpy(out + 6, a->src_mac, 6);
	put16(out + 12, 0x0800);
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + 8 + payload_len));
	put16(ip + 4, ip_id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, a->src_ip);
	put32(ip + 16, a->dst_ip);
	uint8_t *udp = ip + 20;
	put16(udp, a->src_port);
	put16(udp + 2, a->dst_port);
	put16(udp + 4, (uint16_t)(8 + payload_len));
	hc_frame_fix_csums(out, HC_FRAME_HDR_LEN + payload_len);
	return HC_FRAME_HDR_LEN + payload_len;
}

size_t hc_frame_build(uint8_t *out, const struct hc_frame_addr *a, uint16_t ip_id,
		      const void *payload, size_t len)
{
	memmove(out + HC_FRAME_HDR_LEN, payload, len);
	return hc_frame_put_headers(out, a, ip_id, len);
}

int hc_frame_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char extra;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}
