// The receive path of udp_receiver.h. One poller thread (epoll, one-shot) watches every receiving
// socket, on a descriptor of its own (a dup: the handle's may close or be reused meanwhile); a
// ready socket is handed to its thread-safe function, whose call on the loop's thread reads ONE
// datagram (recvmsg) and calls JavaScript with it, then asks for itself again: so each datagram
// gets its own callback scope (ticks and microtasks run between them, as after each MakeCallback of
// Node's), at most 32 per readiness (libuv's uv__udp_recvmsg), then the socket is re-armed. Reading
// on the loop's thread keeps the kernel's buffer the only queue, as with libuv: nothing piles up
// here, a full receive buffer drops as natively. The thread-safe function is the loop's liveness:
// ref'd while receiving from a ref'd handle, unref'd otherwise.
#include "udp_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "args.h"

namespace iothts {

namespace {

// Datagrams delivered per readiness before the socket waits for the poller again (libuv's 32).
constexpr int kBatch = 32;
// Node's receive buffer (UV__UDP_DGRAM_MAXSIZE): every UDP payload fits.
constexpr size_t kBufSize = 64 * 1024;

struct Receiver {
  uint32_t id;
  napi_env env;
  int fd;  // our dup of the handle's socket
  napi_threadsafe_function tsfn;
  // Only the loop's thread of `env` touches these.
  bool receiving = false;
  bool registered = false;  // in the epoll set
  bool refd = true;         // a new thread-safe function is ref'd
  bool closed = false;
  int batch = 0;
};

// Guards `receivers` and the poller's creation; the poller calls a thread-safe function only
// under it, while its receiver is in the table (close and finalize take it out first).
std::mutex mu;
std::unordered_map<uint32_t, Receiver *> receivers;
uint32_t last_id = 0;
int epfd = -1;

void Poll() {
  // Signals go to Node's threads, never to this one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epfd, events, 64, -1);
    if (n < 0) continue;  // EINTR (nothing else can fail on a valid epoll descriptor)
    std::lock_guard<std::mutex> lock(mu);
    for (int i = 0; i < n; i++) {
      auto it = receivers.find(events[i].data.u32);
      if (it != receivers.end()) napi_call_threadsafe_function(it->second->tsfn, nullptr, napi_tsfn_nonblocking);
    }
  }
}

// Makes the poller's epoll set and thread once per process. Called under `mu`; returns an errno.
int StartPoller() {
  if (epfd >= 0) return 0;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return errno;
  epfd = fd;
  try {
    std::thread(Poll).detach();
  } catch (...) {
    close(fd);
    epfd = -1;
    return EAGAIN;
  }
  return 0;
}

// Waits for the next datagram: one-shot, so the poller hands the socket over once. Returns an errno.
int Arm(Receiver *r) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u32 = r->id;
  if (epoll_ctl(epfd, r->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, r->fd, &ev) < 0) return errno;
  r->registered = true;
  return 0;
}

void Disarm(Receiver *r) {
  if (r->registered) epoll_ctl(epfd, EPOLL_CTL_DEL, r->fd, nullptr);
  r->registered = false;
}

// Takes a receiver out of the table (the poller can no longer reach it) and closes its descriptor.
void Retire(Receiver *r) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (receivers.erase(r->id) == 0) return;
    Disarm(r);
  }
  close(r->fd);
  r->closed = true;
}

// The sender as Node's AddressToJS writes it: a link-local address's zone named (if_indextoname's
// SIOCGIFNAME) on the socket's own namespace, the stack's. Returns 0 or the errno of the naming.
int SenderText(int fd, const sockaddr_storage &ss, char *text, size_t size, int *family, int *port) {
  if (ss.ss_family != AF_INET6) {
    auto *sa = reinterpret_cast<const sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &sa->sin_addr, text, size);
    *family = 4;
    *port = ntohs(sa->sin_port);
    return 0;
  }
  auto *sa = reinterpret_cast<const sockaddr_in6 *>(&ss);
  inet_ntop(AF_INET6, &sa->sin6_addr, text, size);
  *family = 6;
  *port = ntohs(sa->sin6_port);
  if (!IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr) || sa->sin6_scope_id == 0) return 0;
  ifreq ifr{};
  ifr.ifr_ifindex = static_cast<int>(sa->sin6_scope_id);
  if (ioctl(fd, SIOCGIFNAME, &ifr) < 0) return errno == ENODEV || errno == 0 ? ENXIO : errno;  // as glibc's
  size_t len = strlen(text);
  snprintf(text + len, size - len, "%%%s", ifr.ifr_name);
  return 0;
}

// A JavaScript exception thrown by the callback is the process's uncaught exception, as a throw
// from a 'message' listener is natively.
void Call(napi_env env, napi_value cb, size_t argc, const napi_value *argv) {
  napi_value undefined, result;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, cb, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
}

napi_value Int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

