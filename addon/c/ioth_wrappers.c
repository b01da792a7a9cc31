/* The C-only pass-throughs: ioth.h expands nlinline's inline netlink helpers (ioth_linksetupdown,
 * ioth_ipaddr_add, ...), which are C only, so the C++ side calls these prototypes instead. Buffers
 * are copied where nlinline's prototypes take non-const pointers. */
#define _GNU_SOURCE
#include <string.h>
#include <ioth.h>
#include "../libioth_calls.h"

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

int iothts_iplink_add(struct ioth *stack, const char *ifname, unsigned int ifindex,
    const char *type, const char *data) {
  return ioth_iplink_add(stack, ifname, ifindex, type, data);
}

int iothts_iplink_del(struct ioth *stack, const char *ifname, unsigned int ifindex) {
  return ioth_iplink_del(stack, ifname, ifindex);
}
