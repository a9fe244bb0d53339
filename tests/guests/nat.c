/*
 * nat: a virtio-net client of a user-mode NAT (passt): it takes a DHCP lease,
 * ARPs for the router, pings it, sends a UDP datagram to a host service through
 * the NAT and answers one that arrives through a port forward.
 *   echo=PORT     a UDP echo service on the host's loopback, reached at the
 *                 router's address (passt maps it to the host); 0 skips it
 *   fwd=PORT      the guest's UDP port a host forward leads to; 0 skips it
 *   ping=0|1      ping the router (default 1: needs the host to allow passt
 *                 ping sockets, net.ipv4.ping_group_range)
 *   v6=0|1        IPv6 too (default 0: passt offers IPv6 only when the host
 *                 has an IPv6 default route): a Router Solicitation from the
 *                 EUI-64 link-local address, the Router Advertisement's prefix,
 *                 DHCPv6 Solicit/Advertise and Request/Reply for an address,
 *                 then an unsolicited Neighbor Advertisement from that address
 *                 (what a stack sends once an address is up), so the host sees
 *                 the guest use it; Neighbor Solicitations for our addresses
 *                 are answered on the way
 *   echo6=PORT    with v6=1 and host6: the same echo service on the host's
 *                 IPv6 loopback (::1), reached at host6, from the DHCPv6
 *                 address; 0 skips it
 *   host6=HEX     the IPv6 address passt maps to the host, as 32 hex digits:
 *                 its gateway (-g), by default the host's own default gateway,
 *                 which the guest cannot learn by NDP or DHCPv6
 *   ping6=0|1     with v6=1: an ICMPv6 echo to the router (default 0; passt
 *                 answers it with an ICMPv6 ping socket on the host)
 *   timeout=ms    each step's limit (default 20000)
 * Prints "dhcp: lease A mask M router R dns D", "arp: router MAC",
 * "ping: reply", "ndp: router LL prefix P/64", "dhcpv6: address A dns D",
 * "ndp: announced A", "ping6: reply", "udp: echo 'TEXT'", "udp6: echo 'TEXT'", "udp6: from A", "READY-FWD",
 * "fwd: got 'TEXT'".
 * No offloads: every frame carries a zeroed virtio_net_hdr_v1 and whole
 * checksums (passt drops UDP without one, though IPv4 allows that).
 */
#include "virtio.h"

const char guest_name[] = "nat";

#define F_MAC (1ull << 5)
#define F_STATUS (1ull << 16)
#define HDR 12
#define SLOT 2048
#define RX_BUFS 32
#define TX_BUFS 16
#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define ETH_IP6 0x86DD
#define ICMP6 58
#define OUR_PORT 40000

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev net;
static struct virtq rxq, txq;
static uint8_t rx[RX_BUFS][SLOT] __attribute__((aligned(4096)));
static uint8_t tx[TX_BUFS][SLOT] __attribute__((aligned(4096)));
static uint8_t mac[6], ip[4], mask[4], router[4], dns[4], server[4], router_mac[6];
static const uint8_t broadcast_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t any_ip[4], broadcast_ip[4] = { 255, 255, 255, 255 };
static int tx_next;
static uint64_t timeout_ms;
static const uint32_t xid = 0x6e617431; /* "nat1" */
static uint8_t ip6_ll[16], ip6[16], router6[16], router6_mac[6], prefix6[16], dns6[16];
static int prefix6_len;

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint16_t checksum(const uint8_t *p, uint32_t len)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += be16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static void post_rx(int i)
{
    struct vbuf b = { (uint64_t)(uintptr_t)rx[i], SLOT, 1 };
    if (virtq_add(&rxq, &b, 1) < 0)
        test_fail("receive queue full");
}

static void send(const uint8_t *frame, uint32_t len)
{
    uint32_t dummy;
    while (virtq_get(&txq, &dummy) >= 0)
        ; /* reclaim what the device has sent */
    uint8_t *slot = tx[tx_next++ % TX_BUFS];
    memset(slot, 0, HDR);
    memcpy(slot + HDR, frame, len); /* unpadded, as Linux sends on virtio: passt drops IPv4 with trailing bytes */
    struct vbuf b = { (uint64_t)(uintptr_t)slot, HDR + len, 0 };
    if (virtq_add(&txq, &b, 1) < 0)
        test_fail("transmit queue full");
    virtq_kick(&txq);
}

