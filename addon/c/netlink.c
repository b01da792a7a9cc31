/* The netlink requests iothts makes itself, through a netlink socket of the stack (libioth's
 * nldialog, or ioth_msocket(AF_NETLINK)): the dumps behind links/addresses/routes, the TCP summary
 * (NETLINK_SOCK_DIAG), the bridge's backlog, an on-link route and an address with IFA_FLAGS, which
 * nlinline cannot send. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <ioth.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include "../libioth_calls.h"
#include "broker.h"

/* Appends attribute `type` holding `len` bytes at *p; moves *p past it (4-byte aligned). */
static void put_attr(char **p, unsigned short type, const void *data, int len) {
  struct nlattr a = {.nla_len = sizeof(struct nlattr) + len, .nla_type = type};
  memcpy(*p, &a, sizeof(a));
  memcpy(*p + sizeof(a), data, len);
  memset(*p + a.nla_len, 0, NLA_ALIGN(a.nla_len) - a.nla_len);
  *p += NLA_ALIGN(a.nla_len);
}

int iothts_ipaddr_add_flags(struct ioth *stack, int family, const void *addr, int prefixlen,
    unsigned int ifindex, unsigned int flags) {
  int addrlen = family == AF_INET6 ? 16 : 4;
  uint32_t value = flags;
  /* nlinline's request (IFA_LOCAL and IFA_ADDRESS, NLM_F_EXCL | NLM_F_CREATE), plus IFA_FLAGS:
   * the 32-bit flags attribute, which the kernel reads instead of ifa_flags' 8 bits. */
  struct {
    struct nlmsghdr h;
    struct ifaddrmsg i;
    char attrs[2 * NLA_ALIGN(sizeof(struct nlattr) + 16) + NLA_ALIGN(sizeof(struct nlattr) + 4)];
  } msg;
  memset(&msg, 0, sizeof(msg));
  msg.h.nlmsg_type = RTM_NEWADDR;
  msg.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
  msg.h.nlmsg_seq = 1;
  msg.i.ifa_family = family;
  msg.i.ifa_prefixlen = prefixlen;
  msg.i.ifa_scope = RT_SCOPE_UNIVERSE;
  msg.i.ifa_index = ifindex;
  char *p = msg.attrs;
  put_attr(&p, IFA_LOCAL, addr, addrlen);
  put_attr(&p, IFA_ADDRESS, addr, addrlen);
  put_attr(&p, IFA_FLAGS, &value, sizeof(value));
  msg.h.nlmsg_len = (uint32_t) (p - (char *) &msg);
  return ioth_nldialog(stack, &msg);
}

static int onlink_route(struct ioth *stack, int add, int family, const void *dst,
    int dst_prefixlen, unsigned int ifindex) {
  int addrlen = family == AF_INET6 ? 16 : 4;
  struct route_msg {
    struct nlmsghdr h;
    struct rtmsg r;
    struct nlattr oif_h;
    uint32_t oif;
    struct nlattr dst_h;
    unsigned char dst[16];
  } msg;
  memset(&msg, 0, sizeof(msg));
  msg.h.nlmsg_len = offsetof(struct route_msg, dst_h);
  msg.h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  msg.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_EXCL | NLM_F_CREATE : 0);
  msg.h.nlmsg_seq = 1;
  msg.r.rtm_family = family;
  msg.r.rtm_dst_len = dst_prefixlen;
  msg.r.rtm_table = RT_TABLE_MAIN;
  msg.r.rtm_protocol = RTPROT_BOOT;
  msg.r.rtm_scope = RT_SCOPE_LINK;
  msg.r.rtm_type = RTN_UNICAST;
  msg.oif_h.nla_type = RTA_OIF;
  msg.oif_h.nla_len = sizeof(msg.oif_h) + sizeof(msg.oif);
  msg.oif = ifindex;
  if (dst_prefixlen > 0) {
    msg.dst_h.nla_type = RTA_DST;
    msg.dst_h.nla_len = sizeof(msg.dst_h) + addrlen;
    memcpy(msg.dst, dst, addrlen);
    msg.h.nlmsg_len += NLA_ALIGN(msg.dst_h.nla_len);
  }
  return ioth_nldialog(stack, &msg);
}

