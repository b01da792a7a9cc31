#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <signal.h>
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
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <ioth.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include "libioth_calls.h"

/* The children of the calling thread (clone() makes them children of the thread). */
static int thread_children(int *pids, int max) {
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int) gettid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  int count = 0;
  if (n > 0) {
    buf[n] = 0;
    for (char *p = strtok(buf, " \n"); p && count < max; p = strtok(NULL, " \n"))
      pids[count++] = atoi(p);
  }
  return count;
}

/* The open descriptors, ascending, in a malloc'ed array (*out; NULL when none could be listed).
 * getdents64 into a small stack buffer rather than opendir()'s 32 KiB heap buffer or a bitmap of
 * every fd number: right after a vdestack clone() every page of ours is copy-on-write shared with
 * the new helper, and each page written costs a fault and a TLB shootdown. This tracking used to
 * cost ~33 page faults per stack (bitmaps, opendir's buffer) and now ~3 (perf stat, BENCHMARKS.md). */
static int open_fds(int **out) {
  *out = NULL;
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return 0;
  int count = 0, cap = 0, *fds = NULL;
  char buf[2048];
  long n;
  while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
    for (long pos = 0; pos < n;) {
      struct linux_dirent64 { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e =
          (void *) (buf + pos);
      pos += e->reclen;
      if (e->name[0] < '0' || e->name[0] > '9')
        continue;
      int fd = atoi(e->name);
      if (fd == dir)
        continue;
      if (count == cap) {
        int *bigger = realloc(fds, (cap = cap ? 2 * cap : 256) * sizeof(int));
        if (bigger == NULL)
          break;
        fds = bigger;
      }
      if (count < cap)
        fds[count++] = fd;
    }
  }
  close(dir);
  /* procfs lists them in ascending order; make sure. */
  for (int i = 1; i < count; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t;
    }
  *out = fds;
  return count;
}

static int contains(const int *sorted, int count, int fd) {
  int lo = 0, hi = count;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (sorted[mid] < fd) lo = mid + 1; else hi = mid;
  }
  return lo < count && sorted[lo] == fd;
}

/* The helper's taps: /dev/net/tun descriptors (char 10:200) that appeared while the stack was
 * made. (Other new descriptors, sockets in particular, may belong to other stacks' helpers.) */
static int is_tap(const struct stat *st) {
  return S_ISCHR(st->st_mode) && major(st->st_rdev) == 10 && minor(st->st_rdev) == 200;
}

/* ---- The socket fast path: socket(2) inside the stack's network namespace ----
 * vdestack's sockets are kernel sockets that its helper creates inside the stack's network
 * namespace, on request over a socketpair (the helper shares our fd table, CLONE_FILES): a round
 * trip of two context switches, 50-65 us, for every socket. A thread of ours can do the same
 * socket(2) itself, after setns(2) into the helper's network namespace, then setns back: a few
 * microseconds. setns(CLONE_NEWNET) moves the calling thread only, and needs CAP_SYS_ADMIN both in
 * our own user namespace and in the one owning the target namespace (the helper's: a child of ours,
 * so the first implies the second). Without it (non-root, or a root without CAP_SYS_ADMIN) setns
 * fails with EPERM and sockets keep coming from the helper. */

/* The calling thread's own network namespace, opened at its first use (each Node environment has
 * its thread; the namespace of a thread never changes under iothts: nothing in Node calls setns). */
static __thread int home_fd = -1;
static __thread int home_state;  /* 0: not looked at yet, 1: home_fd usable, -1: may not return */

/* The fd of the calling thread's network namespace, or -1 if the thread could not come back to it
 * once it left: setns into the namespace the thread is already in changes nothing, but it runs the
 * same permission checks as the way back (CAP_SYS_ADMIN in our user namespace and in the one that
 * owns this network namespace, which a process in a user namespace of its own may lack). */
