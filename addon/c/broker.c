/* The socket broker: children of a process share its stack through it (see broker.h).
 *
 * A stack's sockets can only be made by its owner process: through vdestack's helper (its
 * socketpair is in our fd table only) or by setns into the helper's network namespace, which needs
 * CAP_SYS_ADMIN. A child process asks the owner instead: it connects to the owner's abstract UNIX
 * socket, sends (domain, type, protocol), and receives the fd (SCM_RIGHTS) or an errno. The owner
 * answers on a thread of its own, never on the JS thread, so a child's request cannot deadlock
 * against a parent blocked in execSync/spawnSync of that very child. One request per connection,
 * one connection at a time: each answer is one socket(2) (microseconds); a silent client is cut
 * off after 1 s. Only processes of our effective uid are served (SO_PEERCRED; others get EACCES),
 * which could ptrace us anyway. The name is abstract, so it vanishes with the process: a child of a dead parent gets
 * ECONNREFUSED at once, never a hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../libioth_calls.h"
#include "broker.h"
#include "scm_rights.h"

#define MAGIC 0x696f7468u  /* "ioth" */

struct request {
  uint32_t magic;
  int32_t domain, type, protocol;
};

struct broker {
  struct ioth *stack;
  int netns, listen_fd, wake_fd;
  pthread_t thread;
  char name[IOTHTS_BROKER_NAME];
  struct broker *next;
};

static pthread_mutex_t brokers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct broker *brokers;

static socklen_t address(const char *name, struct sockaddr_un *sun) {
  memset(sun, 0, sizeof(*sun));
  sun->sun_family = AF_UNIX;
  size_t len = strnlen(name, IOTHTS_BROKER_NAME - 1);
  memcpy(sun->sun_path + 1, name, len);  /* sun_path[0] = 0: the abstract namespace */
  return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* Waits until fd is readable or the broker is stopped: 1 readable, 0 stop/timeout. */
static int wait_readable(struct broker *b, int fd, int timeout_ms) {
  struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = b->wake_fd, .events = POLLIN}};
  for (;;) {
    int n = poll(p, 2, timeout_ms);
    if (n < 0 && errno == EINTR)
      continue;
    return n > 0 && !p[1].revents && p[0].revents;
  }
}

static void answer(struct broker *b, int conn) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return;
  if (!wait_readable(b, conn, 1000))
    return;
  struct request req;
  if (recv(conn, &req, sizeof(req), MSG_DONTWAIT) != (ssize_t) sizeof(req) || req.magic != MAGIC)
    return;
  int fd = cred.uid != geteuid() ? (errno = EACCES, -1)  /* another user: told so, served nothing */
      : req.domain < 0 || req.domain > 255 || req.protocol < 0 ? (errno = EINVAL, -1)
      : iothts_socket(b->stack, b->netns, req.domain, req.type, req.protocol, NULL);
  int32_t err = fd < 0 ? errno : 0;
  struct iovec iov = {.iov_base = &err, .iov_len = sizeof(err)};
  struct iothts_rights control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  iothts_attach_fd(&msg, &control, fd);
  sendmsg(conn, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (fd >= 0)
    close(fd);  /* the child has its own reference now (or never will) */
}

static void *serve(void *arg) {
  struct broker *b = arg;
  while (wait_readable(b, b->listen_fd, -1)) {
    int conn = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
      continue;
    answer(b, conn);
    close(conn);
  }
  return NULL;
}

