/* iothts-vdebridge: the helper process of the vdebridge libioth plugin (plugin.c). One per stack,
 * started with posix_spawn (not a clone of the Node process: its start costs the same whatever the
 * size of the process that starts it, and it shares none of that process's pages).
 *
 *   iothts-vdebridge PARENT_PID IFNAME VNL [IFNAME VNL ...]   (descriptor 3: the command socket)
 *
 * It makes a user namespace mapping its user to root, opens each VNL with libvdeplug (still in the
 * caller's network namespace), makes a network namespace of its own and a tap per VNL in it, then
 * bridges each tap to its VNL in one epoll loop and creates sockets in the namespace on request
 * (protocol.h). It ends at EOF on the command socket, which its process's death causes at once
 * (SIGKILL included: the helper has its own descriptor table), or when its process ends (a pidfd:
 * the command socket's other end may outlive the process in a descriptor table it shares with a
 * vdestack helper, a CLONE_FILES clone that ends only at its next kill(parent, 0)), after moving the frames still queued for a short, bounded while: the FIN or RST that the
 * namespace sends when the process's sockets close then still reaches the peers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <libvdeplug.h>
#include "offload.h"
#include "protocol.h"
#include "../c/scm_rights.h"

/* Frames moved per side per wake-up at most, so that one busy direction cannot starve the other. */
#define BATCH 256
/* The end: bridging goes on until nothing moved for QUIET_MS, at most DRAIN_MS after the EOF. */
#define QUIET_MS 20
#define DRAIN_MS 100
/* Socket buffers asked for on a VDE connection's data socket (the kernel caps them at
 * net.core.rmem_max/wmem_max unless the helper may force them), and the taps' queue length: bursts
 * of the namespace's TCP otherwise overflow the default 212 KB and 1000 frames, and each drop
 * costs a retransmission and a halved congestion window. */
#define SOCKBUF (4 << 20)
#define TXQUEUELEN 10000

#define TAG_CMD 0u
#define TAG_TAP 1u
#define TAG_VDE 2u
#define TAG_PARENT 3u
#define TAG_LINK 4u

struct iface {
  VDECONN *conn;
  int tap, datafd;
  int ifindex, mtu;  /* the tap's, as the namespace sees it: segments are cut to fit the MTU */
  struct gro gro;
};

static struct iface ifaces[VDEBRIDGE_MAX_IFACES];
static int nifaces;
/* One frame from a VNL (at most 65536 bytes), one from a tap (its vnet header, then up to 64 KB of
 * IP in a GSO frame), and whether segments into the taps are coalesced (IOTHTS_VDEBRIDGE_GRO=0: no). */
static unsigned char frame[65536];
static unsigned char tapframe[OFFLOAD_TAP_FRAME];
static int gro_enabled = 1;

static void reply(int32_t rval, int32_t err, int32_t index, int fd) {
  struct vdebridge_reply r = {rval, err, index};
  struct iovec iov = {&r, sizeof(r)};
  struct iothts_rights control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  iothts_attach_fd(&msg, &control, fd);
  while (sendmsg(VDEBRIDGE_CMD_FD, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

static void fail(int index) {
  reply(-1, errno, index, -1);
  _exit(1);
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  return n == (ssize_t) strlen(text) ? 0 : (errno = n < 0 ? saved : EIO, -1);
}

/* A user namespace where this user is root: the capabilities to make the network namespace and
 * its taps. Done first, while the process has one thread (vde_open may start threads: hub://). */
static void own_user_namespace(void) {
  char map[64];
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) < 0)
    fail(-1);
  if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
    fail(-1);
  snprintf(map, sizeof(map), "0 %u 1", (unsigned) uid);
  if (write_file("/proc/self/uid_map", map) < 0)
    fail(-1);
  snprintf(map, sizeof(map), "0 %u 1", (unsigned) gid);
  if (write_file("/proc/self/gid_map", map) < 0)
    fail(-1);
}

static void large_buffers(int fd) {
  struct stat st;
  int size = SOCKBUF;
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    return;  /* e.g. vxvde's data descriptor is an epoll set (its own rcvbuf= option sizes it) */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* The tap's queue length, by rtnetlink: SIOCSIFTXQLEN wants CAP_NET_ADMIN in the initial user
 * namespace, RTM_NEWLINK only over the link's own network namespace (ours). */
static void set_txqueuelen(const char *name) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg ifi;
    struct rtattr attr;
    uint32_t qlen;
  } req = {
    .h = {.nlmsg_len = sizeof(req), .nlmsg_type = RTM_NEWLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1},
    .ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int) if_nametoindex(name)},
    .attr = {.rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = IFLA_TXQLEN},
    .qlen = TXQUEUELEN,
  };
  char ack[256];
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0 || req.ifi.ifi_index == 0) {
    if (s >= 0)
      close(s);
    return;
  }
  if (send(s, &req, sizeof(req), 0) == (ssize_t) sizeof(req))
    recv(s, ack, sizeof(ack), 0);  /* the kernel answers at once: the ack or an error, either ends it */
  close(s);
}

