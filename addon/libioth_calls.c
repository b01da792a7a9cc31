#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <ioth.h>
#include "libioth_calls.h"

struct ioth *iothts_newstack(const char *plugin, const char **vnlv) {
  return ioth_newstackv(plugin, vnlv);
}

int iothts_delstack(struct ioth *stack) {
  return ioth_delstack(stack);
}

int iothts_socket(struct ioth *stack, int domain, int type, int protocol) {
  int fd = ioth_msocket(stack, domain, type, protocol);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
    ioth_close(fd);
    errno = ENOTSOCK;
    return -1;
  }
  int owned = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  int saved = errno;
  ioth_close(fd);
  errno = saved;
  return owned;
}

int iothts_if_nametoindex(struct ioth *stack, const char *ifname) {
  return ioth_if_nametoindex(stack, ifname);
}

int iothts_linksetupdown(struct ioth *stack, unsigned int ifindex, int up) {
  return ioth_linksetupdown(stack, ifindex, up);
}

int iothts_linksetaddr(struct ioth *stack, unsigned int ifindex, const unsigned char mac[6]) {
  unsigned char copy[6];
  memcpy(copy, mac, sizeof(copy));
  return ioth_linksetaddr(stack, ifindex, copy);
}

int iothts_linkgetaddr(struct ioth *stack, unsigned int ifindex, unsigned char mac[6]) {
  return ioth_linkgetaddr(stack, ifindex, mac);
}

int iothts_linksetmtu(struct ioth *stack, unsigned int ifindex, unsigned int mtu) {
  return ioth_linksetmtu(stack, ifindex, mtu);
}

int iothts_ipaddr(struct ioth *stack, int add, int family, const void *addr, int prefixlen,
    unsigned int ifindex) {
  unsigned char copy[16];
  memcpy(copy, addr, family == AF_INET6 ? 16 : 4);
  return add ? ioth_ipaddr_add(stack, family, copy, prefixlen, ifindex)
             : ioth_ipaddr_del(stack, family, copy, prefixlen, ifindex);
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

int iothts_iplink_add(struct ioth *stack, const char *ifname, unsigned int ifindex,
    const char *type, const char *data) {
  return ioth_iplink_add(stack, ifname, ifindex, type, data);
}

int iothts_iplink_del(struct ioth *stack, const char *ifname, unsigned int ifindex) {
  return ioth_iplink_del(stack, ifname, ifindex);
}

long iothts_nldump(struct ioth *stack, int type, int family, void **out) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
  } req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.g.rtgen_family = family;
  int fd = ioth_msocket(stack, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return -1;
  struct timeval timeout = {2, 0};  /* the stack answers at once; never wait forever */
  ioth_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int done = 0, err = 0;
  if (ioth_send(fd, &req, sizeof(req), 0) < 0)
    err = errno;
  while (!done && !err) {
    if (cap - len < 65536) {
      char *bigger = realloc(buf, cap + 262144);
      if (bigger == NULL) { err = ENOMEM; break; }
      buf = bigger;
      cap += 262144;
    }
    ssize_t n = ioth_recv(fd, buf + len, cap - len, 0);
    if (n < 0) { err = errno == EAGAIN ? ETIMEDOUT : errno; break; }
    if (n == 0) { err = EPROTO; break; }
    int rest = (int) n;
    for (struct nlmsghdr *h = (struct nlmsghdr *) (buf + len); NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
      if (h->nlmsg_type == NLMSG_DONE)
        done = 1;
      else if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        err = e->error < 0 ? -e->error : EPROTO;
      }
    }
    len += n;
  }
  ioth_close(fd);
  if (err) {
    free(buf);
    return errno = err, -1;
  }
  *out = buf;
  return (long) len;
}

int iothts_plugin_dir(char *buf, size_t size) {
  Dl_info info;
  if (dladdr((void *) ioth_newstackv, &info) == 0 || info.dli_fname == NULL)
    return errno = ENOENT, -1;
  char path[4096];
  snprintf(path, sizeof(path), "%s", info.dli_fname);
  snprintf(buf, size, "%s/ioth", dirname(path));
  return 0;
}
