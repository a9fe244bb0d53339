/*
 * netbench: moves frames through a virtio-net as fast as the device takes or
 * gives them, doing almost nothing per frame itself, so what is measured is
 * the VMM (bench/net.sh counts the frames at the host's TAP). The host drives
 * it with one byte on COM1 at a time, so one boot serves every case:
 *   't' flood 60-byte frames   'T' flood 1514-byte frames
 *   'r' sink: post every receive buffer again as soon as it is filled
 *   's' stand still            'q' print the counts and pass
 * Each command is answered "MODE x" once the previous mode has drained.
 *   mode=tx|rx  start in that mode at once (size= for tx, 60 by default)
 *   frames=N    with mode=, pass after N frames (the engine test's check)
 *   mrg=0|1     negotiate VIRTIO_NET_F_MRG_RXBUF (default 1, as Linux does)
 * Prints "READY" once both queues are set up.
 *
 * The queues are set up once: descriptor i always describes slot i and ring
 * entry k always names descriptor k % size, so giving slots back is one store
 * of the available index. VIRTIO_F_EVENT_IDX is negotiated: the guest kicks
 * only when the device asked to hear (avail_event), and leaves used_event at
 * 0 so the device interrupts once per 65536 frames at most (it polls anyway).
 */
#include "virtio.h"

const char guest_name[] = "netbench";

#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define F_EVENT_IDX (1ull << 29)
#define HDR 12
#define SLOT 2048
#define QSIZE 256

static struct pci_dev devs[PCI_MAX_FUNCS];
static struct virtio_dev net;
static struct virtq rxq, txq;
static uint8_t frame[HDR + 1514] __attribute__((aligned(64)));
static uint8_t rx[QSIZE][SLOT] __attribute__((aligned(4096)));
static uint64_t sent, received;

/* Under PVM every guest instruction goes through KVM's instruction emulator, whose plain loads and stores may copy
 * a 16-bit field a byte at a time, so the device (or this guest) can see an index half updated, 256 off, while it
 * crosses a multiple of 256 (measured: our VMM then found an available index 511 ahead and rightly stopped the
 * queue). Locked instructions are emulated with one atomic compare-and-exchange, so the indices shared with the
 * device go through these: a locked add of 0 to read, an exchange to write. On hardware both are plain atomics. */
static inline uint16_t load16(uint16_t *p)
{
    uint16_t v = 0;
    __asm__ volatile("lock; xaddw %0, %1" : "+r"(v), "+m"(*p) : : "memory", "cc");
    return v;
}

static inline void store16(uint16_t *p, uint16_t v)
{
    __asm__ volatile("xchgw %0, %1" : "+r"(v), "+m"(*p) : : "memory");
}

/* virtio 1.2 2.7.10: kick if the device's avail_event lies in (old, new]. */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Hands every completed slot of q back to the device; returns how many completed since the last call. */
static uint16_t refill(struct virtq *q, int give_back)
{
    uint16_t used = load16(&q->used.idx);
    uint16_t done = (uint16_t)(used - q->last_used);
    if (done > (uint16_t)(q->avail.idx - q->last_used))
        test_fail("the device used %u buffers of the %u it had", done, (uint16_t)(q->avail.idx - q->last_used));
    q->last_used = used;
    uint16_t old = q->avail.idx, next = (uint16_t)(used + q->size);
    if (give_back && next != old) {
        /* The exchange is also a full barrier: the new index is visible before avail_event is read, or a device
         * going idle meanwhile would never be kicked. */
        store16(&q->avail.idx, next);
        if (need_event(load16(&q->used.avail_event), next, old))
            virtq_kick(q);
    }
    return done;
}

/* Waits until the device has returned every transmit slot, so their lengths may change. */
static void drain_tx(void)
{
    while (load16(&txq.used.idx) != txq.avail.idx)
        if (virtio_status(&net) & VIRTIO_STATUS_NEEDS_RESET)
            test_fail("the device needs a reset");
    sent += refill(&txq, 0);
}

static void set_frame_size(uint32_t size)
{
    for (uint32_t i = 14; i < size; i++)
        frame[HDR + i] = (uint8_t)i;
    for (uint16_t i = 0; i < txq.size; i++)
        txq.desc[i].len = HDR + size;
}

