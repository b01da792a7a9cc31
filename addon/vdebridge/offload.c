/* Segmentation of the tap's GSO frames and coalescing of the frames written to it (offload.h).
 * Everything the kernel or a peer may send is checked before use: a frame that cannot be handled
 * is dropped (from the tap: a GSO frame never fits the wire whole) or passed as it is (to the tap:
 * the namespace's kernel judges it). */
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <errno.h>
#include <arpa/inet.h>
#include "offload.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static uint16_t be16(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t) (v >> 8); p[1] = (uint8_t) v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t) (v >> 16)); put16(p + 2, (uint16_t) v); }

/* The Internet checksum's one's-complement sum, over native-order words (the folded sum is then
 * stored as it is, whatever the byte order). */
static uint64_t sum(const uint8_t *p, size_t n, uint64_t acc) {
  uint64_t a = 0, b = 0, v, w;
  for (; n >= 16; p += 16, n -= 16) {
    memcpy(&v, p, 8);
    memcpy(&w, p + 8, 8);
    a += (v & 0xffffffffu) + (v >> 32);
    b += (w & 0xffffffffu) + (w >> 32);
  }
  acc += a + b;
  for (; n >= 4; p += 4, n -= 4) {
    uint32_t x;
    memcpy(&x, p, 4);
    acc += x;
  }
  if (n >= 2) {
    uint16_t x;
    memcpy(&x, p, 2);
    acc += x;
    p += 2;
    n -= 2;
  }
  if (n) {
    uint8_t t[2] = {p[0], 0};
    uint16_t x;
    memcpy(&x, t, 2);
    acc += x;
  }
  return acc;
}

static uint16_t fold(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t) acc;
}

/* Where the headers are. l4 and hdr are set for TCP only. */
struct pkt {
  size_t l3, l4, hdr, end;  /* end: where the IP packet ends (frames may carry padding) */
  int v6;
  uint8_t proto;
};

/* An IPv4 or IPv6 packet in an Ethernet frame (one 802.1Q tag allowed when `vlan`); IPv6
 * extension headers walked when `ext` (the kernel's own segments may carry them), else refused. */
