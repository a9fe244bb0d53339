/*
 * nat: a virtio-net client of a user-mode NAT (passt): it takes a DHCP lease,
 * ARPs for the router, pings it, sends a UDP datagram to a host service through
 * the NAT and answers one that arrives through a port forward.
 *   echo=PORT     a UDP echo service on the host's loopback, reached at the
 *                 router's address (passt maps it to the host); 0 skips it
 *   fwd=PORT      the guest's UDP port a host forward leads to; 0 skips it
 *   ping=0|1      ping the router (default 1: needs the host to allow passt
 *                 ping sockets, net.ipv4.ping_group_range)
 *   timeout=ms    each step's limit (default 20000)
 * Prints "dhcp: lease A mask M router R dns D", "arp: router MAC",
 * "ping: reply", "udp: echo 'TEXT'", "READY-FWD", "fwd: got 'TEXT'".
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

/* The frame the next call hands out; 0 on timeout. ARP requests for our address are answered on the way. */
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

int main(void)
{
    timeout_ms = cmdline_u64("timeout", 20000);
    uint64_t echo_port = cmdline_u64("echo", 0), fwd_port = cmdline_u64("fwd", 0), ping = cmdline_u64("ping", 1);
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
    if (echo_port)
        udp_echo((uint16_t)echo_port);
    if (fwd_port)
        forwarded((uint16_t)fwd_port);
    return 0;
}