static int home_netns(void) {
  if (home_state == 0) {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return -1;  /* e.g. EMFILE: try again next time */
    if (setns(fd, CLONE_NEWNET) == 0) {
      home_fd = fd;
      home_state = 1;
    } else {
      int err = errno;
      close(fd);
      if (err == EPERM)
        home_state = -1;
      return -1;
    }
  }
  return home_state == 1 ? home_fd : -1;
}

void iothts_release_thread(void) {
  if (home_fd >= 0)
    close(home_fd);
  home_fd = -1;
  home_state = 0;
}

/* Back to the thread's own namespace, or abort. This cannot fail in practice: home is an open fd
 * of that namespace (it cannot vanish), home_netns() checked that this thread may enter it, the
 * setns that left it just succeeded with the same credentials (a setns into a network namespace
 * changes no credential and no user namespace, and a multithreaded process like Node can never
 * change its user namespace), and the one allocation it makes (an nsproxy) is a small GFP_KERNEL
 * one, which the kernel retries rather than fails. Were it to fail anyway, this thread (Node's
 * event loop) would go on creating every socket, host ones included, in a virtual stack's
 * namespace: a silent and dangerous leak; stopping loudly is the only safe answer. */
static void return_home(int home) {
  if (setns(home, CLONE_NEWNET) < 0) {
    fprintf(stderr, "iothts: FATAL: cannot return this thread to its own network namespace after "
        "creating a socket in a stack's (setns: %s); aborting rather than going on in the wrong "
        "namespace\n", strerror(errno));
    abort();
  }
}

static int is_vdestack(const char *plugin) {
  size_t n = strlen("vdestack");
  return strncmp(plugin, "vdestack", n) == 0 && (plugin[n] == 0 || plugin[n] == ',');
}

/* The helper's network namespace, if this thread may enter it and come back (tried once, here):
 * else -1, and the stack's sockets come from the helper. */
static int enterable_netns(int helper) {
  int home = home_netns();
  if (home < 0)
    return -1;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", helper);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat ours, theirs;
  if (fstat(home, &ours) < 0 || fstat(fd, &theirs) < 0 ||
      (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) ||  /* not a namespace of its own */
      setns(fd, CLONE_NEWNET) < 0) {
    close(fd);
    return -1;
  }
  return_home(home);
  return fd;
}

int iothts_newstack(struct iothts_stack *out, const char *plugin, const char **vnlv) {
  int before[256], after[256];
  memset(out, 0, sizeof(*out));
  out->netns = -1;
  int nbefore = thread_children(before, 256);
  int *fds_before, *fds_after;
  int nfds_before = open_fds(&fds_before);
  out->ioth = ioth_newstackv(plugin, vnlv);
  if (out->ioth == NULL) {
    int saved = errno;
    free(fds_before);
    return errno = saved, -1;
  }
  int nafter = thread_children(after, 256);
  for (int i = 0; i < nafter && out->helper == 0; i++) {
    int known = 0;
    for (int j = 0; j < nbefore; j++)
      known |= after[i] == before[j];
    if (!known)
      out->helper = after[i];
  }
  /* The helper opens its taps before it serves its first request: one socket round trip later,
   * they are in the fd table. */
  int fd = ioth_msocket(out->ioth, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0)
    ioth_close(fd);
  int nfds_after = open_fds(&fds_after);
  struct stat st;
  for (int i = 0; i < nfds_after && out->nfds < 64; i++) {
    int cand = fds_after[i];
    if (!contains(fds_before, nfds_before, cand) && fstat(cand, &st) == 0 && is_tap(&st)) {
      out->fds[out->nfds].fd = cand;
      out->fds[out->nfds].dev = st.st_dev;
      out->fds[out->nfds].ino = st.st_ino;
      out->nfds++;
    }
  }
  free(fds_before);
  free(fds_after);
  /* The helper is our child, not yet reaped: its pid cannot be another process's. */
  if (out->helper > 0 && is_vdestack(plugin))
    out->netns = enterable_netns(out->helper);
  return 0;
}