/* Ethernet + IPv4 headers for PROTO with PAYLOAD bytes after them; returns the frame length. */
static uint32_t ip_frame(uint8_t *out, const uint8_t *dst_mac, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                         uint32_t payload)
{
    static uint16_t id;
    memcpy(out, dst_mac, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, ETH_IP);
    uint8_t *iph = out + 14;
    memset(iph, 0, 20);
    iph[0] = 0x45;
    put16(iph + 2, (uint16_t)(20 + payload));
    put16(iph + 4, ++id);
    iph[8] = 64;
    iph[9] = proto;
    memcpy(iph + 12, src, 4);
    memcpy(iph + 16, dst, 4);
    put16(iph + 10, checksum(iph, 20));
    return 14 + 20 + payload;
}

static void send_udp(const uint8_t *dst_mac, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
                     const uint8_t *data, uint32_t len)
{
    static uint8_t out[1600];
    uint8_t *udp = out + 34;
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    memcpy(udp + 8, data, len);
    uint32_t n = ip_frame(out, dst_mac, src, dst, 17, 8 + len);
    /* The checksum covers a pseudo-header (addresses, protocol, length) and the datagram. */
    static uint8_t sum[1600 + 12];
    memcpy(sum, src, 4);
    memcpy(sum + 4, dst, 4);
    sum[8] = 0;
    sum[9] = 17;
    put16(sum + 10, (uint16_t)(8 + len));
    memcpy(sum + 12, udp, 8 + len);
    uint16_t c = checksum(sum, 12 + 8 + len);
    put16(udp + 6, c ? c : 0xFFFF);
    send(out, n);
}

static void send_arp(uint16_t op, const uint8_t *dst_mac, const uint8_t *target_mac, const uint8_t *target_ip)
{
    uint8_t out[42];
    memcpy(out, dst_mac, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, ETH_ARP);
    put16(out + 14, 1);
    put16(out + 16, ETH_IP);
    out[18] = 6;
    out[19] = 4;
    put16(out + 20, op);
    memcpy(out + 22, mac, 6);
    memcpy(out + 28, ip, 4);
    memcpy(out + 32, target_mac, 6);
    memcpy(out + 38, target_ip, 4);
    send(out, sizeof(out));
}

static int answer_neighbor_solicitation(const uint8_t *f, uint32_t len);

/* The frame the next call hands out; 0 on timeout. ARP requests and Neighbor Solicitations for our addresses are
 * answered on the way. */
static uint8_t *next_frame(uint32_t *len, uint64_t wait_ms)
{
    static int held = -1;
    if (held >= 0) {
        post_rx(held);
        virtq_kick(&rxq);
        held = -1;
    }
    for (;;) {
        uint32_t used;
        int head = virtq_wait(&net, &rxq, &used, wait_ms);
        if (head < 0) {
            if (virtio_status(&net) & VIRTIO_STATUS_NEEDS_RESET)
                test_fail("the device needs a reset");
            return 0;
        }
        int slot = (int)((rxq.desc[head].addr - (uint64_t)(uintptr_t)rx[0]) / SLOT);
        uint8_t *f = rx[slot] + HDR;
        uint32_t n = used > HDR ? used - HDR : 0;
        if (n >= 42 && be16(f + 12) == ETH_ARP && be16(f + 20) == 1 && !memcmp(f + 38, ip, 4) && memcmp(ip, any_ip, 4)) {
            send_arp(2, f + 6, f + 22, f + 28);
            post_rx(slot);
            virtq_kick(&rxq);
            continue;
        }
        if (answer_neighbor_solicitation(f, n)) {
            post_rx(slot);
            virtq_kick(&rxq);
            continue;
        }
        held = slot;
        *len = n;
        return f;
    }
}

/* The UDP payload of F if it is an IPv4/UDP datagram to DPORT; sets the source address and port. */
static uint8_t *udp_to(uint8_t *f, uint32_t len, uint16_t dport, uint32_t *payload_len, uint8_t *src_ip, uint16_t *sport)
{
    if (len < 42 || be16(f + 12) != ETH_IP)
        return 0;
    uint8_t *iph = f + 14;
    uint32_t ihl = (iph[0] & 0xF) * 4u, total = be16(iph + 2);
    if ((iph[0] >> 4) != 4 || ihl < 20 || iph[9] != 17 || total < ihl + 8 || 14 + total > len)
        return 0;
    uint8_t *udp = iph + ihl;
    uint32_t ulen = be16(udp + 4);
    if (be16(udp + 2) != dport || ulen < 8 || ulen > total - ihl)
        return 0;
    if (src_ip)
        memcpy(src_ip, iph + 12, 4);
    if (sport)
        *sport = be16(udp);
    *payload_len = ulen - 8;
    return udp + 8;
}

