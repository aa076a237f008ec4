/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse.c - L2-L4 classification: every drop reason, ARP, a clean
 * datagram, offload flags, the largest payload and one byte more, a
 * checksum left to offload.  And the Internet checksum itself
 * (proto/hc_frame.c, 8 bytes a step) against DPDK's and a byte-wise sum.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_mbuf.h>

#include "hc_csum.h"
#include "hc_frame.h"
#include "hc_parse.h"
#include "hc_unit.h"

static const struct hc_frame_addr addr = {
	.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
	.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000, .dst_port = 7100};
static struct hc_parse_cfg cfg;
static uint8_t f[256];
static size_t flen;

static void fresh(void)
{
	uint8_t payload[56];
	memset(payload, 0xab, sizeof(payload));
	flen = hc_frame_build(f, &addr, 1, payload, sizeof(payload));
	cfg.ip = htonl(0xC6120001);
	cfg.udp_port = htons(7100);
}

static struct hc_parsed parse_len(size_t len, uint64_t ol_flags)
{
	struct hc_parsed p;
	memset(&p, 0xee, sizeof(p));
	struct rte_mbuf *m = hc_test_mbuf(f, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->ol_flags = ol_flags;
	hc_parse_frame(m, &cfg, &p);
	rte_pktmbuf_free(m);
	return p;
}

#define EXPECT_DROP(len, why) do { \
	struct hc_parsed p_ = parse_len((len), 0); \
	CU_ASSERT_EQUAL(p_.kind, HC_FRAME_DROP); \
	CU_ASSERT_EQUAL(p_.reason, (why)); \
} while (0)

static void test_clean(void)
{
	fresh();
	struct hc_parsed p = parse_len(flen, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	CU_ASSERT_EQUAL(p.payload_off, 42);
	CU_ASSERT_EQUAL(p.payload_len, 56);
	/* Ethernet padding after the IP datagram is allowed */
	memset(f + flen, 0, 8);
	p = parse_len(flen + 8, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	CU_ASSERT_EQUAL(p.payload_len, 56);
	/* UDP checksum 0 means none */
	f[40] = f[41] = 0;
	p = parse_len(flen, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
}

static void test_l2(void)
{
	fresh();
	EXPECT_DROP(13, HC_DROP_RUNT);
	EXPECT_DROP(0, HC_DROP_RUNT);
	f[12] = 0x86; f[13] = 0xdd;
	EXPECT_DROP(flen, HC_DROP_NOT_IPV4);
	f[12] = 0x81; f[13] = 0x00; /* VLAN tag */
	EXPECT_DROP(flen, HC_DROP_NOT_IPV4);
}

static void test_ipv4(void)
{
	fresh();
	EXPECT_DROP(14 + 19, HC_DROP_IP_TRUNCATED);
	f[14] = 0x65; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_IP_BAD_VERSION);
	fresh(); f[14] = 0x44;
	EXPECT_DROP(flen, HC_DROP_IP_BAD_IHL);
	fresh(); f[14] = 0x4f; /* 60-byte header beyond a 40-byte frame tail? */
	EXPECT_DROP(14 + 40, HC_DROP_IP_BAD_IHL);
	fresh(); f[16] = 0x01; f[17] = 0x00; hc_frame_fix_csums(f, flen); /* 256 > frame */
	EXPECT_DROP(flen, HC_DROP_IP_BAD_LENGTH);
	fresh(); f[16] = 0; f[17] = 19; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_IP_BAD_LENGTH);
	fresh(); f[24] ^= 0x40;
	EXPECT_DROP(flen, HC_DROP_IP_BAD_CSUM);
	fresh(); f[20] |= 0x20; hc_frame_fix_csums(f, flen); /* MF */
	EXPECT_DROP(flen, HC_DROP_IP_FRAGMENT);
	fresh(); f[21] = 8; hc_frame_fix_csums(f, flen);     /* offset */
	EXPECT_DROP(flen, HC_DROP_IP_FRAGMENT);
	fresh(); f[20] = 0x40; f[21] = 0; hc_frame_fix_csums(f, flen); /* DF alone is fine */
	CU_ASSERT_EQUAL(parse_len(flen, 0).kind, HC_FRAME_DATAGRAM);
	fresh(); f[33] ^= 1; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_IP_NOT_FOR_US);
	fresh(); f[23] = 6; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_NOT_UDP);
}

