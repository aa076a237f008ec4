/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_frame.h - Ethernet/IPv4/UDP frames around a headcount payload.
 *
 * Owns the L2-L4 framing every frame builder shares (the appliance's
 * control core for its answers, the scenario generator, the benchmark,
 * the tests) and the Internet checksum: what a kernel would send, with
 * correct IPv4 and UDP checksums.  Byte buffers only, no DPDK, so tools
 * that do not link the appliance use it as well.
 */
#ifndef HC_FRAME_H
#define HC_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Ethernet (14) + IPv4 without options (20) + UDP (8). */
#define HC_FRAME_HDR_LEN (14 + 20 + 8)

struct hc_frame_addr {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip; /* host order */
	uint32_t dst_ip; /* host order */
	uint16_t src_port; /* host order */
	uint16_t dst_port; /* host order */
};

/* One's-complement sum of len bytes read as big-endian 16-bit words (an
 * odd last byte padded with zero), plus initial (a partial sum of such
 * words), folded to 16 bits in host order (not inverted). */
uint16_t hc_frame_csum(const void *buf, size_t len, uint32_t initial);

/* The same sum over native-endian 16-bit words (DPDK's rte_raw_cksum's
 * convention: compare it with header fields as they lie in memory), plus
 * initial (a partial sum of that kind).  Both are hc_csum.h's sum (64-bit
 * words in ones' complement, RFC 1071: wider words, folded, give the same
 * sum), which the dataplane's parser inlines for its verification
 * (hc-bench-csum; docs/benchmarks.md, "The Internet checksum"). */
uint16_t hc_frame_csum_native(const void *buf, size_t len, uint64_t initial);

/*
 * Write Ethernet + IPv4 (20 bytes, DF, TTL 64) + UDP headers into
 * frame[0 .. HC_FRAME_HDR_LEN) for the payload of payload_len bytes that
 * already lies at frame + HC_FRAME_HDR_LEN, with both checksums, and return
 * the frame length.  ip_id distinguishes datagrams.
 */
size_t hc_frame_put_headers(uint8_t *frame, const struct hc_frame_addr *a, uint16_t ip_id,
			    size_t payload_len);

/*
 * Copy the payload to out + HC_FRAME_HDR_LEN (out holds at least
 * HC_FRAME_HDR_LEN + len bytes; the payload may already be there) and
 * write the headers in front of it (hc_frame_put_headers).  Returns the
 * frame length.
 */
size_t hc_frame_build(uint8_t *out, const struct hc_frame_addr *a, uint16_t ip_id,
		      const void *payload, size_t len);

/* Recompute the IPv4 header and UDP checksums of a frame built above
 * (after an edit), over the lengths its headers state. */
void hc_frame_fix_csums(uint8_t *frame, size_t frame_len);

/* Parse "aa:bb:cc:dd:ee:ff"; 0 on success. */
int hc_frame_parse_mac(const char *s, uint8_t mac[6]);

#endif /* HC_FRAME_H */