static void dhcp_send(uint8_t type)
{
    uint8_t m[300];
    memset(m, 0, sizeof(m));
    m[0] = 1; /* BOOTREQUEST */
    m[1] = 1;
    m[2] = 6;
    put32(m + 4, xid);
    put16(m + 10, 0x8000); /* broadcast the answer: we have no address yet */
    memcpy(m + 28, mac, 6);
    uint8_t *o = m + 236;
    put32(o, 0x63825363);
    o += 4;
    *o++ = 53, *o++ = 1, *o++ = type;
    if (type == 3) {
        *o++ = 50, *o++ = 4, memcpy(o, ip, 4), o += 4;
        *o++ = 54, *o++ = 4, memcpy(o, server, 4), o += 4;
    }
    *o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6;
    *o++ = 255;
    send_udp(broadcast_mac, any_ip, broadcast_ip, 68, 67, m, sizeof(m));
}

/* Waits for a DHCP answer of TYPE (2 offer, 5 ack) to our transaction, resending REQUEST_TYPE meanwhile. */
static void dhcp_wait(uint8_t type, uint8_t request_type)
{
    uint64_t waited = 0;
    dhcp_send(request_type);
    while (waited < timeout_ms) {
        uint32_t len, n;
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            if (waited % 3000 == 0)
                dhcp_send(request_type);
            continue;
        }
        uint8_t *m = udp_to(f, len, 68, &n, 0, 0);
        if (!m || n < 240 || m[0] != 2 || be16(m + 4) != (uint16_t)(xid >> 16) || be16(m + 6) != (uint16_t)xid ||
            memcmp(m + 28, mac, 6) || be16(m + 236) != 0x6382 || be16(m + 238) != 0x5363)
            continue;
        uint8_t got = 0;
        for (uint32_t i = 240; i + 1 < n && m[i] != 255;) {
            uint8_t code = m[i], olen = m[i + 1];
            if (code == 0) { i++; continue; }
            if (i + 2 + olen > n)
                break;
            const uint8_t *v = m + i + 2;
            if (code == 53 && olen == 1) got = v[0];
            if (code == 1 && olen == 4) memcpy(mask, v, 4);
            if (code == 3 && olen >= 4) memcpy(router, v, 4);
            if (code == 6 && olen >= 4) memcpy(dns, v, 4);
            if (code == 54 && olen == 4) memcpy(server, v, 4);
            i += 2u + olen;
        }
        if (got == 6)
            test_fail("the DHCP server said NAK");
        if (got != type)
            continue;
        memcpy(ip, m + 16, 4); /* yiaddr */
        return;
    }
    test_fail("no DHCP %s in %lu ms", type == 2 ? "offer" : "ack", timeout_ms);
}

static void arp_router(void)
{
    uint64_t waited = 0;
    static const uint8_t zero_mac[6];
    send_arp(1, broadcast_mac, zero_mac, router);
    while (waited < timeout_ms) {
        uint32_t len;
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            send_arp(1, broadcast_mac, zero_mac, router);
            continue;
        }
        if (len >= 42 && be16(f + 12) == ETH_ARP && be16(f + 20) == 2 && !memcmp(f + 28, router, 4)) {
            memcpy(router_mac, f + 22, 6);
            return;
        }
    }
    test_fail("no ARP reply from the router in %lu ms", timeout_ms);
}

static void ping_router(void)
{
    static uint8_t out[128];
    uint8_t *icmp = out + 34;
    memset(icmp, 0, 40);
    icmp[0] = 8;
    put16(icmp + 4, 0x4e41);
    put16(icmp + 6, 1);
    memcpy(icmp + 8, "platform-nat-ping", 17);
    put16(icmp + 2, checksum(icmp, 40));
    uint32_t n = ip_frame(out, router_mac, ip, router, 1, 40);
    uint64_t waited = 0;
    send(out, n);
    while (waited < timeout_ms) {
        uint32_t len;
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            send(out, n);
            continue;
        }
        if (len < 34 + 8 || be16(f + 12) != ETH_IP || f[14 + 9] != 1)
            continue;
        uint8_t *reply = f + 14 + (f[14] & 0xF) * 4;
        if (reply[0] == 0 && !memcmp(f + 14 + 12, router, 4) && !memcmp(reply + 8, "platform-nat-ping", 17))
            return;
    }
    test_fail("no echo reply from the router in %lu ms", timeout_ms);
}