static void test_udp(void)
{
	fresh(); f[39] += 1; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_UDP_BAD_LENGTH);
	fresh(); f[16] = 0; f[17] = 20 + 7; f[38] = 0; f[39] = 7; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_UDP_BAD_LENGTH);
	fresh(); f[37] ^= 1; hc_frame_fix_csums(f, flen);
	EXPECT_DROP(flen, HC_DROP_WRONG_PORT);
	fresh(); f[60] ^= 0xff; /* payload byte: checksum no longer matches */
	EXPECT_DROP(flen, HC_DROP_UDP_BAD_CSUM);
	/* a NIC that verified it says good or bad: trusted */
	struct hc_parsed p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	fresh();
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_UDP_BAD_CSUM);
	p = parse_len(flen, RTE_MBUF_F_RX_IP_CKSUM_BAD);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_IP_BAD_CSUM);
}

static void test_arp(void)
{
	uint8_t *a = f + 14;
	static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1};
	memset(f, 0xff, 6);
	memcpy(f + 6, addr.src_mac, 6);
	f[12] = 0x08; f[13] = 0x06;
	memcpy(a, head, 8);
	memcpy(a + 8, addr.src_mac, 6);
	uint32_t sip = htonl(addr.src_ip), tip = htonl(addr.dst_ip);
	memcpy(a + 14, &sip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &tip, 4);
	struct hc_parsed p = parse_len(42, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_ARP_REQUEST);
	EXPECT_DROP(41, HC_DROP_ARP_IGNORED);            /* short */
	a[7] = 2;                                        /* a reply */
	EXPECT_DROP(42, HC_DROP_ARP_IGNORED);
	a[7] = 1; a[27] ^= 1;                            /* someone else's IP */
	EXPECT_DROP(42, HC_DROP_ARP_IGNORED);
}

/* A chain is judged by its first segment (hc_rx.c gathers chains first):
 * its IPv4 length goes beyond that segment. */
static void test_multi_segment(void)
{
	fresh();
	struct rte_mbuf *m = hc_test_mbuf_chain(f, flen, 42);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->nb_segs, 3);
	struct hc_parsed p;
	hc_parse_frame(m, &cfg, &p);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DROP);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_IP_BAD_LENGTH);
	rte_pktmbuf_free(m);
}

static struct hc_parsed parse_big(const uint8_t *frame, size_t len)
{
	struct hc_parsed p;
	memset(&p, 0xee, sizeof(p));
	struct rte_mbuf *m = hc_test_big_mbuf(frame, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_parse_frame(m, &cfg, &p);
	rte_pktmbuf_free(m);
	return p;
}

/* HC_MAX_PAYLOAD bytes are taken; one more is udp_too_big (the UDP and
 * IPv4 lengths agree: only the size is wrong). */
static void test_sizes(void)
{
	static uint8_t big[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD + 16], payload[HC_MAX_PAYLOAD + 16];
	fresh();
	CU_ASSERT_EQUAL(HC_MAX_FRAME, 9054);
	memset(payload, 0x5a, sizeof(payload));
	size_t n = hc_frame_build(big, &addr, 1, payload, HC_MAX_PAYLOAD);
	CU_ASSERT_EQUAL(n, 9014);
	struct hc_parsed p = parse_big(big, n);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	CU_ASSERT_EQUAL(p.payload_off, 42);
	CU_ASSERT_EQUAL(p.payload_len, HC_MAX_PAYLOAD);
	n = hc_frame_build(big, &addr, 1, payload, HC_MAX_PAYLOAD + 1);
	p = parse_big(big, n);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DROP);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_UDP_TOO_BIG);
	/* too big, and to another port: the size is judged first */
	big[37] ^= 1; hc_frame_fix_csums(big, n);
	CU_ASSERT_EQUAL(parse_big(big, n).reason, HC_DROP_UDP_TOO_BIG);
	/* too big and a UDP length that disagrees: the length is wrong */
	n = hc_frame_build(big, &addr, 1, payload, HC_MAX_PAYLOAD + 16);
	big[39] -= 1; hc_frame_fix_csums(big, n);
	CU_ASSERT_EQUAL(parse_big(big, n).reason, HC_DROP_UDP_BAD_LENGTH);
}