int iothts_iproute(struct ioth *stack, int add, int family, const void *dst, int dst_prefixlen,
    const void *gw, unsigned int ifindex) {
  unsigned char dstcopy[16] = {0}, gwcopy[16] = {0};
  int addrlen = family == AF_INET6 ? 16 : 4;
  if (dst == NULL)
    dst_prefixlen = 0;
  else
    memcpy(dstcopy, dst, addrlen);
  if (gw == NULL)
    return onlink_route(stack, add, family, dstcopy, dst_prefixlen, ifindex);
  memcpy(gwcopy, gw, addrlen);
  return add ? ioth_iproute_add(stack, family, dstcopy, dst_prefixlen, gwcopy, ifindex)
             : ioth_iproute_del(stack, family, dstcopy, dst_prefixlen, gwcopy, ifindex);
}

/* Sends one dump request on a netlink socket and calls visit() for every reply message up to
 * NLMSG_DONE; an NLMSG_ERROR ends it with that error. Returns 0, or -1 with errno set. */
static int nl_dump(int fd, int plain, const void *req, size_t reqlen,
    int (*visit)(const struct nlmsghdr *h, void *arg), void *arg) {
  size_t cap = 262144;  /* more than a dump part ever holds: the kernel would truncate, not split */
  char *buf = malloc(cap);
  if (buf == NULL)
    return errno = ENOMEM, -1;
  int done = 0, err = 0;
  if ((plain ? send(fd, req, reqlen, 0) : ioth_send(fd, req, reqlen, 0)) < 0)
    err = errno;
  while (!done && !err) {
    ssize_t n = plain ? recv(fd, buf, cap, 0) : ioth_recv(fd, buf, cap, 0);
    if (n < 0) { err = errno == EAGAIN ? ETIMEDOUT : errno; break; }
    if (n == 0) { err = EPROTO; break; }
    int rest = (int) n;
    for (struct nlmsghdr *h = (struct nlmsghdr *) buf; !done && !err && NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
      if (h->nlmsg_type == NLMSG_DONE)
        done = 1;
      else if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        err = e->error < 0 ? -e->error : EPROTO;
      } else if (visit(h, arg) < 0)
        err = errno ? errno : EPROTO;
    }
  }
  free(buf);
  return err ? (errno = err, -1) : 0;
}

/* A netlink socket of the stack that never waits long for an answer: the stack answers at once. */
static int nl_socket(struct ioth *stack, int protocol) {
  int fd = ioth_msocket(stack, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0)
    return -1;
  struct timeval timeout = {2, 0};
  ioth_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

struct collected {
  char *buf;
  size_t len, cap;
};

static int collect(const struct nlmsghdr *h, void *arg) {
  struct collected *c = arg;
  size_t size = NLMSG_ALIGN(h->nlmsg_len);
  if (c->cap - c->len < size) {
    size_t cap = c->cap + (size > 262144 ? size : 262144);
    char *bigger = realloc(c->buf, cap);
    if (bigger == NULL)
      return errno = ENOMEM, -1;
    c->buf = bigger;
    c->cap = cap;
  }
  memcpy(c->buf + c->len, h, h->nlmsg_len);
  memset(c->buf + c->len + h->nlmsg_len, 0, size - h->nlmsg_len);
  c->len += size;
  return 0;
}

/* A dump request of `type` in req (len bytes: the header, then its message, zeroed). */
static void dump_request(void *req, size_t len, int type, unsigned int seq) {
  memset(req, 0, len);
  struct nlmsghdr *h = req;
  h->nlmsg_len = (uint32_t) len;
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h->nlmsg_seq = seq;
}

/* A dump on fd (plain: a kernel socket of ours, not libioth's). */
static long nldump_on(int fd, int plain, int type, int family, void **out) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
  } req;
  dump_request(&req, sizeof(req), type, 1);
  req.g.rtgen_family = family;
  struct collected c = {NULL, 0, 0};
  if (nl_dump(fd, plain, &req, sizeof(req), collect, &c) < 0) {
    int saved = errno;
    free(c.buf);
    return errno = saved, -1;
  }
  *out = c.buf;
  return (long) c.len;
}

