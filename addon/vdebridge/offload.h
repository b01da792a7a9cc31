/* The vdebridge helper's tap offloads (offload.c): the tap takes IFF_VNET_HDR and TSO, so the
 * namespace's kernel hands over TCP segments of up to 64 KB with partial checksums; they are cut
 * here into standard Ethernet frames that fit the link's MTU, with complete checksums, before
 * they go to the VNL. The other way, in-order TCP segments of one flow are coalesced into one
 * GSO frame for the tap (userspace GRO), so the namespace's kernel handles one large segment. */
#ifndef IOTHTS_VDEBRIDGE_OFFLOAD_H
#define IOTHTS_VDEBRIDGE_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

/* The largest GSO frame a tap hands over (64 KB of IP plus the Ethernet header), with room left
 * to tell a truncated read from a whole one. */
#define OFFLOAD_TAP_FRAME (128 << 10)

/* Called for each standard frame ready for the VNL. */
typedef void (*offload_emit)(void *ctx, const uint8_t *frame, size_t len);

/* A frame read from the tap (vnet header first, n bytes in all) as frames of at most `mtu` bytes
 * of IP each, checksums complete. Returns the frames emitted, or -1 when the frame is dropped
 * (truncated, malformed, or a GSO type that was not advertised). */
int offload_from_tap(uint8_t *buf, size_t n, int mtu, offload_emit emit, void *ctx);

/* Writing to the tap: frames are queued, consecutive segments of one TCP flow merged. */
struct gro {
  int tap;
  size_t len;      /* bytes in frame after the vnet header (0: nothing pending) */
  size_t l3, l4, hdr;  /* offsets of the IP header, the TCP header, the payload */
  uint16_t mss;    /* payload of the first segment: every segment but the last has it */
  int segs, v6, closed;  /* closed: a short or PSH segment came, nothing more may follow */
  uint32_t next_seq;
  struct virtio_net_hdr vh;
  uint8_t frame[65536 + 64];
};

/* Queues one frame from the VNL (merged into the pending one when it may be; else the pending one
 * is written first). gro_flush writes what is pending: at the end of each batch. */
void gro_push(struct gro *g, const uint8_t *frame, size_t len, int enabled);
void gro_flush(struct gro *g);

#endif