static void test_csum_partial(void)
{
	fresh();
	hc_test_leave_csum_to_offload(f);
	struct hc_parsed p = parse_len(flen, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_CSUM_PARTIAL);
	CU_ASSERT_EQUAL(p.payload_off, 42);
	CU_ASSERT_EQUAL(p.payload_len, 56);
	/* one more than the pseudo-header sum: simply wrong */
	f[41] += 1;
	p = parse_len(flen, 0);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DROP);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_UDP_BAD_CSUM);
	/* a NIC that says the checksum is bad is believed */
	fresh();
	hc_test_leave_csum_to_offload(f);
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_UDP_BAD_CSUM);
	/* one that says NONE (virtio, vhost: not correct in the data, but
	 * verified) is believed too: a datagram, not a partial one */
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	CU_ASSERT_EQUAL(p.payload_len, 56);
	/* and an IP header whose checksum it left, verified: NONE */
	f[24] ^= 0x5a;
	CU_ASSERT_EQUAL(parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_NONE).reason,
			HC_DROP_IP_BAD_CSUM);
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_NONE);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_DATAGRAM);
	p = parse_len(flen, RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_BAD);
	CU_ASSERT_EQUAL(p.reason, HC_DROP_IP_BAD_CSUM);
	/* the largest payload, left to offload */
	static uint8_t big[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD], payload[HC_MAX_PAYLOAD];
	memset(payload, 0xa5, sizeof(payload));
	size_t n = hc_frame_build(big, &addr, 1, payload, sizeof(payload));
	hc_test_leave_csum_to_offload(big);
	p = parse_big(big, n);
	CU_ASSERT_EQUAL(p.kind, HC_FRAME_CSUM_PARTIAL);
	CU_ASSERT_EQUAL(p.payload_len, HC_MAX_PAYLOAD);
}

/* The checksum as the Internet's RFC says it, two bytes at a time, big
 * endian, an odd byte padded with zero. */
static uint16_t csum_reference(const uint8_t *p, size_t len, uint32_t initial)
{
	uint64_t sum = initial;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_csum_fast(void)
{
	static uint8_t buf[65536 + 8];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	unsigned bad_native = 0, bad_be = 0, checked = 0;
	/* random bytes, then all 0xff (every carry), then all zero */
	for (int fill = 0; fill < 3; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = fill == 0 ? (uint8_t)x : fill == 1 ? 0xff : 0;
		}
		static const size_t big[] = {1472, 1500, 8972, 9000, 65535, 65536};
		for (size_t k = 0; k < 300 + sizeof(big) / sizeof(big[0]); k++) {
			size_t len = k < 300 ? k : big[k - 300];
			for (size_t off = 0; off < 8; off++) {
				uint32_t init = (uint32_t)(k * 977 + off) & 0x1ffff;
				uint16_t dpdk = rte_raw_cksum(buf + off, len);
				bad_native += hc_frame_csum_native(buf + off, len, 0) != dpdk;
				uint64_t with = (uint64_t)dpdk + init; /* a partial sum added */
				while (with >> 16)
					with = (with & 0xffff) + (with >> 16);
				bad_native += hc_frame_csum_native(buf + off, len, init) != with;
				bad_be += hc_frame_csum(buf + off, len, init) !=
					  csum_reference(buf + off, len, init);
				checked++;
			}
		}
	}
	CU_ASSERT_EQUAL(checked, 3 * 306 * 8);
	CU_ASSERT_EQUAL(bad_native, 0);
	CU_ASSERT_EQUAL(bad_be, 0);
	/* a verdict of 0xffff (negative zero) for a valid sum, 0 only when
	 * every byte is zero */
	uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff}, zeros[4] = {0};
	CU_ASSERT_EQUAL(hc_frame_csum_native(ones, 4, 0), 0xffff);
	CU_ASSERT_EQUAL(hc_frame_csum_native(zeros, 4, 0), 0);
	CU_ASSERT_EQUAL(hc_frame_csum(zeros, 3, 0xffff), 0xffff);
}

/* The parser's own sums (hc_csum.h: the IPv4 header, the UDP datagram
 * with its pseudo header) give DPDK's verdicts: for IPv4 headers of 20 to
 * 60 bytes and UDP datagrams of 8 to 1,000 bytes of random contents at
 * every alignment, correct checksums verify, and any one byte changed
 * (or a checksum off by one) fails both ways. */
/* The fold (64 to 16 bits, ones' complement) against the plain one, 16
 * bits at a time until no carry is left: edges (zero, all ones, sums
 * whose halves carry) and a million random sums. */
