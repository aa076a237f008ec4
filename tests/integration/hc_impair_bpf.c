/* SPDX-License-Identifier: GPL-2.0-only OR BSD-3-Clause */
/*
 * hc_impair_bpf.c - a tc-bpf impairment for the namespace lab: drop
 * LOSS_PPM and duplicate DUP_PPM parts per million of the IPv4 packets
 * passing a veth, on egress or ingress (this kernel has no netem).
 * Built by the fault test with clang -target bpf; attach with
 *   tc qdisc add dev X clsact
 *   tc filter add dev X egress  bpf da obj f.o sec tc
 *   tc filter add dev X ingress bpf da obj f.o sec tc_in
 * A duplicate is a clone sent the same way, marked so it is not
 * impaired a second time.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef LOSS_PPM
#define LOSS_PPM 50000
#endif
#ifndef DUP_PPM
#define DUP_PPM 20000
#endif
#define CLONE_MARK 0x48430001u

static __always_inline int impair(struct __sk_buff *skb, __u64 flags)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (skb->mark == CLONE_MARK) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	__u32 r = bpf_get_prandom_u32() % 1000000;
	if (r < LOSS_PPM)
		return TC_ACT_SHOT;
	if (r < LOSS_PPM + DUP_PPM) {
		skb->mark = CLONE_MARK;
		bpf_clone_redirect(skb, skb->ifindex, flags);
		skb->mark = 0;
	}
	return TC_ACT_OK;
}

SEC("tc")
int hc_impair_egress(struct __sk_buff *skb)
{
	return impair(skb, 0);
}

SEC("tc_in")
int hc_impair_ingress(struct __sk_buff *skb)
{
	return impair(skb, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
