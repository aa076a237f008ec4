/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_csum.h - the Internet checksum (RFC 1071), inline, for the parser's
 * per-datagram verification and every frame builder (hc_frame.c).
 *
 * Bytes are summed as native-endian 64-bit words in ones' complement (a
 * carry out of the top added back in), then folded to 16 bits: 2^16 is 1
 * modulo 0xffff, so a 64-bit word counts as its four 16-bit quarters,
 * and the sum read in memory order is DPDK's rte_raw_cksum convention
 * (compare it with header fields as they lie in memory).  The parser's
 * two sums are written for its shapes: the IPv4 header (20 bytes
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

/* s + w with the carry out of bit 63 added back in (ones' complement
 * addition of 64-bit words: 2^64 is 1 modulo 0xffff); nonzero unless
 * both are zero */
static inline uint64_t hc_csum_add64(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

/* sum plus len bytes at buf, as native-endian words (an odd last byte
 * padded with zero in memory order); not folded.  64-bit words: a
 * 64-bit word is its four 16-bit quarters, each weighing 1 modulo
 * 0xffff.  On x86-64 32 bytes a step in a chain of add-with-carry (a
 * one-event datagram's 72 bytes took 63 instructions as 32-bit words
 * summed into two 64-bit sums). */
static inline uint64_t hc_csum_add(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
#if defined(__x86_64__) && defined(__GNUC__)
		__asm__("addq %1, %0\n\t"
			"adcq %2, %0\n\t"
			"adcq %3, %0\n\t"
			"adcq %4, %0\n\t"
			"adcq $0, %0"
			: "+r"(s)
			: "r"(w[0]), "r"(w[1]), "r"(w[2]), "r"(w[3])
			: "cc");
#else
		s = hc_csum_add64(s, w[0]);
		s = hc_csum_add64(s, w[1]);
		s = hc_csum_add64(s, w[2]);
		s = hc_csum_add64(s, w[3]);
#endif
	}
	if (len & 16) {
		uint64_t w[2];
		memcpy(w, p, 16);
		s = hc_csum_add64(s, w[0]);
		s = hc_csum_add64(s, w[1]);
		p += 16;
	}
	if (len & 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		s = hc_csum_add64(s, w);
		p += 8;
	}
	uint64_t t = 0; /* the last 7 bytes at most: no carry */
	if (len & 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		t += w;
		p += 4;
	}
	if (len & 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		t += w;
		p += 2;
	}
	if (len & 1) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		t += w;
	}
	return hc_csum_add64(s, t);
}

/* A sum folded to 16 bits (not inverted): 0xffff when the bytes summed
 * include their correct checksum; 0 only for a sum of 0.  The halves
 * added in ones' complement, 64 to 32 bits, then 32 to 16 as Linux's
 * csum_fold does: x plus x rotated by 16 holds in its top half the
 * halves' sum with the carry out of the bottom half added back in. */
static inline uint16_t hc_csum_fold(uint64_t sum)
{
	uint32_t hi = (uint32_t)(sum >> 32);
	uint32_t x = (uint32_t)sum + hi;
	x += x < hi; /* the carry, back in (x was at most 2^32 - 2) */
	return (uint16_t)((x + ((x >> 16) | (x << 16))) >> 16);
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