static int parse(const uint8_t *f, size_t len, struct pkt *p, int vlan, int ext) {
  if (len < 14)
    return -1;
  uint16_t type = be16(f + 12);
  p->l3 = 14;
  if (vlan && type == 0x8100) {
    if (len < 18)
      return -1;
    type = be16(f + 16);
    p->l3 = 18;
  }
  const uint8_t *ip = f + p->l3;
  if (type == 0x0800) {
    if (len < p->l3 + 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
      return -1;
    size_t ihl = (size_t) (ip[0] & 15) * 4, tot = be16(ip + 2);
    if (tot < ihl || p->l3 + tot > len)
      return -1;
    p->v6 = 0;
    p->proto = ip[9];
    p->l4 = p->l3 + ihl;
    p->end = p->l3 + tot;
  } else if (type == 0x86dd) {
    if (len < p->l3 + 40 || ip[0] >> 4 != 6)
      return -1;
    p->v6 = 1;
    p->end = p->l3 + 40 + be16(ip + 4);
    if (p->end > len)
      return -1;
    uint8_t nh = ip[6];
    size_t off = p->l3 + 40;
    for (int i = 0; ext && i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
      if (off + 8 > p->end)
        return -1;
      nh = f[off];
      off += ((size_t) f[off + 1] + 1) * 8;
    }
    p->proto = nh;
    p->l4 = off;
  } else {
    return -1;
  }
  if (p->proto != 6 || p->l4 + 20 > p->end)
    return -1;
  size_t doff = (size_t) (f[p->l4 + 12] >> 4) * 4;
  if (doff < 20 || p->l4 + doff > p->end)
    return -1;
  p->hdr = p->l4 + doff;
  return 0;
}

/* The TCP pseudo-header's sum for `l4len` bytes of TCP. */
static uint64_t pseudo(const uint8_t *f, const struct pkt *p, size_t l4len) {
  uint64_t acc = p->v6 ? sum(f + p->l3 + 8, 32, 0) : sum(f + p->l3 + 12, 8, 0);
  return acc + htons(6) + htons((uint16_t) l4len) + (p->v6 ? htons((uint16_t) (l4len >> 16)) : 0);
}

static void store_csum(uint8_t *at, uint64_t acc) {
  uint16_t c = (uint16_t) ~fold(acc);
  memcpy(at, &c, 2);
}

/* Segments of at most mss bytes of the GSO frame f (headers through p->hdr, payload after), made in
 * place: each segment's headers are written over the bytes before its payload, which the previous
 * segment, already sent, no longer needs. */
static int segment(uint8_t *f, const struct pkt *p, size_t mss, offload_emit emit, void *ctx) {
  uint8_t h[512];
  size_t payload = p->end - p->hdr, hdr = p->hdr;
  if (hdr > sizeof(h))
    return -1;  /* IPv6 extension headers of this size: not from a sane kernel */
  memcpy(h, f, hdr);
  uint32_t seq = be32(h + p->l4 + 4);
  uint16_t id = be16(h + p->l3 + 4);
  uint8_t flags = h[p->l4 + 13];
  int count = 0;
  size_t off = 0;
  do {
    size_t chunk = payload - off < mss ? payload - off : mss;
    int last = off + chunk >= payload;
    uint8_t *seg = f + off;
    if (off)
      memcpy(seg, h, hdr);
    uint8_t *ip = seg + p->l3, *th = seg + p->l4;
    if (p->v6) {
      put16(ip + 4, (uint16_t) (hdr - p->l3 - 40 + chunk));
    } else {
      put16(ip + 2, (uint16_t) (hdr - p->l3 + chunk));
      put16(ip + 4, (uint16_t) (id + count));
      memset(ip + 10, 0, 2);
      store_csum(ip + 10, sum(ip, p->l4 - p->l3, 0));
    }
    put32(th + 4, seq + (uint32_t) off);
    th[13] = (uint8_t) (flags & ~(last ? 0 : TCP_FIN | TCP_PSH) & ~(count ? TCP_CWR : 0));
    memset(th + 16, 0, 2);
    size_t l4len = hdr - p->l4 + chunk;
    store_csum(th + 16, sum(th, l4len, pseudo(seg, p, l4len)));
    emit(ctx, seg, hdr + chunk);
    count++;
    off += chunk;
  } while (off < payload);
  return count;
}

int offload_from_tap(uint8_t *buf, size_t n, int mtu, offload_emit emit, void *ctx) {
  struct virtio_net_hdr vh;
  if (n < sizeof(vh) || n >= OFFLOAD_TAP_FRAME)
    return -1;  /* no header, or a read that filled the buffer: perhaps truncated */
  memcpy(&vh, buf, sizeof(vh));
  uint8_t *f = buf + sizeof(vh);
  size_t len = n - sizeof(vh);
  uint8_t gso = vh.gso_type & (uint8_t) ~VIRTIO_NET_HDR_GSO_ECN;
  if (gso == VIRTIO_NET_HDR_GSO_NONE) {
    if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      size_t start = vh.csum_start, at = start + vh.csum_offset;
      if (at + 2 > len)
        return -1;
      /* The field holds the pseudo-header's sum: the sum from csum_start on is the checksum;
       * 0 is sent as 0xffff (equal in one's complement, and UDP's "no checksum" otherwise). */
      uint16_t c = (uint16_t) ~fold(sum(f + start, len - start, 0));
      if (c == 0)
        c = 0xffff;
      memcpy(f + at, &c, 2);
    }
    if (len == 0)
      return -1;
    emit(ctx, f, len);
    return 1;
  }
  struct pkt p;
  if ((gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) || vh.gso_size == 0 ||
      parse(f, len, &p, 1, 1) < 0 || p.v6 != (gso == VIRTIO_NET_HDR_GSO_TCPV6))
    return -1;  /* UDP and other GSO types are not advertised: nothing sane to do with them */
  /* The MSS the kernel chose, or less if the link's MTU shrank since: every frame must fit it. */
  long mss = vh.gso_size, room = (long) mtu - (long) (p.hdr - p.l3);
  if (mtu > 0 && mss > room)
    mss = room;
  if (mss <= 0)
    return -1;
  return segment(f, &p, (size_t) mss, emit, ctx);
}

/* ---- coalescing into the tap ---- */

static const struct virtio_net_hdr no_offload;

static void write_tap(int tap, const struct virtio_net_hdr *vh, const uint8_t *frame, size_t len) {
  struct iovec iov[2] = {{(void *) vh, sizeof(*vh)}, {(void *) frame, len}};
  while (writev(tap, iov, 2) < 0 && errno == EINTR)
    ;
}

/* A frame that may start or extend a merge: a plain TCP data segment (ACK, PSH at most) over
 * IPv4 without options or fragments or IPv6 without extension headers, no ECN CE mark, with its
 * checksums right (the merged frame tells the kernel they were). Its length without padding. */