static uint16_t fold_reference(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void test_csum_fold(void)
{
	static const uint64_t edges[] = {0, 1, 0xffff, 0x10000, 0xffffffffull, 0x100000000ull,
		0xffffffffffffffffull, 0xfffffffeffffffffull, 0xffffffff00000000ull,
		0x00000001ffffffffull, 0x8000000080000000ull, 0xffff0001ull, 0x0001ffffull,
		0xfffe0002ull, 0x7fffffffffffffffull};
	unsigned bad = 0;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		bad += hc_csum_fold(edges[i]) != fold_reference(edges[i]);
	uint64_t x = 0x2545F4914F6CDD1Dull;
	for (unsigned i = 0; i < 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t s = i & 1 ? x : x >> (i % 48); /* short sums too */
		bad += hc_csum_fold(s) != fold_reference(s);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(hc_csum_fold(0), 0);
	CU_ASSERT_EQUAL(hc_csum_fold(0xffffffffffffffffull), 0xffff);
}

static void test_csum_parser(void)
{
	static uint8_t buf[2048];
	uint64_t x = 0x2545F4914F6CDD1Dull;
	unsigned agree = 0, good_ip = 0, good_udp = 0, bad_udp = 0, runs = 0;

	for (uint32_t l4_len = 8; l4_len <= 1000; l4_len++) {
		/* a third with options: 0 to 40 bytes of them */
		uint32_t ihl = l4_len % 3 == 0 ? 20 + 4 * (l4_len / 3 % 11) : 20;
		size_t off = l4_len % 8;
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + off);
		ip->version_ihl = (uint8_t)(0x40 | ihl / 4);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ihl + l4_len));
		ip->next_proto_id = IPPROTO_UDP;
		ip->hdr_checksum = 0;
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4_len);
		udp->dgram_cksum = 0;
		/* DPDK's rte_ipv4_cksum covers 20 bytes only: sum the options too */
		ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		for (int change = 0; change < 3; change++) {
			size_t at = 0;
			uint8_t was = 0;
			if (change == 1) {
				/* one byte of the datagram or its header, but for the
				 * version, header length, total length and protocol the
				 * parser has checked before it sums (DPDK's sum reads
				 * them, the parser's takes the lengths from the caller
				 * and the protocol as UDP) */
				at = 4 + (size_t)(x % (ihl + l4_len - 4));
				at += at == 9;
				was = ((uint8_t *)ip)[at];
				((uint8_t *)ip)[at] = (uint8_t)(was + 1 + x % 255);
			} else if (change == 2) {
				/* off by one (0xffff + 1 would be 0x0000, the same
				 * value in ones' complement: 0xfffe instead) */
				uint16_t c = rte_be_to_cpu_16(udp->dgram_cksum);
				udp->dgram_cksum = rte_cpu_to_be_16(c == 0xffff ? 0xfffe
								: (uint16_t)(c + 1));
			}
			int dpdk_ip = rte_raw_cksum(ip, ihl) == 0xffff;
			int dpdk_udp = rte_ipv4_udptcp_cksum_verify(ip, udp) == 0;
			int ours_ip = hc_csum_ipv4_hdr(ip, ihl) == 0xffff;
			int ours_udp = hc_csum_udp4(&ip->src_addr, udp, l4_len) == 0xffff;
			agree += dpdk_ip == ours_ip && dpdk_udp == ours_udp;
			if (change == 0) {
				good_ip += ours_ip;
				good_udp += ours_udp;
			} else if (change == 2) {
				bad_udp += !ours_udp;
			}
			runs++;
			if (change == 1)
				((uint8_t *)ip)[at] = was;
		}
	}
	CU_ASSERT_EQUAL(runs, 993 * 3);
	CU_ASSERT_EQUAL(agree, runs);
	CU_ASSERT_EQUAL(good_ip, 993);
	CU_ASSERT_EQUAL(good_udp, 993);
	CU_ASSERT_EQUAL(bad_udp, 993); /* every checksum off by one fails */
}

static CU_TestInfo tests[] = {
	{"clean datagram", test_clean},
	{"ethernet", test_l2},
	{"ipv4", test_ipv4},
	{"udp", test_udp},
	{"arp", test_arp},
	{"multi-segment", test_multi_segment},
	{"largest payload and one byte more", test_sizes},
	{"checksum left to offload", test_csum_partial},
	{"the Internet checksum, 8 bytes a step, as DPDK's and the RFC's", test_csum_fast},
	{"the parser's checksums, as DPDK's, changed bytes failing", test_csum_parser},
	{"the checksum's fold, against the plain one", test_csum_fold},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_parse = {"parse", NULL, NULL, NULL, NULL, tests};