static void udp_echo(uint16_t port)
{
    static const char text[] = "through-the-nat";
    uint64_t waited = 0;
    send_udp(router_mac, ip, router, OUR_PORT, port, (const uint8_t *)text, sizeof(text) - 1);
    while (waited < timeout_ms) {
        uint32_t len, n;
        uint16_t sport;
        uint8_t src[4];
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            send_udp(router_mac, ip, router, OUR_PORT, port, (const uint8_t *)text, sizeof(text) - 1);
            continue;
        }
        uint8_t *data = udp_to(f, len, OUR_PORT, &n, src, &sport);
        if (!data || sport != port)
            continue;
        char got[64];
        uint32_t k = n < sizeof(got) - 1 ? n : sizeof(got) - 1;
        memcpy(got, data, k);
        got[k] = 0;
        printf("udp: echo '%s'\n", got);
        if (n != sizeof(text) - 1 || memcmp(data, text, n))
            test_fail("the echo came back different");
        return;
    }
    test_fail("no UDP echo from the host's port %u in %lu ms", port, timeout_ms);
}

static void forwarded(uint16_t port)
{
    printf("READY-FWD\n");
    uint64_t waited = 0;
    while (waited < timeout_ms) {
        uint32_t len, n;
        uint16_t sport;
        uint8_t src[4], src_mac[6];
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            continue;
        }
        uint8_t *data = udp_to(f, len, port, &n, src, &sport);
        if (!data)
            continue;
        memcpy(src_mac, f + 6, 6);
        char got[64];
        uint32_t k = n < sizeof(got) - 1 ? n : sizeof(got) - 1;
        memcpy(got, data, k);
        got[k] = 0;
        printf("fwd: got '%s'\n", got);
        uint8_t answer[80] = "fwd:";
        memcpy(answer + 4, got, k);
        send_udp(src_mac, ip, src, port, sport, answer, 4 + k);
        return;
    }
    test_fail("nothing arrived on forwarded port %u in %lu ms", port, timeout_ms);
}

/* IPv6: addresses are 16 bytes; the checksums of ICMPv6 and UDP cover a pseudo-header (source, destination, upper-layer
 * length, next header) and the whole message, and are mandatory for both. */
static const uint8_t all_nodes6[16] = { 0xFF, 2, [15] = 1 }, all_routers6[16] = { 0xFF, 2, [15] = 2 };
static const uint8_t dhcp6_servers[16] = { 0xFF, 2, [13] = 1, [15] = 2 }; /* ff02::1:2 */
static const uint8_t zero6[16];

static uint32_t sum_words(uint32_t sum, const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += be16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t checksum6(const uint8_t *src, const uint8_t *dst, uint8_t next, const uint8_t *payload, uint32_t len)
{
    uint32_t sum = sum_words(sum_words(0, src, 16), dst, 16) + (len >> 16) + (len & 0xFFFF) + next;
    sum = sum_words(sum, payload, len);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
static const char *fmt6(const uint8_t *a, char *out)
{
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && !be16(a + 2 * j))
            j++;
        if (j - i > best_len && j - i >= 2)
            best = i, best_len = j - i;
        i = j > i ? j : i + 1;
    }
    char *o = out;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *o++ = ':';
            if (i == 0)
                *o++ = ':';
            i += best_len - 1;
            continue;
        }
        static const char hex[] = "0123456789abcdef";
        uint16_t g = be16(a + 2 * i);
        int started = 0;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int d = (g >> shift) & 0xF;
            if (d || started || shift == 0)
                *o++ = hex[d], started = 1;
        }
        if (i < 7)
            *o++ = ':';
    }
    *o = 0;
    return out;
}

