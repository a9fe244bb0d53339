/*
 * net-blast IFNAME SIZE SECONDS: sends SIZE-byte Ethernet frames out of IFNAME (a TAP in bench/net.sh's namespace)
 * as fast as the interface takes them, for SECONDS, through an AF_PACKET socket in batches of 64 (sendmmsg).
 * The TAP's qdisc is noqueue, so a full TAP queue answers ENOBUFS at once; the sender then yields for 20 us instead of
 * spinning, which leaves the host's few cores to the VMM being measured. What the VMM read is the TAP's
 * tx_packets; this prints what it offered and how often the TAP was full: "offered=N batches=B refused=M". A VMM
 * that keeps up leaves the TAP full in few batches: then the sender, not the VMM, sets the rate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: net-blast IFNAME SIZE SECONDS\n");
        return 64;
    }
    int size = atoi(argv[2]);
    double seconds = atof(argv[3]);
    if (size < 60 || size > 1514) {
        fprintf(stderr, "net-blast: SIZE is 60 to 1514\n");
        return 64;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("net-blast: socket");
        return 1;
    }
    struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1]), .sll_halen = 6 };
    if (!to.sll_ifindex) {
        perror("net-blast: interface");
        return 1;
    }
    /* To the guest's MAC (bench/net.sh gives it 52:54:00:12:34:56), a local experimental EtherType. */
    unsigned char frame[1514] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xB5 };
    for (int i = 14; i < size; i++)
        frame[i] = (unsigned char)i;
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){ frame, (size_t)size };
        msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    unsigned long long offered = 0, refused = 0, batches = 0;
    struct timespec pause = { 0, 20000 };
    double end = now() + seconds;
    while (now() < end) {
        int sent = sendmmsg(fd, msgs, BATCH, 0);
        batches++;
        if (sent > 0)
            offered += (unsigned)sent;
        if (sent < BATCH) {
            if (sent < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                perror("net-blast: sendmmsg");
                return 1;
            }
            refused++;
            nanosleep(&pause, NULL);
        }
    }
    printf("offered=%llu batches=%llu refused=%llu\n", offered, batches, refused);
    return 0;
}