int iothts_broker_start(struct ioth *stack, int netns, char name[IOTHTS_BROKER_NAME]) {
  pthread_mutex_lock(&brokers_lock);
  for (struct broker *b = brokers; b; b = b->next)
    if (b->stack == stack) {
      memcpy(name, b->name, IOTHTS_BROKER_NAME);
      pthread_mutex_unlock(&brokers_lock);
      return 0;
    }
  struct broker *b = calloc(1, sizeof(*b));
  uint64_t nonce = 0;
  int err = 0;
  if (b == NULL) {
    err = ENOMEM;
    goto fail;
  }
  b->stack = stack;
  b->listen_fd = b->wake_fd = b->netns = -1;
  if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
    nonce = (uint64_t) (uintptr_t) b ^ (uint64_t) getpid() << 32;
  snprintf(b->name, sizeof(b->name), "iothts/%d/%016llx", (int) getpid(), (unsigned long long) nonce);
  struct sockaddr_un sun;
  socklen_t len = address(b->name, &sun);
  b->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  b->wake_fd = eventfd(0, EFD_CLOEXEC);
  if (netns >= 0)
    b->netns = fcntl(netns, F_DUPFD_CLOEXEC, 0);
  if (b->listen_fd < 0 || b->wake_fd < 0 || bind(b->listen_fd, (struct sockaddr *) &sun, len) < 0 ||
      listen(b->listen_fd, 64) < 0) {
    err = errno;
    goto fail;
  }
  /* The thread takes no signal: they stay Node's (SIGINT, SIGCHLD, ...). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = pthread_create(&b->thread, NULL, serve, b);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err)
    goto fail;
  b->next = brokers;
  brokers = b;
  memcpy(name, b->name, IOTHTS_BROKER_NAME);
  pthread_mutex_unlock(&brokers_lock);
  return 0;
fail:
  if (b) {
    if (b->listen_fd >= 0) close(b->listen_fd);
    if (b->wake_fd >= 0) close(b->wake_fd);
    if (b->netns >= 0) close(b->netns);
    free(b);
  }
  pthread_mutex_unlock(&brokers_lock);
  return errno = err, -1;
}

void iothts_broker_stop(struct ioth *stack) {
  pthread_mutex_lock(&brokers_lock);
  struct broker **link = &brokers, *b = NULL;
  for (; *link; link = &(*link)->next)
    if ((*link)->stack == stack) {
      b = *link;
      *link = b->next;
      break;
    }
  pthread_mutex_unlock(&brokers_lock);
  if (b == NULL)
    return;
  uint64_t one = 1;
  if (write(b->wake_fd, &one, sizeof(one)) < 0) { /* an eventfd write cannot fail here */ }
  pthread_join(b->thread, NULL);
  close(b->listen_fd);
  close(b->wake_fd);
  if (b->netns >= 0)
    close(b->netns);
  free(b);
}

int iothts_broker_socket(const char *name, int domain, int type, int protocol) {
  int conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (conn < 0)
    return -1;
  struct timeval timeout = {5, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  struct sockaddr_un sun;
  socklen_t len = address(name, &sun);
  struct request req = {MAGIC, domain, type, protocol};
  int32_t err = 0;
  struct iovec iov = {.iov_base = &err, .iov_len = sizeof(err)};
  struct iothts_rights control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.u.buf,
      .msg_controllen = sizeof(control.u.buf)};
  int fd = -1;
  ssize_t n;
  /* A connection queued on a broker that stops is reset (ECONNRESET, EPIPE), one in progress ends
   * without an answer (EOF): each means the broker is gone, as no broker at all does. */
  if (connect(conn, (struct sockaddr *) &sun, len) < 0) {
    err = errno == ENOENT ? ECONNREFUSED : errno;
  } else if (send(conn, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t) sizeof(req)) {
    err = errno == EAGAIN ? ETIMEDOUT : errno;
  } else if ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) != (ssize_t) sizeof(err)) {
    err = n < 0 ? (errno == EAGAIN ? ETIMEDOUT : errno) : ECONNREFUSED;
  } else {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (err == 0 && fd < 0)
      err = EPROTO;
    if (err != 0 && fd >= 0) {
      close(fd);
      fd = -1;
    }
  }
  close(conn);
  if (err == ECONNRESET || err == EPIPE)
    err = ECONNREFUSED;
  return err ? (errno = err, -1) : fd;
}
