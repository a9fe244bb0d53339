/*
 * net: a virtio-net that answers ARP requests and ICMP echo requests for its
 * own IPv4 address, so the host can ping it over a TAP device.
 *   ip=A.B.C.D    the guest's address (default 10.0.2.15)
 *   pings=N       echo replies to send before passing (default 3)
 *   timeout=ms    give up after this long without reaching N (default 30000)
 *   irq=msix (default) | intx | poll
 *   mrg=1         negotiate VIRTIO_NET_F_MRG_RXBUF (every frame must still
 *                 arrive in one buffer with num_buffers 1: they are 2 KiB)
 *   ctrl=1        negotiate the control queue and CTRL_RX, turn promiscuous
 *                 mode off with an empty MAC table (so only frames to our MAC
 *                 and broadcasts arrive), and check a bogus command gets ERR
 * Prints "READY" once the receive queue holds buffers, "reply N" per echo reply
 * once the device has completed its transmit (a reply only queued is not one).
 * No offloads are negotiated: every frame carries a zeroed virtio_net_hdr_v1.
 */
#include "virtio.h"

const char guest_name[] = "net";

#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_CTRL_RX (1ull << 18)
#define HDR 12
#define SLOT 2048
#define RX_BUFS 32
#define TX_BUFS 16
#define ETH_ARP 0x0806
#define ETH_IP 0x0800

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev net;
static struct virtq rxq, txq, ctrlq;
static uint8_t ctrl_buf[64] __attribute__((aligned(64)));
static uint8_t rx[RX_BUFS][SLOT] __attribute__((aligned(4096)));
static uint8_t tx[TX_BUFS][SLOT] __attribute__((aligned(4096)));
static uint8_t mac[6], ip[4];
static int tx_next;

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

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

/* Queues a frame for transmission; returns its descriptor head. */
static int send(const uint8_t *frame, uint32_t len)
{
    uint32_t dummy;
    while (virtq_get(&txq, &dummy) >= 0)
        ; /* reclaim what the device has sent */
    uint8_t *slot = tx[tx_next++ % TX_BUFS];
    memset(slot, 0, HDR);
    memcpy(slot + HDR, frame, len);
    if (len < 60) {
        memset(slot + HDR + len, 0, 60 - len); /* pad to the Ethernet minimum */
        len = 60;
    }
    struct vbuf b = { (uint64_t)(uintptr_t)slot, HDR + len, 0 };
    int head = virtq_add(&txq, &b, 1);
    if (head < 0)
        test_fail("transmit queue full");
    virtq_kick(&txq);
    return head;
}

/* Waits until the device has completed the transmit of descriptor head (earlier ones may complete first). */
static void wait_sent(int head, uint64_t reply)
{
    uint32_t len;
    for (;;) {
        int done = virtq_wait(&net, &txq, &len, 5000);
        if (done < 0)
            test_fail("echo reply %lu: the device did not complete its transmit within 5 s", reply);
        if (done == head)
            return;
    }
}

/* Answers an ARP request or an ICMP echo request; returns the echo reply's transmit head, or -1. */
static int handle(uint8_t *f, uint32_t len)
{
    static uint8_t out[1600];
    if (len < 14)
        return -1;
    uint16_t type = be16(f + 12);
    if (type == ETH_ARP && len >= 42 && be16(f + 20) == 1 && !memcmp(f + 38, ip, 4)) {
        memcpy(out, f + 6, 6);
        memcpy(out + 6, mac, 6);
        put16(out + 12, ETH_ARP);
        memcpy(out + 14, f + 14, 6);      /* htype, ptype, hlen, plen */
        put16(out + 20, 2);               /* reply */
        memcpy(out + 22, mac, 6);
        memcpy(out + 28, ip, 4);
        memcpy(out + 32, f + 22, 10);     /* the asker's MAC and IP */
        send(out, 42);
        return -1;
    }
    if (type != ETH_IP || len < 34)
        return -1;
    uint8_t *iph = f + 14;
    uint32_t ihl = (iph[0] & 0xF) * 4u, total = be16(iph + 2);
    if ((iph[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || 14 + total > len || iph[9] != 1 || memcmp(iph + 16, ip, 4))
        return -1;
    uint8_t *icmp = iph + ihl;
    if (icmp[0] != 8)
        return -1;
    uint32_t n = 14 + total;
    if (n > sizeof(out))
        return -1;
    memcpy(out, f, n);
    memcpy(out, f + 6, 6);
    memcpy(out + 6, mac, 6);
    uint8_t *oip = out + 14, *oicmp = oip + ihl;
    memcpy(oip + 12, iph + 16, 4);        /* swapping addresses keeps the header checksum */
    memcpy(oip + 16, iph + 12, 4);
    oicmp[0] = 0;                         /* echo reply */
    put16(oicmp + 2, 0);
    put16(oicmp + 2, checksum(oicmp, total - ihl));
    return send(out, n);
}

/* One control command (class, command, data); returns the device's ack (0 OK, 1 ERR). */
static int control(uint8_t cls, uint8_t cmd, const uint8_t *data, uint32_t len)
{
    ctrl_buf[0] = cls;
    ctrl_buf[1] = cmd;
    memcpy(ctrl_buf + 2, data, len);
    ctrl_buf[63] = 0xEE;
    struct vbuf b[2] = { { (uint64_t)(uintptr_t)ctrl_buf, 2 + len, 0 }, { (uint64_t)(uintptr_t)&ctrl_buf[63], 1, 1 } };
    if (virtq_add(&ctrlq, b, 2) < 0)
        test_fail("control queue full");
    virtq_kick(&ctrlq);
    uint32_t written;
    if (virtq_wait(&net, &ctrlq, &written, 5000) < 0)
        test_fail("no answer to control command %u.%u", cls, cmd);
    if (written != 1)
        test_fail("control command %u.%u: %u bytes written, not 1", cls, cmd, written);
    return ctrl_buf[63];
}

/* Promiscuous mode off, an empty MAC table, and a command the device must refuse. */
static void set_filter(void)
{
    static const uint8_t off = 0, empty_table[8] = { 0 };
    if (control(0, 0, &off, 1) != 0)
        test_fail("VIRTIO_NET_CTRL_RX_PROMISC refused");
    if (control(1, 0, empty_table, sizeof(empty_table)) != 0)
        test_fail("VIRTIO_NET_CTRL_MAC_TABLE_SET refused");
    if (control(0x7F, 0, &off, 1) != 1)
        test_fail("an unknown control class was not answered VIRTIO_NET_ERR");
    printf("net: promiscuous mode off, MAC table empty\n");
}

static void parse_ip(void)
{
    char text[32] = "10.0.2.15";
    cmdline_get("ip", text, sizeof(text));
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint32_t)(*p++ - '0');
        if (v > 255 || (i < 3 && *p++ != '.'))
            test_fail("ip=%s is not an IPv4 address", text);
        ip[i] = (uint8_t)v;
    }
}