static size_t candidate(const uint8_t *f, size_t len, struct pkt *p) {
  if (parse(f, len, p, 0, 0) < 0 || p->hdr == p->end)
    return 0;
  const uint8_t *ip = f + p->l3, *th = f + p->l4;
  if (p->v6) {
    if ((((ip[0] & 15) << 4 | ip[1] >> 4) & 3) == 3)
      return 0;
  } else if ((ip[0] & 15) != 5 || (be16(ip + 6) & 0x3fff) != 0 || (ip[1] & 3) == 3 || fold(sum(ip, 20, 0)) != 0xffff) {
    return 0;
  }
  if ((th[13] & ~TCP_PSH) != TCP_ACK)
    return 0;
  size_t l4len = p->end - p->l4;
  if (fold(sum(th, l4len, pseudo(f, p, l4len))) != 0xffff)
    return 0;
  return p->end;
}

/* Whether segment f (parsed in p) continues the pending one: the same headers but for lengths,
 * IDs and checksums (so the same flow, ACK, window and options: timestamps equal), the next
 * sequence number, no more payload than the first segment's, the merge within 64 KB. */
static int continues(const struct gro *g, const uint8_t *f, const struct pkt *p) {
  const uint8_t *a = g->frame, *ip = f + p->l3, *th = f + p->l4, *gip = a + g->l3, *gth = a + g->l4;
  size_t payload = p->end - p->hdr;
  if (g->closed || p->v6 != g->v6 || p->hdr != g->hdr || payload > g->mss || g->len + payload > 14 + 65535 ||
      memcmp(a, f, 14) != 0 || be32(th + 4) != g->next_seq)
    return 0;
  if (p->v6 ? memcmp(gip, ip, 4) != 0 || memcmp(gip + 6, ip + 6, 34) != 0
            : memcmp(gip, ip, 2) != 0 || memcmp(gip + 6, ip + 6, 4) != 0 || memcmp(gip + 12, ip + 12, 8) != 0)
    return 0;
  return memcmp(gth, th, 4) == 0 && memcmp(gth + 8, th + 8, 5) == 0 && memcmp(gth + 14, th + 14, 2) == 0 &&
         memcmp(gth + 18, th + 18, p->hdr - p->l4 - 18) == 0;
}

void gro_flush(struct gro *g) {
  if (g->len == 0)
    return;
  if (g->segs == 1) {
    write_tap(g->tap, &no_offload, g->frame, g->len);
  } else {
    uint8_t *ip = g->frame + g->l3, *th = g->frame + g->l4;
    struct pkt p = {.l3 = g->l3, .l4 = g->l4, .hdr = g->hdr, .end = g->len, .v6 = g->v6, .proto = 6};
    if (g->v6) {
      put16(ip + 4, (uint16_t) (g->len - g->l3 - 40));
    } else {
      put16(ip + 2, (uint16_t) (g->len - g->l3));
      memset(ip + 10, 0, 2);
      store_csum(ip + 10, sum(ip, 20, 0));
    }
    /* A partial checksum, as the kernel's own GSO frames carry: the pseudo-header's sum. */
    uint16_t partial = fold(pseudo(g->frame, &p, g->len - g->l4));
    memcpy(th + 16, &partial, 2);
    struct virtio_net_hdr vh = {
      .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
      .gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
      .hdr_len = (uint16_t) g->hdr,
      .gso_size = g->mss,
      .csum_start = (uint16_t) g->l4,
      .csum_offset = 16,
    };
    write_tap(g->tap, &vh, g->frame, g->len);
  }
  g->len = 0;
}

void gro_push(struct gro *g, const uint8_t *f, size_t len, int enabled) {
  struct pkt p;
  size_t end = enabled ? candidate(f, len, &p) : 0;
  if (end == 0) {
    gro_flush(g);
    write_tap(g->tap, &no_offload, f, len);
    return;
  }
  size_t payload = p.end - p.hdr;
  int psh = (f[p.l4 + 13] & TCP_PSH) != 0;
  if (g->len > 0 && continues(g, f, &p)) {
    memcpy(g->frame + g->len, f + p.hdr, payload);
    g->len += payload;
    g->next_seq += (uint32_t) payload;
    g->segs++;
    if (psh)
      g->frame[g->l4 + 13] |= TCP_PSH;
    g->closed = psh || payload < g->mss;
    return;
  }
  gro_flush(g);
  memcpy(g->frame, f, end);
  g->len = end;
  g->l3 = p.l3;
  g->l4 = p.l4;
  g->hdr = p.hdr;
  g->v6 = p.v6;
  g->mss = (uint16_t) payload;
  g->segs = 1;
  g->closed = psh;
  g->next_seq = be32(f + p.l4 + 4) + (uint32_t) payload;
}
