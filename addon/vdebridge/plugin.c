/* ioth_vdebridge: a libioth plugin with vdestack's model (the Linux stack in a user+network
 * namespace of its own, a tap per VNL bridged to it through libvdeplug) and a bridge of iothts's:
 * a small helper process (helper.c) started with posix_spawn, ending at EOF on its command socket.
 * Any libioth program can load it: ioth_newstack("vdebridge", vnl) with this file in
 * $HOME/.ioth/ (the helper beside it). Its sockets are kernel sockets of the stack's namespace:
 * made there by this thread itself (setns) where the process may enter it, otherwise by the
 * helper and passed over (SCM_RIGHTS). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ioth.h>
#include "protocol.h"
#include "../c/scm_rights.h"

const char *ioth_vdebridge_license = "SPDX-License-Identifier: LGPL-2.1-or-later";

/* How long the helper may take to open its VNLs and taps (a slirp:// or a remote switch may take
 * a while; a helper that never answers is killed). */
#define START_TIMEOUT_MS 10000

extern char **environ;

struct vdebridge {
  pid_t helper;
  int cmd;       /* our end of the command socket */
  int netns;     /* the helper's network namespace, for setns (-1: could not be opened) */
  int refused;   /* setns into it was refused once: the helper makes the sockets */
  pthread_mutex_t lock;  /* one request/reply at a time on cmd */
};

static typeof(getstackdata_prototype) *getstackdata;

/* HOME as the program has it, while a loader (iothts's addon) points HOME at this plugin's
 * directory for libioth to find it: the helper gets the program's own (libvdeplug reads it). */
static int home_given;
static char *given_home;

void iothts_vdebridge_program_home(int given, const char *home) {
  free(given_home);
  given_home = given && home ? strdup(home) : NULL;
  home_given = given;
}

/* The environment for the helper: ours, with the program's HOME when a loader lent HOME. */
static char **helper_environment(void) {
  if (!home_given)
    return environ;
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof(char *)), **out = env;
  if (env == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "HOME=", 5) != 0)
      *out++ = environ[i];
  if (given_home && asprintf(out, "HOME=%s", given_home) < 0)
    *out = NULL;
  return env;
}

static void free_environment(char **env) {
  if (env == environ || env == NULL)
    return;
  char **e = env;
  while (*e)
    e++;
  if (e > env && strncmp(e[-1], "HOME=", 5) == 0)
    free(e[-1]);  /* the one string allocated above */
  free(env);
}

/* The helper executable, beside this library. */
static int helper_path(char *buf, size_t size) {
  Dl_info info;
  char self[PATH_MAX];
  if (dladdr((void *) helper_path, &info) == 0 || info.dli_fname == NULL)
    return errno = ENOENT, -1;
  snprintf(self, sizeof(self), "%s", info.dli_fname);
  if ((size_t) snprintf(buf, size, "%s/" VDEBRIDGE_HELPER, dirname(self)) >= size)
    return errno = ENAMETOOLONG, -1;
  return 0;
}

/* "name:vnl" names the interface (a colon before any "://"); otherwise vde0, vde1, ... */
static int split_vnl(const char *spec, int index, char *ifname, const char **vnl) {
  const char *scheme = strstr(spec, "://"), *colon = strchr(spec, ':');
  if (colon && (!scheme || colon < scheme)) {
    size_t len = colon - spec;
    if (len == 0 || len >= IFNAMSIZ)
      return errno = EINVAL, -1;
    memcpy(ifname, spec, len);
    ifname[len] = 0;
    *vnl = colon + 1;
  } else {
    snprintf(ifname, IFNAMSIZ, "vde%d", index);
    *vnl = spec;
  }
  return 0;
}

static void reap(pid_t pid) {
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static void *reaper(void *arg) {
  reap((pid_t) (intptr_t) arg);
  return NULL;
}

/* The helper's first message: 0 once its interfaces are up, else its errno. */
static int await_start(int cmd, pid_t pid) {
  struct vdebridge_reply r;
  struct pollfd p = {cmd, POLLIN, 0};
  int ready;
  while ((ready = poll(&p, 1, START_TIMEOUT_MS)) < 0 && errno == EINTR)
    ;
  ssize_t n = ready > 0 ? recv(cmd, &r, sizeof(r), 0) : -1;
  if (n == (ssize_t) sizeof(r) && r.rval == 0)
    return 0;
  int err = n == (ssize_t) sizeof(r) ? r.err : ready == 0 ? ETIMEDOUT : ECHILD;
  if (n != (ssize_t) sizeof(r))
    kill(pid, SIGKILL);  /* still our unreaped child: the pid is its own */
  reap(pid);
  return errno = err ? err : EIO, -1;
}

static struct vdebridge *start(const char *vnlv[]) {
  int count = 0;
  while (vnlv && vnlv[count])
    count++;
  if (count > VDEBRIDGE_MAX_IFACES)
    return errno = E2BIG, NULL;
  char path[PATH_MAX], ifnames[VDEBRIDGE_MAX_IFACES][IFNAMSIZ];
  char *argv[3 + 2 * VDEBRIDGE_MAX_IFACES], parent[16];
  if (helper_path(path, sizeof(path)) < 0)
    return NULL;
  snprintf(parent, sizeof(parent), "%d", (int) getpid());
  argv[0] = path;
  argv[1] = parent;
  for (int i = 0; i < count; i++) {
    const char *vnl;
    if (split_vnl(vnlv[i], i, ifnames[i], &vnl) < 0)
      return NULL;
    argv[2 + 2 * i] = ifnames[i];
    argv[3 + 2 * i] = (char *) vnl;
  }
  argv[2 + 2 * count] = NULL;

  struct vdebridge *st = calloc(1, sizeof(*st));
  int sv[2];
  if (st == NULL)
    return NULL;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    int saved = errno;
    free(st);
    return errno = saved, NULL;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none;
  sigemptyset(&none);
  posix_spawn_file_actions_init(&actions);
  /* dup2 clears close-on-exec on the copy (glibc does so even when sv[1] already is 3). */
  posix_spawn_file_actions_adddup2(&actions, sv[1], VDEBRIDGE_CMD_FD);
  /* Not the program's stdin and stdout: a pipe to them would stay open while the helper drains.
   * stderr is kept for what the helper has to say. */
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  char **env = helper_environment();
  int err = env ? posix_spawn(&st->helper, path, &actions, &attr, argv, env) : ENOMEM;
  free_environment(env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    free(st);
    return errno = err, NULL;
  }
  st->cmd = sv[0];
  if (await_start(st->cmd, st->helper) < 0) {
    int saved = errno;
    close(st->cmd);
    free(st);
    return errno = saved, NULL;
  }
  char ns[64];
  snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int) st->helper);
  st->netns = open(ns, O_RDONLY | O_CLOEXEC);
  pthread_mutex_init(&st->lock, NULL);
  return st;
}