/* Sends PAYLOAD (an ICMPv6 or UDP message) from SRC to DST, first filling in its checksum at CSUM_AT. */
static void send_ip6(const uint8_t *dst_mac, const uint8_t *src, const uint8_t *dst, uint8_t next, uint8_t *payload,
                     uint32_t len, uint32_t csum_at)
{
    static uint8_t out[1600];
    put16(payload + csum_at, 0);
    uint16_t c = checksum6(src, dst, next, payload, len);
    put16(payload + csum_at, next == 17 && !c ? 0xFFFF : c);
    memcpy(out, dst_mac, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, ETH_IP6);
    uint8_t *h = out + 14;
    memset(h, 0, 40);
    h[0] = 0x60;
    put16(h + 4, (uint16_t)len);
    h[6] = next;
    h[7] = 255; /* NDP needs 255; the others do not mind */
    memcpy(h + 8, src, 16);
    memcpy(h + 24, dst, 16);
    memcpy(h + 54 - 14, payload, len);
    send(out, 54 + len);
}

/* Multicast to 33:33 and the group's last four bytes. */
static void multicast_mac6(const uint8_t *group, uint8_t *out)
{
    out[0] = out[1] = 0x33;
    memcpy(out + 2, group + 12, 4);
}

/* The upper-layer message of F if it is IPv6 with next header NEXT (no extension headers) to one of our addresses or a
 * multicast group; sets its length and the source address. */
static uint8_t *ip6_payload(uint8_t *f, uint32_t len, uint8_t next, uint32_t *payload_len, uint8_t *src)
{
    if (len < 54 || be16(f + 12) != ETH_IP6 || (f[14] >> 4) != 6 || f[14 + 6] != next)
        return 0;
    uint32_t plen = be16(f + 14 + 4);
    const uint8_t *dst = f + 14 + 24;
    if (54 + plen > len || (dst[0] != 0xFF && memcmp(dst, ip6_ll, 16) && memcmp(dst, ip6, 16)))
        return 0;
    if (src)
        memcpy(src, f + 14 + 8, 16);
    *payload_len = plen;
    return f + 54;
}

static void send_neighbor_advertisement(const uint8_t *dst_mac, const uint8_t *dst, const uint8_t *target, int solicited)
{
    uint8_t na[32];
    memset(na, 0, sizeof(na));
    na[0] = 136;
    na[4] = solicited ? 0x60 : 0x20; /* Solicited (to an NS), Override */
    memcpy(na + 8, target, 16);
    na[24] = 2; /* target link-layer address */
    na[25] = 1;
    memcpy(na + 26, mac, 6);
    send_ip6(dst_mac, target, dst, ICMP6, na, sizeof(na), 2);
}

/* Answers a Neighbor Solicitation for our link-local or global address; 1 if F was one. */
static int answer_neighbor_solicitation(const uint8_t *f, uint32_t len)
{
    uint32_t n;
    uint8_t src[16];
    const uint8_t *m = ip6_payload((uint8_t *)f, len, ICMP6, &n, src);
    if (!m || n < 24 || m[0] != 135 || !memcmp(ip6_ll, zero6, 16))
        return 0;
    const uint8_t *target = m + 8;
    if (memcmp(target, ip6_ll, 16) && (!memcmp(ip6, zero6, 16) || memcmp(target, ip6, 16)))
        return 0;
    if (!memcmp(src, zero6, 16)) { /* a duplicate address check: the answer goes to all nodes */
        uint8_t group_mac[6];
        multicast_mac6(all_nodes6, group_mac);
        send_neighbor_advertisement(group_mac, all_nodes6, target, 0);
    } else {
        send_neighbor_advertisement(f + 6, src, target, 1);
    }
    return 1;
}

static void send_router_solicitation(void)
{
    uint8_t rs[16], group_mac[6];
    memset(rs, 0, sizeof(rs));
    rs[0] = 133;
    rs[8] = 1; /* source link-layer address */
    rs[9] = 1;
    memcpy(rs + 10, mac, 6);
    multicast_mac6(all_routers6, group_mac);
    send_ip6(group_mac, ip6_ll, all_routers6, ICMP6, rs, sizeof(rs), 2);
}