// The thread-safe function's call: one datagram (or one error) to JavaScript as
// callback(nread, buffer, address, family, port); address is a negative errno when the sender's
// zone could not be named, and nread alone a failed read.
void CallJs(napi_env env, napi_value cb, void *context, void *) {
  if (env == nullptr) return;  // queued calls of a closed receiver
  auto *r = static_cast<Receiver *>(context);
  if (r->closed || !r->receiving) return;
  static thread_local std::vector<uint8_t> buf(kBufSize);
  sockaddr_storage ss{};
  iovec iov{buf.data(), buf.size()};
  msghdr h{};
  h.msg_name = &ss;
  h.msg_namelen = sizeof(ss);
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  ssize_t n;
  do n = recvmsg(r->fd, &h, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
    r->batch = 0;
    err = Arm(r);
    if (err == 0) return;
  }
  if (err != 0) {
    napi_value argv[] = {Int(env, -err)};
    Call(env, cb, 1, argv);
  } else {
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = "";
    int family = 0, port = 0;
    int zone_err = SenderText(r->fd, ss, text, sizeof(text), &family, &port);
    napi_value argv[5];
    argv[0] = Int(env, n);
    void *unused;
    napi_create_buffer_copy(env, static_cast<size_t>(n), buf.data(), &unused, &argv[1]);
    if (zone_err) argv[2] = Int(env, -zone_err);
    else napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &argv[2]);
    argv[3] = Int(env, family);
    argv[4] = Int(env, port);
    Call(env, cb, 5, argv);
  }
  if (r->closed || !r->receiving) return;
  if (err == 0 && ++r->batch < kBatch) {
    napi_call_threadsafe_function(r->tsfn, nullptr, napi_tsfn_nonblocking);
    return;
  }
  r->batch = 0;
  int arm_err = Arm(r);
  if (arm_err != 0) {
    napi_value argv[] = {Int(env, -arm_err)};
    Call(env, cb, 1, argv);
  }
}

// Runs when the thread-safe function goes: after close, or at the environment's teardown (a socket
// never closed: its receiver is still in the table).
void Finalize(napi_env, void *data, void *) {
  auto *r = static_cast<Receiver *>(data);
  Retire(r);
  delete r;
}

// The receiver of id argument i, of this environment and still open.
Receiver *Find(const Args &a, size_t i) {
  uint32_t id = a.Uint(i, 1, 0xffffffff);
  std::lock_guard<std::mutex> lock(mu);
  auto it = receivers.find(id);
  if (it == receivers.end() || it->second->env != static_cast<napi_env>(a.info.Env())) {
    throw ArgError(a.info.Env(), false, "ERR_INVALID_ARG_VALUE", a.Where(i) + " is not an open UDP receiver");
  }
  return it->second;
}

}  // namespace

// udpReceiverOpen(fd, callback, resource: object) -> id: a receiver for UDP socket fd (not yet
// receiving, not keeping the loop alive). callback as CallJs says; resource is the async resource.
Napi::Value JS_UdpReceiverOpen(const Napi::CallbackInfo &info) {
  Args a{info, "udpReceiverOpen"};
  a.Count(3);
  Napi::Env env = info.Env();
  int fd = static_cast<int>(a.Uint(0, 0, 0x7fffffff));
  if (!info[1].IsFunction())
    throw ArgError(env, false, "ERR_INVALID_ARG_TYPE", a.Where(1) + " must be a function");
  if (!info[2].IsObject()) throw ArgError(env, false, "ERR_INVALID_ARG_TYPE", a.Where(2) + " must be an object");
  struct stat st;
  Check(env, "recvmsg", [&] { return fstat(fd, &st); }, EBADF);
  int type = 0;
  socklen_t len = sizeof(type);
  if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM)
    throw ErrnoError(env, ENOTSOCK, "recvmsg");
  {
    std::lock_guard<std::mutex> lock(mu);
    int err = StartPoller();
    if (err != 0) throw ErrnoError(env, err, "epoll_create1");
  }
  int own = Check(env, "dup", [&] { return fcntl(fd, F_DUPFD_CLOEXEC, 0); });
  auto *r = new Receiver{};
  r->env = env;
  r->fd = own;
  napi_value name;
  napi_create_string_latin1(env, "IOTHTS_UDP_RECEIVE", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, info[1], info[2], name, 0, 1, r, Finalize, r, CallJs, &r->tsfn) != napi_ok) {
    close(own);
    delete r;
    throw ErrnoError(env, ENOMEM, "napi_create_threadsafe_function");
  }
  // From here the thread-safe function owns the receiver: Finalize frees it.
  {
    std::lock_guard<std::mutex> lock(mu);
    do r->id = ++last_id;
    while (r->id == 0 || receivers.count(r->id));
    receivers[r->id] = r;
  }
  napi_unref_threadsafe_function(env, r->tsfn);
  r->refd = false;
  return Napi::Number::New(env, r->id);
}

// udpReceiverSet(id, receiving: boolean, ref: boolean): starts or stops reading; the loop stays
// alive while the receiver reads for a ref'd handle.
Napi::Value JS_UdpReceiverSet(const Napi::CallbackInfo &info) {
  Args a{info, "udpReceiverSet"};
  a.Count(3);
  bool receiving = a.Bool(1);
  bool ref = a.Bool(2);
  Receiver *r = Find(a, 0);
  Napi::Env env = info.Env();
  if (receiving && !r->receiving) {
    r->batch = 0;
    int err = Arm(r);
    if (err != 0) throw ErrnoError(env, err, "epoll_ctl");
    r->receiving = true;
  } else if (!receiving && r->receiving) {
    r->receiving = false;
    Disarm(r);
  }
  bool keep = r->receiving && ref;
  if (keep != r->refd) {
    if (keep) napi_ref_threadsafe_function(env, r->tsfn);
    else napi_unref_threadsafe_function(env, r->tsfn);
    r->refd = keep;
  }
  return env.Undefined();
}

// udpReceiverClose(id): stops reading for good and closes the receiver's descriptor.
Napi::Value JS_UdpReceiverClose(const Napi::CallbackInfo &info) {
  Args a{info, "udpReceiverClose"};
  a.Count(1);
  Receiver *r = Find(a, 0);
  Retire(r);
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  return info.Env().Undefined();
}

}  // namespace iothts