static int open_tap(const char *name) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return -1;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int saved = errno;
    close(fd);
    return errno = saved, -1;
  }
  /* Checksums and TCP segmentation left to us (offload.c); not UDP's (UFO, USO): never advertised,
   * refused if they come. Best effort: without it the kernel sends whole frames, which pass. */
  ioctl(fd, TUNSETOFFLOAD, (unsigned long) (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
  set_txqueuelen(name);  /* best effort: the default queue still works */
  return fd;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void to_vde(void *ctx, const uint8_t *data, size_t len) {
  vde_send(((struct iface *) ctx)->conn, data, len, 0);
}

/* Tap -> VNL until the tap has nothing more (or BATCH frames). Returns the frames moved. */
static int from_tap(struct iface *f) {
  int moved = 0;
  while (moved < BATCH) {
    ssize_t n = read(f->tap, tapframe, sizeof(tapframe));
    if (n <= 0)
      break;  /* EAGAIN: drained */
    offload_from_tap(tapframe, (size_t) n, f->mtu, to_vde, f);
    moved++;
  }
  return moved;
}

/* VNL -> tap likewise. A module's vde_recv may block when nothing is there (vxvde's waits on epoll
 * with no timeout), so it is called only while the data descriptor polls readable. */
static int from_vde(struct iface *f) {
  int moved = 0;
  while (moved < BATCH) {
    if (moved > 0) {
      struct pollfd p = {f->datafd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
        break;
    }
    ssize_t n = vde_recv(f->conn, frame, sizeof(frame), 0);
    if (n < 0)
      break;
    if (n >= 14)  /* shorter: not an Ethernet frame (or a module's own control message) */
      gro_push(&f->gro, frame, (size_t) n, gro_enabled);
    moved++;
  }
  gro_flush(&f->gro);
  return moved;
}

static int tap_mtu(int ifindex) {
  char name[IF_NAMESIZE];
  struct ifreq ifr;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 0;
  memset(&ifr, 0, sizeof(ifr));
  if (s >= 0 && if_indextoname((unsigned) ifindex, name) != NULL) {
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
      mtu = ifr.ifr_mtu;
  }
  if (s >= 0)
    close(s);
  return mtu;  /* 0: unknown, segments then keep the kernel's MSS */
}

/* The namespace's link events: a tap's MTU may change at any time (ip link, the stack's config). */
static int link_events(void) {
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (s >= 0 && bind(s, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
    close(s);
    return -1;
  }
  return s;
}

static void link_changed(int s) {
  static char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
  ssize_t n;
  while ((n = recv(s, buf, sizeof(buf), 0)) != 0) {
    if (n < 0) {
      if (errno == ENOBUFS)  /* events lost: ask again */
        for (int i = 0; i < nifaces; i++)
          ifaces[i].mtu = tap_mtu(ifaces[i].ifindex);
      if (errno == EINTR || errno == ENOBUFS)
        continue;
      return;  /* EAGAIN: all read */
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        continue;
      struct ifinfomsg *ifi = NLMSG_DATA(h);
      int len = (int) IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= sizeof(uint32_t))
          for (int i = 0; i < nifaces; i++)
            if (ifaces[i].ifindex == ifi->ifi_index)
              memcpy(&ifaces[i].mtu, RTA_DATA(a), sizeof(int));
    }
  }
}

/* A socket in the namespace for the plugin (when it cannot make it there itself). */
static void serve_request(void) {
  struct vdebridge_request req;
  ssize_t n = recv(VDEBRIDGE_CMD_FD, &req, sizeof(req), 0);
  if (n == (ssize_t) sizeof(req)) {
    int fd = socket(req.domain, req.type | SOCK_CLOEXEC, req.protocol);
    if (fd < 0)
      reply(-1, errno, -1, -1);
    else {
      reply(0, 0, -1, fd);
      close(fd);
    }
  } else if (n > 0)
    reply(-1, EINVAL, -1, -1);
}

static int cmd_eof(void) {
  char c;
  ssize_t n = recv(VDEBRIDGE_CMD_FD, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

static void drop_iface(int ep, struct iface *f) {
  epoll_ctl(ep, EPOLL_CTL_DEL, f->tap, NULL);
  epoll_ctl(ep, EPOLL_CTL_DEL, f->datafd, NULL);
  f->datafd = -1;
}

static void bridge(int ep) {
  struct epoll_event events[2 * VDEBRIDGE_MAX_IFACES + 1];
  long deadline = -1;  /* once the command socket reached EOF: when the helper ends at the latest */
  for (;;) {
    int timeout = -1;
    if (deadline >= 0) {
      long left = deadline - now_ms();
      if (left <= 0)
        return;
      timeout = left < QUIET_MS ? (int) left : QUIET_MS;
    }
    int n = epoll_wait(ep, events, 2 * VDEBRIDGE_MAX_IFACES + 1, timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;  /* quiet since the EOF (or epoll failed): done */
    for (int i = 0; i < n; i++) {
      uint32_t tag = events[i].data.u32 >> 16, index = events[i].data.u32 & 0xffff;
      struct iface *f = &ifaces[index];
      if (tag == TAG_LINK) {
        link_changed((int) index);
      } else if (tag == TAG_PARENT) {
        if (deadline < 0)
          deadline = now_ms() + DRAIN_MS;
        epoll_ctl(ep, EPOLL_CTL_DEL, events[i].data.u32 & 0xffff, NULL);
      } else if (tag == TAG_CMD) {
        if (events[i].events & EPOLLIN)
          serve_request();
        if (deadline < 0 && (events[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) && cmd_eof()) {
          epoll_ctl(ep, EPOLL_CTL_DEL, VDEBRIDGE_CMD_FD, NULL);
          deadline = now_ms() + DRAIN_MS;
        }
      } else if (f->datafd < 0) {
        continue;
      } else if (tag == TAG_TAP) {
        from_tap(f);
      } else if (events[i].events & EPOLLIN) {
        from_vde(f);
      } else {  /* EPOLLHUP/EPOLLERR alone: the VDE connection is gone (a switch ended) */
        drop_iface(ep, f);
      }
    }
  }
}

int main(int argc, char *argv[]) {
  signal(SIGPIPE, SIG_IGN);
  /* Keyboard signals reach the whole process group: the helper leaves its end to its process
   * (the EOF), so that a process that handles Ctrl-C can still close its stacks cleanly. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (fcntl(VDEBRIDGE_CMD_FD, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "%s: run by the vdebridge libioth plugin only (descriptor 3 is its command socket)\n", argv[0]);
    return 2;
  }
  if (argc < 2 || argc % 2 != 0 || (argc - 2) / 2 > VDEBRIDGE_MAX_IFACES) {
    errno = EINVAL;
    fail(-1);
  }
  nifaces = (argc - 2) / 2;
  /* Watched from here on; if the process already ended, we are some other process's child now. */
  pid_t parent = (pid_t) atoi(argv[1]);
  int parentfd = (int) syscall(SYS_pidfd_open, parent, 0);
  if (getppid() != parent)
    _exit(0);
  own_user_namespace();
  for (int i = 0; i < nifaces; i++) {
    ifaces[i].conn = vde_open(argv[3 + 2 * i], "iothts vdebridge", NULL);
    if (ifaces[i].conn == NULL)
      fail(i);
    ifaces[i].datafd = vde_datafd(ifaces[i].conn);
    large_buffers(ifaces[i].datafd);
  }
  /* Only this thread moves: the threads a module may have started stay in the caller's network
   * namespace, where their VNL is (a slirp:// connects from there). */
  if (unshare(CLONE_NEWNET) < 0)
    fail(-1);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    fail(-1);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = TAG_CMD << 16};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, VDEBRIDGE_CMD_FD, &ev) < 0)
    fail(-1);
  if (parentfd >= 0) {  /* pidfd_open needs Linux 5.3: without it, the EOF alone */
    ev.events = EPOLLIN;
    ev.data.u32 = (TAG_PARENT << 16) | (uint32_t) parentfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, parentfd, &ev);
  }
  const char *gro = getenv("IOTHTS_VDEBRIDGE_GRO");
  gro_enabled = gro == NULL || strcmp(gro, "0") != 0;
  int links = link_events();  /* before the taps: no MTU change is missed */
  if (links >= 0) {
    ev.events = EPOLLIN;
    ev.data.u32 = (TAG_LINK << 16) | (uint32_t) links;
    epoll_ctl(ep, EPOLL_CTL_ADD, links, &ev);
  }
  for (int i = 0; i < nifaces; i++) {
    if ((ifaces[i].tap = open_tap(argv[2 + 2 * i])) < 0)
      fail(i);
    ifaces[i].gro.tap = ifaces[i].tap;
    ifaces[i].ifindex = (int) if_nametoindex(argv[2 + 2 * i]);
    ifaces[i].mtu = tap_mtu(ifaces[i].ifindex);
    ev.events = EPOLLIN;
    ev.data.u32 = (TAG_TAP << 16) | (uint32_t) i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ifaces[i].tap, &ev) < 0)
      fail(i);
    ev.data.u32 = (TAG_VDE << 16) | (uint32_t) i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ifaces[i].datafd, &ev) < 0)
      fail(i);
  }
  reply(0, 0, -1, -1);
  bridge(ep);
  for (int i = 0; i < nifaces; i++) {
    close(ifaces[i].tap);
    vde_close(ifaces[i].conn);  /* vxvde says goodbye to its peers */
  }
  return 0;
}