/* Router Solicitations until a Router Advertisement with a prefix comes: the router is its source. */
static void solicit_router(void)
{
    uint64_t waited = 0;
    send_router_solicitation();
    while (waited < timeout_ms) {
        uint32_t len, n;
        uint8_t src[16];
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            if (waited % 3000 == 0)
                send_router_solicitation();
            continue;
        }
        uint8_t *m = ip6_payload(f, len, ICMP6, &n, src);
        if (!m || n < 16 || m[0] != 134 || m[1] != 0)
            continue;
        memcpy(router6_mac, f + 6, 6);
        for (uint32_t i = 16; i + 8 <= n && m[i + 1];) {
            uint32_t olen = m[i + 1] * 8u;
            if (i + olen > n)
                break;
            if (m[i] == 1 && olen >= 8)
                memcpy(router6_mac, m + i + 2, 6);
            if (m[i] == 3 && olen == 32 && m[i + 2] <= 128) {
                prefix6_len = m[i + 2];
                memcpy(prefix6, m + i + 16, 16);
            }
            i += olen;
        }
        if (!prefix6_len)
            test_fail("the Router Advertisement has no prefix");
        memcpy(router6, src, 16);
        return;
    }
    test_fail("no Router Advertisement in %lu ms", timeout_ms);
}

static uint8_t server_id6[130];
static uint32_t server_id6_len;
static const uint32_t xid6 = 0x4e3631; /* "N61", 24 bits */

/* A DHCPv6 Solicit (type 1) or Request (type 3, for the advertised address from the server that advertised it). */
static void dhcp6_send(uint8_t type)
{
    static uint8_t u[8 + 256], group_mac[6];
    uint8_t *m = u + 8, *o = m + 4;
    m[0] = type;
    m[1] = (uint8_t)(xid6 >> 16), m[2] = (uint8_t)(xid6 >> 8), m[3] = (uint8_t)xid6;
    put16(o, 1), put16(o + 2, 10), put16(o + 4, 3), put16(o + 6, 1), memcpy(o + 8, mac, 6), o += 14; /* client id: DUID-LL */
    if (type == 3)
        memcpy(o, server_id6, server_id6_len), o += server_id6_len;
    put16(o, 3), put16(o + 2, type == 3 ? 12 + 28 : 12), memset(o + 4, 0, 12), memcpy(o + 4, mac + 2, 4), o += 16; /* IA_NA */
    if (type == 3)
        put16(o, 5), put16(o + 2, 24), memcpy(o + 4, ip6, 16), memset(o + 20, 0, 8), o += 28; /* its IA_ADDR */
    put16(o, 8), put16(o + 2, 2), put16(o + 4, 0), o += 6;  /* elapsed time */
    put16(o, 6), put16(o + 2, 2), put16(o + 4, 23), o += 6; /* option request: DNS servers */
    uint32_t len = 8 + (uint32_t)(o - m);
    put16(u, 546);
    put16(u + 2, 547);
    put16(u + 4, (uint16_t)len);
    multicast_mac6(dhcp6_servers, group_mac);
    send_ip6(group_mac, ip6_ll, dhcp6_servers, 17, u, len, 6);
}

/* Waits for a DHCPv6 TYPE (2 Advertise, 7 Reply) to our transaction and takes its address, server id and DNS server. */
static void dhcp6_wait(uint8_t type, uint8_t request_type)
{
    uint64_t waited = 0;
    dhcp6_send(request_type);
    while (waited < timeout_ms) {
        uint32_t len, n;
        uint8_t *f = next_frame(&len, 1000);
        if (!f) {
            waited += 1000;
            if (waited % 3000 == 0)
                dhcp6_send(request_type);
            continue;
        }
        uint8_t *u = ip6_payload(f, len, 17, &n, 0);
        if (!u || n < 12 || be16(u) != 547 || be16(u + 2) != 546 || be16(u + 4) != n)
            continue;
        uint8_t *m = u + 8;
        n -= 8;
        if (m[0] != type || m[1] != (uint8_t)(xid6 >> 16) || m[2] != (uint8_t)(xid6 >> 8) || m[3] != (uint8_t)xid6)
            continue;
        int got_address = 0;
        for (uint32_t i = 4; i + 4 <= n;) {
            uint16_t code = be16(m + i), olen = be16(m + i + 2);
            const uint8_t *v = m + i + 4;
            if (i + 4 + olen > n)
                break;
            if (code == 2 && olen + 4u <= sizeof(server_id6))
                memcpy(server_id6, m + i, 4u + olen), server_id6_len = 4u + olen;
            if (code == 23 && olen >= 16)
                memcpy(dns6, v, 16);
            if (code == 13 && olen >= 2 && be16(v))
                test_fail("the DHCPv6 server said status %u", be16(v));
            if (code == 3 && olen >= 12) { /* IA_NA: IAID, T1, T2, then its options */
                for (uint32_t j = 12; j + 4 <= olen;) {
                    uint16_t sub = be16(v + j), slen = be16(v + j + 2);
                    if (j + 4 + slen > olen)
                        break;
                    if (sub == 5 && slen >= 24)
                        memcpy(ip6, v + j + 4, 16), got_address = 1;
                    if (sub == 13 && slen >= 2 && be16(v + j + 4))
                        test_fail("the DHCPv6 server said status %u for our IA_NA", be16(v + j + 4));
                    j += 4u + slen;
                }
            }
            i += 4u + olen;
        }
        if (!got_address)
            test_fail("the DHCPv6 %s has no IA_ADDR", type == 2 ? "Advertise" : "Reply");
        if (!server_id6_len)
            test_fail("the DHCPv6 %s has no server id", type == 2 ? "Advertise" : "Reply");
        return;
    }
    test_fail("no DHCPv6 %s in %lu ms", type == 2 ? "Advertise" : "Reply", timeout_ms);
}