struct delstack_job {
  struct ioth *ioth;
  int rv, err;
};

static void *run_delstack(void *arg) {
  struct delstack_job *job = arg;
  job->rv = ioth_delstack(job->ioth);
  job->err = errno;
  return NULL;
}

int iothts_delstack(struct iothts_stack *stack) {
  struct delstack_job job = {stack->ioth, -1, 0};
  pthread_t thread;
  if (pthread_create(&thread, NULL, run_delstack, &job) != 0) {
    run_delstack(&job);
  } else {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    if (pthread_timedjoin_np(thread, NULL, &deadline) != 0) {
      /* The helper is stuck (see the header): end it, still our unreaped child, so the pid is
       * its own; then close the taps it would have closed on its way out. */
      if (stack->helper > 0)
        kill(stack->helper, SIGKILL);
      pthread_join(thread, NULL);
      struct stat st;
      for (int i = 0; i < stack->nfds; i++)
        if (fstat(stack->fds[i].fd, &st) == 0 && st.st_dev == stack->fds[i].dev && st.st_ino == stack->fds[i].ino)
          close(stack->fds[i].fd);
    }
  }
  if (job.rv == 0) {
    stack->ioth = NULL;
    if (stack->netns >= 0)
      close(stack->netns);
    stack->netns = -1;
  }
  errno = job.err;
  return job.rv;
}

int iothts_socket_fastpath(int netns) {
  return netns >= 0 && home_netns() >= 0;
}

int iothts_socket(struct ioth *stack, int netns, int domain, int type, int protocol, int *via) {
  if (via)
    *via = 0;
  if (netns >= 0) {
    int home = home_netns();
    /* One synchronous call: no JS, no other work of this thread runs between the two setns. */
    if (home >= 0 && setns(netns, CLONE_NEWNET) == 0) {
      int fd = socket(domain, type, protocol);
      int saved = errno;
      return_home(home);
      if (via)
        *via = 1;
      errno = saved;
      return fd;
    }
    /* refused (capabilities dropped since the stack was made?): the helper still can */
  }
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

int iothts_iplink_add(struct ioth *stack, const char *ifname, unsigned int ifindex,
    const char *type, const char *data) {
  return ioth_iplink_add(stack, ifname, ifindex, type, data);
}

int iothts_iplink_del(struct ioth *stack, const char *ifname, unsigned int ifindex) {
  return ioth_iplink_del(stack, ifname, ifindex);
}

/* Sends one dump request on a netlink socket and calls visit() for every reply message up to
 * NLMSG_DONE; an NLMSG_ERROR ends it with that error. Returns 0, or -1 with errno set. */
static int nl_dump(int fd, const void *req, size_t reqlen,
    int (*visit)(const struct nlmsghdr *h, void *arg), void *arg) {
  size_t cap = 262144;  /* more than a dump part ever holds: the kernel would truncate, not split */
  char *buf = malloc(cap);
  if (buf == NULL)
    return errno = ENOMEM, -1;
  int done = 0, err = 0;
  if (ioth_send(fd, req, reqlen, 0) < 0)
    err = errno;
  while (!done && !err) {
    ssize_t n = ioth_recv(fd, buf, cap, 0);
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
  int fd = nl_socket(stack, NETLINK_ROUTE);
  if (fd < 0)
    return -1;
  struct collected c = {NULL, 0, 0};
  int rv = nl_dump(fd, &req, sizeof(req), collect, &c);
  int saved = errno;
  ioth_close(fd);
  if (rv < 0) {
    free(c.buf);
    return errno = saved, -1;
  }
  *out = c.buf;
  return (long) c.len;
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
    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = i + 1;
    req.r.sdiag_family = families[i];
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0U;  /* every state */
    rv = nl_dump(fd, &req, sizeof(req), count_tcp, out);
  }
  int saved = errno;
  ioth_close(fd);
  errno = saved;
  return rv;
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