int main(void)
{
    parse_ip();
    uint64_t want = cmdline_u64("pings", 3), timeout_ms = cmdline_u64("timeout", 30000);
    enum virtio_irq irq = virtio_irq_from_cmdline();
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_NET, 0);
    if (!d)
        test_fail("no virtio-net on bus 0");
    int mrg = cmdline_u64("mrg", 0) != 0, ctrl = cmdline_u64("ctrl", 0) != 0;
    uint64_t wanted = F_MAC | F_STATUS | (mrg ? F_MRG_RXBUF : 0) | (ctrl ? F_CTRL_VQ | F_CTRL_RX : 0);
    if (virtio_init(&net, d, wanted, irq) < 0)
        test_fail("virtio-net setup failed");
    if ((net.features & wanted) != wanted)
        test_fail("the device offers 0x%lx, not all of 0x%lx", net.device_features, wanted);
    if (!(net.features & F_MAC))
        test_fail("the device has no MAC address");
    for (int i = 0; i < 6; i++)
        mac[i] = virtio_cfg8(&net, i);
    if (virtio_queue_setup(&net, &rxq, 0, 64) < 0 || virtio_queue_setup(&net, &txq, 1, 64) < 0 ||
        (ctrl && virtio_queue_setup(&net, &ctrlq, 2, 16) < 0))
        test_fail("virtio-net queues");
    for (int i = 0; i < RX_BUFS; i++)
        post_rx(i);
    virtio_driver_ok(&net);
    virtq_kick(&rxq);
    if (ctrl)
        set_filter();
    printf("net: mac %02x:%02x:%02x:%02x:%02x:%02x ip %u.%u.%u.%u link %s\n", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5], ip[0], ip[1], ip[2], ip[3],
           (net.features & F_STATUS) ? ((virtio_cfg8(&net, 6) & 1) ? "up" : "down") : "unknown");
    printf("READY\n");

    uint64_t replies = 0, frames = 0, waited_ms = 0;
    while (replies < want) {
        uint32_t len;
        int head = virtq_wait(&net, &rxq, &len, 1000);
        if (head < 0) {
            if (virtio_status(&net) & VIRTIO_STATUS_NEEDS_RESET)
                test_fail("the device needs a reset");
            waited_ms += 1000;
            if (waited_ms >= timeout_ms)
                test_fail("%lu of %lu echo replies in %lu ms (%lu frames seen)", replies, want, timeout_ms, frames);
            continue;
        }
        waited_ms = 0;
        frames++;
        int slot = (int)((rxq.desc[head].addr - (uint64_t)(uintptr_t)rx[0]) / SLOT);
        if (mrg && len >= HDR && (rx[slot][10] | rx[slot][11] << 8) != 1)
            test_fail("num_buffers %u for a frame of %u bytes", rx[slot][10] | rx[slot][11] << 8, len);
        int reply = len > HDR ? handle(rx[slot] + HDR, len - HDR) : -1;
        if (reply >= 0) {
            wait_sent(reply, replies + 1);
            printf("reply %lu\n", ++replies);
        }
        post_rx(slot);
        virtq_kick(&rxq);
    }
    printf("net: %lu echo replies, %lu frames received\n", replies, frames);
    return 0;
}