static void setup_queues(void)
{
    /* The frame: to a MAC nobody has, from ours, a local experimental EtherType. */
    static const uint8_t head[14] = { 0x02, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x88, 0xB5 };
    memcpy(frame + HDR, head, sizeof(head));
    for (int i = 0; i < 6; i++)
        frame[HDR + 6 + i] = virtio_cfg8(&net, i);
    for (uint16_t i = 0; i < QSIZE; i++) {
        txq.desc[i] = (struct virtq_desc){ (uint64_t)(uintptr_t)frame, HDR + 60, 0, 0 };
        txq.avail.ring[i] = i;
        rxq.desc[i] = (struct virtq_desc){ (uint64_t)(uintptr_t)rx[i], SLOT, VIRTQ_DESC_F_WRITE, 0 };
        rxq.avail.ring[i] = i;
    }
    txq.avail.used_event = rxq.avail.used_event = 0;
}

int main(void)
{
    uint64_t want = cmdline_u64("frames", 0), size = cmdline_u64("size", 60);
    if (size < 60 || size > 1514)
        test_fail("size=%lu: an Ethernet frame is 60 to 1514 bytes", size);
    uint64_t features = F_MAC | F_EVENT_IDX | (cmdline_u64("mrg", 1) ? F_MRG_RXBUF : 0);
    int n = pci_scan(devs, PCI_MAX_FUNCS);
    struct pci_dev *d = virtio_find(devs, n, VIRTIO_ID_NET, 0);
    if (!d)
        test_fail("no virtio-net on bus 0");
    if (virtio_init(&net, d, features, VIRTIO_IRQ_POLL) < 0)
        test_fail("virtio-net setup failed");
    if (!(net.features & F_EVENT_IDX))
        test_fail("the device does not offer EVENT_IDX");
    if (virtio_queue_setup(&net, &rxq, 0, QSIZE) < 0 || virtio_queue_setup(&net, &txq, 1, QSIZE) < 0)
        test_fail("virtio-net queues");
    if (rxq.size != QSIZE || txq.size != QSIZE)
        test_fail("queues of %u and %u entries, not %u", rxq.size, txq.size, QSIZE);
    setup_queues();
    virtio_driver_ok(&net);
    printf("netbench: %u slots per queue, mrg %s\n", QSIZE, (net.features & F_MRG_RXBUF) ? "on" : "off");
    printf("READY\n");

    int mode = cmdline_is("mode", "tx") ? (size == 60 ? 't' : 'T') : cmdline_is("mode", "rx") ? 'r' : 's';
    int command = mode;
    uint32_t idle = 0;
    for (uint32_t spin = 0;; spin++) {
        if (command >= 0) {
            if (command == 't' || command == 'T') {
                drain_tx();
                set_frame_size(command == 't' ? 60 : (uint32_t)size == 60 ? 1514 : (uint32_t)size);
            }
            if (command == 'q')
                break;
            if (command == 't' || command == 'T' || command == 'r' || command == 's') {
                mode = command;
                printf("MODE %c\n", mode);
            }
            command = -1;
        }
        /* Slots given back only in their mode: the other queue keeps what it has and holds still. */
        uint16_t moved = refill(&txq, mode == 't' || mode == 'T');
        sent += moved;
        uint16_t got = refill(&rxq, mode == 'r');
        received += got;
        /* A queue that has not moved for a while is kicked anyway (a spare kick costs one exit), should a kick the
         * device waited for ever be missed. */
        idle = moved || got ? 0 : idle + 1;
        if (idle == 8192) {
            idle = 0;
            if (mode == 't' || mode == 'T')
                virtq_kick(&txq);
            else if (mode == 'r')
                virtq_kick(&rxq);
        }
        if (want && sent + received >= want)
            break;
        if ((spin & 1023) == 1023) {
            command = serial_getc_nowait();
            if (virtio_status(&net) & VIRTIO_STATUS_NEEDS_RESET)
                test_fail("the device needs a reset");
        }
    }
    printf("netbench: %lu frames sent, %lu received\n", sent, received);
    return 0;
}