void *ioth_vdebridge_newstack(const char *vnlv[], const char *options, struct ioth_functions *f) {
  if (options && *options)  /* none defined yet: a typo must not pass unnoticed */
    return errno = EINVAL, NULL;
  struct vdebridge *st = start(vnlv);
  if (st == NULL)
    return NULL;
  getstackdata = f->getstackdata;
  f->close = close;
  f->bind = bind;
  f->connect = connect;
  f->listen = listen;
  f->accept = accept;
  f->getsockname = getsockname;
  f->getpeername = getpeername;
  f->setsockopt = setsockopt;
  f->getsockopt = getsockopt;
  f->shutdown = shutdown;
  f->ioctl = ioctl;
  f->fcntl = fcntl;
  f->read = read;
  f->readv = readv;
  f->recv = recv;
  f->recvfrom = recvfrom;
  f->recvmsg = recvmsg;
  f->write = write;
  f->writev = writev;
  f->send = send;
  f->sendto = sendto;
  f->sendmsg = sendmsg;
  return st;
}

/* Closing the command socket ends the helper (it drains its taps first, ~100 ms at most); it is
 * reaped by a detached thread, so that deleting a stack does not wait for the kernel's teardown
 * of its tap and namespace (30-35 ms). */
int ioth_vdebridge_delstack(void *stackdata) {
  struct vdebridge *st = stackdata;
  close(st->cmd);
  if (st->netns >= 0)
    close(st->netns);
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, reaper, (void *) (intptr_t) st->helper) != 0)
    reap(st->helper);
  pthread_attr_destroy(&attr);
  pthread_mutex_destroy(&st->lock);
  free(st);
  return 0;
}

/* socket(2) in the stack's namespace by this thread: setns there and back. 0 when not allowed
 * (no CAP_SYS_ADMIN over both namespaces), and then never tried again for this stack. */
static int socket_here(struct vdebridge *st, int domain, int type, int protocol, int *fd) {
  int netns = st->netns;
  if (netns < 0 || __atomic_load_n(&st->refused, __ATOMIC_RELAXED))
    return 0;
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0)
    return 0;
  /* The way back is checked first (a no-op setns runs the same permission checks). */
  if (setns(home, CLONE_NEWNET) < 0 || setns(netns, CLONE_NEWNET) < 0) {
    if (errno == EPERM)
      __atomic_store_n(&st->refused, 1, __ATOMIC_RELAXED);
    close(home);
    return 0;
  }
  *fd = socket(domain, type, protocol);
  int saved = errno;
  if (setns(home, CLONE_NEWNET) < 0) {
    /* Going on in the stack's namespace would create every later socket of this thread there. */
    fprintf(stderr, "ioth_vdebridge: FATAL: cannot return to this thread's network namespace: %s\n", strerror(errno));
    abort();
  }
  close(home);
  errno = saved;
  return 1;
}

static int socket_from_helper(struct vdebridge *st, int domain, int type, int protocol) {
  struct vdebridge_request req = {domain, type, protocol};
  struct vdebridge_reply r;
  struct iothts_rights control;
  struct iovec iov = {&r, sizeof(r)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.u.buf,
      .msg_controllen = sizeof(control.u.buf)};
  ssize_t n;
  pthread_mutex_lock(&st->lock);
  if (send(st->cmd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t) sizeof(req)) {
    pthread_mutex_unlock(&st->lock);
    return -1;
  }
  while ((n = recvmsg(st->cmd, &msg, (type & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0)) < 0 && errno == EINTR)
    ;
  pthread_mutex_unlock(&st->lock);
  if (n != (ssize_t) sizeof(r))
    return errno = n < 0 ? errno : ECONNRESET, -1;
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      memcpy(&fd, CMSG_DATA(c), sizeof(int));
  if (r.rval < 0) {
    if (fd >= 0)
      close(fd);
    return errno = r.err, -1;
  }
  return fd >= 0 ? fd : (errno = EPROTO, -1);
}

int ioth_vdebridge_socket(int domain, int type, int protocol) {
  struct vdebridge *st = getstackdata();
  int fd;
  if (socket_here(st, domain, type, protocol, &fd))
    return fd;
  return socket_from_helper(st, domain, type, protocol);
}
