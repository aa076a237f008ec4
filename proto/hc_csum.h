/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_csum.h - the Internet checksum (RFC 1071), inline, for the parser's
 * per-datagram verification and every frame builder (hc_frame.c).
 *
 * Bytes are summed as native-endian 32-bit words into 64-bit sums (no
 * carry is lost below 2^32 words; a frame is at most 64 KiB), then folded
 * to 16 bits: 2^16 is 1 modulo 0xffff, so a 32-bit word counts as its two
 * 16-bit halves, and the sum read in memory order is DPDK's rte_raw_cksum
 * convention (compare it with header fields as they lie in memory).  The
 * parser's two sums are written for its shapes: the IPv4 header (20 bytes
 * without options: five words) and the UDP datagram with its pseudo
 * header (the addresses, the protocol and the length added as words, not
 * copied into a pseudo header).  DPDK's rte_raw_cksum sums 2 bytes a step
 * (the compiler vectorises it, with a prologue and an epilogue that cost
 * more than the sum on a one-event datagram): docs/benchmarks.md, "The
 * Internet checksum".  Byte buffers only, no DPDK, so tools that do not
 * link the appliance use it as well.
 */
#ifndef HC_CSUM_H
#define HC_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* sum plus len bytes at buf, as native-endian words (an odd last byte
 * padded with zero in memory order); not folded */
static inline uint64_t hc_csum_add(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint64_t a = sum, b = 0;

	for (; len >= 16; p += 16, len -= 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		a += w[0];
		b += w[1];
		a += w[2];
		b += w[3];
	}
	if (len & 8) {
		uint32_t w[2];
		memcpy(w, p, 8);
		a += w[0];
		b += w[1];
		p += 8;
	}
	if (len & 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		a += w;
		p += 4;
	}
	if (len & 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		b += w;
		p += 2;
	}
	if (len & 1) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		a += w;
	}
	return a + b;
}

/* A sum folded to 16 bits (not inverted): 0xffff when the bytes summed
 * include their correct checksum. */
static inline uint16_t hc_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32); /* <= 2^33 - 2 */
	sum = (sum & 0xffffffffu) + (sum >> 32); /* <= 2^32 */
	sum = (sum & 0xffff) + (sum >> 16);      /* <= 0x1ffff */
	sum = (sum & 0xffff) + (sum >> 16);      /* <= 0x10000 */
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The folded sum of an IPv4 header of ihl bytes (20 to 60, a multiple
 * of 4): 0xffff when its checksum is right. */
static inline uint16_t hc_csum_ipv4_hdr(const void *ip, uint32_t ihl)
{
	if (ihl == 20) {
		uint32_t w[5];
		memcpy(w, ip, 20);
		return hc_csum_fold((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
	}
	return hc_csum_fold(hc_csum_add(ip, ihl, 0));
}

/*
 * The folded sum of a UDP datagram of l4_len bytes at udp (its header's
 * length field in memory is that length, checked by the caller) with its
 * IPv4 pseudo header: source and destination addresses (the 8 bytes at
 * addrs, as in the IPv4 header), zero, protocol 17, the length.  0xffff
 * when its checksum is right.
 */
static inline uint16_t hc_csum_udp4(const void *addrs, const void *udp, uint32_t l4_len)
{
	uint32_t a[2];
	uint8_t proto_len[4] = {0, 17, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};
	uint32_t pl;

	memcpy(a, addrs, 8);
	memcpy(&pl, proto_len, 4);
	return hc_csum_fold(hc_csum_add(udp, l4_len, (uint64_t)a[0] + a[1] + pl));
}

#endif /* HC_CSUM_H */
