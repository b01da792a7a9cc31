/* Stack lifecycle: creating a stack while noting what vdestack's helper brings with it (its pid,
 * its tap descriptors in the fd table it shares with us), and deleting it within a bound that the
 * TypeScript layer passes in: past it the helper is killed and those taps closed (see
 * iothts_delstack in libioth_calls.h). Also where libioth looks for its plugins. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <ioth.h>
#include "../libioth_calls.h"
#include "netns_socket.h"
#include "plugin_home.h"

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

static int is_vdestack(const char *plugin) {
  size_t n = strlen("vdestack");
  return strncmp(plugin, "vdestack", n) == 0 && (plugin[n] == 0 || plugin[n] == ',');
}

int iothts_newstack(struct iothts_stack *out, const char *plugin, const char **vnlv) {
  int before[256], after[256];
  memset(out, 0, sizeof(*out));
  out->netns = -1;
  int nbefore = thread_children(before, 256);
  int *fds_before, *fds_after;
  int nfds_before = open_fds(&fds_before);
  out->ioth = iothts_newstackv(plugin, vnlv);
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
  /* The helper is our child, not yet reaped: its pid cannot be another process's. vdebridge's
   * helper (posix_spawn'ed by this thread) lives in its stack's namespace like vdestack's; it has
   * its own fd table, so no tap of it is found above. */
  if (out->helper > 0 && (is_vdestack(plugin) || iothts_is_vdebridge(plugin)))
    out->netns = iothts_enterable_netns(out->helper);
  return 0;
}

static atomic_int process_ending;

void iothts_process_ending(void) {
  if (gettid() == getpid())  /* Node's main thread: the process, not a worker thread, is ending */
    atomic_store(&process_ending, 1);
}

/* At process end: the taps made persistent, so that the helper's close of each is a detach, not
 * an unregistration (unregister_netdevice, then RCU barriers: 15 to 35 ms here, BENCHMARKS.md).
 * The device goes with its network namespace instead, in the kernel's asynchronous cleanup_net,
 * once the last reference (the helper, our sockets there, the process's netns fd) is gone: within
 * this exit. A failed ioctl only leaves the slow way. */
static void persist_taps(const struct iothts_stack *stack) {
  struct stat st;
  for (int i = 0; i < stack->nfds; i++)
    if (fstat(stack->fds[i].fd, &st) == 0 && st.st_dev == stack->fds[i].dev && st.st_ino == stack->fds[i].ino)
      ioctl(stack->fds[i].fd, TUNSETPERSIST, 1);
}

/* Longest wait for the helper to take the frames already queued on its taps (it normally does
 * within microseconds; a helper that is not scheduled, or stopped, may take longer). */
#define BRIDGE_DRAIN_MS 100

/* Until vdestack's helper has read every frame queued on the stack's taps, at most BRIDGE_DRAIN_MS:
 * deleting the stack closes the helper's command pipe, and at the wake-up that sees it the helper
 * ends without reading its taps, so frames sent just before close() (a DHCP RELEASE, the RST
 * of a destroyed connection, a last datagram) would be lost. Also at the process's end. Run by the
 * deleting thread, inside the delete bound: the netlink socket it opens may need the helper (no
 * setns), and a helper that stopped answering is killed at the bound like for ioth_delstack. */
static void wait_bridge_drained(struct ioth *ioth, int netns) {
  struct timespec start, now, pause = {0, 1000000L};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    long backlog = iothts_bridge_backlog(ioth, netns);
    if (backlog <= 0)  /* drained, or the stack cannot tell: nothing to wait for */
      return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
    if (elapsed_ms >= BRIDGE_DRAIN_MS)
      return;
    nanosleep(&pause, NULL);
  }
}

struct delstack_job {
  struct ioth *ioth;
  int netns, drain;
  int rv, err;
};

static void *run_delstack(void *arg) {
  struct delstack_job *job = arg;
  if (job->drain) {
    wait_bridge_drained(job->ioth, job->netns);
    iothts_release_thread();  /* the fast path's cached fd of this thread's own namespace */
  }
  job->rv = ioth_delstack(job->ioth);
  job->err = errno;
  return NULL;
}

int iothts_delstack(struct iothts_stack *stack, unsigned int bound_ms) {
  struct delstack_job job = {stack->ioth, stack->netns, stack->helper > 0, -1, 0};
  if (atomic_load(&process_ending))
    persist_taps(stack);
  pthread_t thread;
  if (pthread_create(&thread, NULL, run_delstack, &job) != 0) {
    job.drain = 0;  /* on this thread, nothing may wait on the helper without a bound */
    run_delstack(&job);
  } else {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);  /* pthread_timedjoin_np's clock */
    deadline.tv_sec += bound_ms / 1000;
    deadline.tv_nsec += (long) (bound_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
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

int iothts_plugin_dir(char *buf, size_t size) {
  Dl_info info;
  if (dladdr((void *) ioth_newstackv, &info) == 0 || info.dli_fname == NULL)
    return errno = ENOENT, -1;
  char path[4096];
  snprintf(path, sizeof(path), "%s", info.dli_fname);
  snprintf(buf, size, "%s/ioth", dirname(path));
  return 0;
}
