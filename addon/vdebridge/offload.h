/* The vdebridge helper's tap offloads (offload.c): the tap takes IFF_VNET_HDR and TSO, so the
 * namespace's kernel hands over TCP segments of up to 64 KB with partial checksums; they are cut
 * here into standard Ethernet frames that fit the link's MTU, with complete checksums, before
 * they go to the VNL. */
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

#endif