long iothts_nldump(struct ioth *stack, int type, int family, void **out) {
  int fd = nl_socket(stack, NETLINK_ROUTE);
  if (fd < 0)
    return -1;
  long rv = nldump_on(fd, 0, type, family, out);
  int saved = errno;
  ioth_close(fd);
  errno = saved;
  return rv;
}

long iothts_nldump_fd(int fd, int type, int family, void **out) {
  struct timeval timeout = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return nldump_on(fd, 1, type, family, out);
}

static int count_tcp(const struct nlmsghdr *h, void *arg) {
  struct iothts_tcp_summary *sum = arg;
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
    return 0;
  const struct inet_diag_msg *m = NLMSG_DATA(h);
  if (m->idiag_state >= IOTHTS_TCP_STATES)
    return 0;
  sum->sockets[m->idiag_state]++;
  if (m->idiag_wqueue > 0) {
    sum->unacked[m->idiag_state]++;
    sum->unacked_bytes[m->idiag_state] += m->idiag_wqueue;
  }
  if (m->idiag_state == 10 /* LISTEN */)
    return 0;
  if (sum->nconns == sum->capacity) {
    size_t capacity = sum->capacity ? 2 * sum->capacity : 64;
    struct iothts_tcp_conn *bigger = realloc(sum->conns, capacity * sizeof(*bigger));
    if (bigger == NULL)
      return errno = ENOMEM, -1;
    sum->conns = bigger;
    sum->capacity = capacity;
  }
  struct iothts_tcp_conn *c = &sum->conns[sum->nconns++];
  size_t len = m->idiag_family == AF_INET6 ? 16 : 4;
  c->family = m->idiag_family;
  c->state = m->idiag_state;
  c->local_port = ntohs(m->id.idiag_sport);
  c->remote_port = ntohs(m->id.idiag_dport);
  memset(c->local, 0, sizeof(c->local));
  memset(c->remote, 0, sizeof(c->remote));
  memcpy(c->local, m->id.idiag_src, len);
  memcpy(c->remote, m->id.idiag_dst, len);
  c->unacked_bytes = m->idiag_wqueue;
  return 0;
}

int iothts_tcp_summary(struct ioth *stack, struct iothts_tcp_summary *out) {
  memset(out, 0, sizeof(*out));
  int fd = nl_socket(stack, NETLINK_SOCK_DIAG);
  if (fd < 0)
    return -1;
  static const int families[] = {AF_INET, AF_INET6};
  int rv = 0;
  for (int i = 0; i < 2 && rv == 0; i++) {
    struct {
      struct nlmsghdr h;
      struct inet_diag_req_v2 r;
    } req;
    dump_request(&req, sizeof(req), SOCK_DIAG_BY_FAMILY, i + 1);
    req.r.sdiag_family = families[i];
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0U;  /* every state */
    rv = nl_dump(fd, 0, &req, sizeof(req), count_tcp, out);
  }
  int saved = errno;
  ioth_close(fd);
  errno = saved;
  return rv;
}

/* One entry per link: what its root qdisc passed to the driver and still holds, and what the
 * driver counted as transmitted or dropped. Counters are compared modulo 2^32 (the qdisc's are
 * 32-bit). */
struct link_tally {
  int ifindex;
  uint32_t qdisc_sent, qdisc_queued, link_done;
  int has_qdisc, has_link;
};
struct tallies {
  struct link_tally t[64];
  int n;
};

