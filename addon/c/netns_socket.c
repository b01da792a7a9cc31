/* Stack sockets as plain kernel descriptors: the setns fast path, else libioth's ioth_msocket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ioth.h>
#include "../libioth_calls.h"
#include "netns_socket.h"

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

/* See netns_socket.h. */
int iothts_enterable_netns(int helper) {
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