static void ipv6(void)
{
    char a[48], b[48];
    /* fe80::/64 with the modified EUI-64 interface id: the MAC with ff:fe in its middle and the universal bit flipped. */
    memset(ip6_ll, 0, 16);
    ip6_ll[0] = 0xFE, ip6_ll[1] = 0x80;
    ip6_ll[8] = mac[0] ^ 2, ip6_ll[9] = mac[1], ip6_ll[10] = mac[2], ip6_ll[11] = 0xFF, ip6_ll[12] = 0xFE;
    memcpy(ip6_ll + 13, mac + 3, 3);
    printf("ndp: link-local %s\n", fmt6(ip6_ll, a));
    solicit_router();
    printf("ndp: router %s prefix %s/%u\n", fmt6(router6, a), fmt6(prefix6, b), prefix6_len);
    dhcp6_wait(2, 1); /* Solicit until an Advertise */
    printf("dhcpv6: advertised %s\n", fmt6(ip6, a));
    dhcp6_wait(7, 3); /* Request until a Reply */
    printf("dhcpv6: address %s dns %s\n", fmt6(ip6, a), memcmp(dns6, zero6, 16) ? fmt6(dns6, b) : "none");
    if (prefix6_len == 64 && memcmp(ip6, prefix6, 8))
        test_fail("the DHCPv6 address is not in the advertised prefix");
    uint8_t group_mac[6];
    multicast_mac6(all_nodes6, group_mac);
    send_neighbor_advertisement(group_mac, all_nodes6, ip6, 0);
    printf("ndp: announced %s\n", fmt6(ip6, a));
}

/* An ICMPv6 echo to the router's link-local address from the DHCPv6 address (passt answers with a ping socket). */
static void ping6_router(void)
{
    static const char text[] = "platform-nat-ping6";
    uint8_t icmp[8 + sizeof(text) - 1];
    uint64_t waited = 0;
    for (;;) {
        memset(icmp, 0, sizeof(icmp));
        icmp[0] = 128; /* echo request */
        put16(icmp + 4, 0x4e36);
        put16(icmp + 6, 1);
        memcpy(icmp + 8, text, sizeof(text) - 1);
        send_ip6(router6_mac, ip6, router6, ICMP6, icmp, sizeof(icmp), 2);
        uint64_t slice = 0;
        while (slice < 1000) {
            uint32_t len, n;
            uint8_t src[16];
            uint8_t *f = next_frame(&len, 100);
            if (!f) {
                slice += 100;
                continue;
            }
            if (answer_neighbor_solicitation(f, len))
                continue;
            uint8_t *reply = ip6_payload(f, len, ICMP6, &n, src);
            if (reply && n >= 8 + sizeof(text) - 1 && reply[0] == 129 && !memcmp(src, router6, 16)
                && !memcmp(reply + 8, text, sizeof(text) - 1))
                return;
        }
        waited += 1000;
        if (waited >= timeout_ms)
            test_fail("no ICMPv6 echo reply from the router in %lu ms", timeout_ms);
    }
}