static struct link_tally *tally_of(struct tallies *all, int ifindex) {
  for (int i = 0; i < all->n; i++)
    if (all->t[i].ifindex == ifindex)
      return &all->t[i];
  if (all->n == 64)
    return NULL;
  struct link_tally *t = &all->t[all->n++];
  memset(t, 0, sizeof(*t));
  t->ifindex = ifindex;
  return t;
}

static int tally_qdisc(const struct nlmsghdr *h, void *arg) {
  if (h->nlmsg_type != RTM_NEWQDISC || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct tcmsg)))
    return 0;
  const struct tcmsg *m = NLMSG_DATA(h);
  if (m->tcm_parent != TC_H_ROOT)
    return 0;
  int len = (int) h->nlmsg_len - NLMSG_LENGTH(sizeof(struct tcmsg));
  for (const struct rtattr *a = (const void *) ((const char *) m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(a, len);
       a = RTA_NEXT(a, len)) {
    if (a->rta_type != TCA_STATS || RTA_PAYLOAD(a) < sizeof(struct tc_stats))
      continue;
    struct tc_stats st;
    memcpy(&st, RTA_DATA(a), sizeof(st));
    struct link_tally *t = tally_of(arg, m->tcm_ifindex);
    if (t != NULL) {
      t->qdisc_sent = st.packets;
      t->qdisc_queued = st.qlen;
      t->has_qdisc = 1;
    }
  }
  return 0;
}

static int tally_link(const struct nlmsghdr *h, void *arg) {
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
    return 0;
  const struct ifinfomsg *m = NLMSG_DATA(h);
  if (m->ifi_flags & IFF_LOOPBACK)
    return 0;
  int len = (int) h->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
  for (const struct rtattr *a = (const void *) ((const char *) m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(a, len);
       a = RTA_NEXT(a, len)) {
    if (a->rta_type != IFLA_STATS64 || RTA_PAYLOAD(a) < offsetof(struct rtnl_link_stats64, tx_dropped) + 8)
      continue;
    struct rtnl_link_stats64 st;
    memset(&st, 0, sizeof(st));
    memcpy(&st, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(st) ? RTA_PAYLOAD(a) : sizeof(st));
    struct link_tally *t = tally_of(arg, m->ifi_index);
    if (t != NULL) {
      t->link_done = (uint32_t) (st.tx_packets + st.tx_dropped);
      t->has_link = 1;
    }
  }
  return 0;
}

long iothts_bridge_backlog(struct ioth *stack, int netns) {
  int fd = iothts_socket(stack, netns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, NULL);
  if (fd < 0)
    return -1;
  struct timeval timeout = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  struct tallies all = {.n = 0};
  struct {
    struct nlmsghdr h;
    struct tcmsg t;
  } qreq;
  dump_request(&qreq, sizeof(qreq), RTM_GETQDISC, 1);
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } lreq;
  dump_request(&lreq, sizeof(lreq), RTM_GETLINK, 2);
  /* The qdisc first: a frame it passes on between the two dumps is then in the link's count too
   * or still in the difference, never in neither. */
  int rv = nl_dump(fd, 1, &qreq, sizeof(qreq), tally_qdisc, &all);
  if (rv == 0)
    rv = nl_dump(fd, 1, &lreq, sizeof(lreq), tally_link, &all);
  int saved = errno;
  close(fd);
  if (rv < 0)
    return errno = saved, -1;
  long backlog = 0;
  for (int i = 0; i < all.n; i++) {
    const struct link_tally *t = &all.t[i];
    if (!t->has_qdisc || !t->has_link)
      continue;
    int32_t passed = (int32_t) (t->qdisc_sent - t->link_done);  /* negative for a noqueue link */
    backlog += t->qdisc_queued + (passed > 0 ? passed : 0);
  }
  return backlog;
}