/* host6=: 32 hex digits into OUT; 0 when absent or malformed. */
static int cmdline_ip6(const char *key, uint8_t *out)
{
    char buf[40];
    if (!cmdline_get(key, buf, sizeof(buf)) || strlen(buf) != 32)
        return 0;
    for (int i = 0; i < 32; i++) {
        char c = buf[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
    }
    return 1;
}

/* A UDP datagram over IPv6 to HOST's port PORT (the host's [::1]:PORT through passt), through the router, and its echo
 * back from HOST. */
static void udp6_echo(const uint8_t *host, uint16_t port)
{
    static const char text[] = "through-the-nat-v6";
    uint8_t u[8 + sizeof(text) - 1];
    uint64_t waited = 0;
    for (;;) {
        put16(u, OUR_PORT);
        put16(u + 2, port);
        put16(u + 4, sizeof(u));
        memcpy(u + 8, text, sizeof(text) - 1);
        send_ip6(router6_mac, ip6, host, 17, u, sizeof(u), 6);
        uint64_t slice = 0;
        while (slice < 1000) {
            uint32_t len, n;
            uint8_t src[16];
            uint8_t *f = next_frame(&len, 100);
            if (!f) {
                slice += 100;
                continue;
            }
            if (answer_neighbor_solicitation(f, len))
                continue;
            uint8_t *d = ip6_payload(f, len, 17, &n, src);
            if (!d || n < 8 || be16(d) != port || be16(d + 2) != OUR_PORT || be16(d + 4) > n)
                continue;
            uint32_t k = be16(d + 4) - 8u;
            char got[64];
            uint32_t shown = k < sizeof(got) - 1 ? k : sizeof(got) - 1;
            memcpy(got, d + 8, shown);
            got[shown] = 0;
            printf("udp6: echo '%s'\n", got);
            if (k != sizeof(text) - 1 || memcmp(d + 8, text, k))
                test_fail("the IPv6 echo came back different");
            char a[48];
            printf("udp6: from %s\n", fmt6(src, a));
            return;
        }
        waited += 1000;
        if (waited >= timeout_ms)
            test_fail("no UDP echo over IPv6 from the host's port %u in %lu ms", port, timeout_ms);
    }
}

int main(void)
{
    timeout_ms = cmdline_u64("timeout", 20000);
    uint64_t echo_port = cmdline_u64("echo", 0), fwd_port = cmdline_u64("fwd", 0), ping = cmdline_u64("ping", 1);
    uint64_t v6 = cmdline_u64("v6", 0), echo6_port = cmdline_u64("echo6", 0), ping6 = cmdline_u64("ping6", 0);
    enum virtio_irq irq = virtio_irq_from_cmdline();
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_NET, 0);
    if (!d)
        test_fail("no virtio-net on bus 0");
    if (virtio_init(&net, d, F_MAC | F_STATUS, irq) < 0)
        test_fail("virtio-net setup failed");
    for (int i = 0; i < 6; i++)
        mac[i] = virtio_cfg8(&net, i);
    if (virtio_queue_setup(&net, &rxq, 0, 64) < 0 || virtio_queue_setup(&net, &txq, 1, 64) < 0)
        test_fail("virtio-net queues");
    for (int i = 0; i < RX_BUFS; i++)
        post_rx(i);
    virtio_driver_ok(&net);
    virtq_kick(&rxq);
    printf("nat: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);

    dhcp_wait(2, 1); /* DISCOVER until an OFFER */
    dhcp_wait(5, 3); /* REQUEST until an ACK */
    printf("dhcp: lease %u.%u.%u.%u mask %u.%u.%u.%u router %u.%u.%u.%u dns %u.%u.%u.%u\n", ip[0], ip[1], ip[2], ip[3],
           mask[0], mask[1], mask[2], mask[3], router[0], router[1], router[2], router[3], dns[0], dns[1], dns[2], dns[3]);
    arp_router();
    printf("arp: router %02x:%02x:%02x:%02x:%02x:%02x\n", router_mac[0], router_mac[1], router_mac[2], router_mac[3],
           router_mac[4], router_mac[5]);
    if (ping) {
        ping_router();
        printf("ping: reply\n");
    }
    if (v6) {
        ipv6();
        if (ping6) {
            ping6_router();
            printf("ping6: reply\n");
        }
        if (echo6_port) {
            uint8_t host6[16];
            if (!cmdline_ip6("host6", host6))
                test_fail("echo6 needs host6=, the address passt maps to the host (32 hex digits)");
            udp6_echo(host6, (uint16_t)echo6_port);
        }
    }
    if (echo_port)
        udp_echo((uint16_t)echo_port);
    if (fwd_port)
        forwarded((uint16_t)fwd_port);
    return 0;
}
