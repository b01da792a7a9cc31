// The socket calls of socket_calls.h: what Node cannot do itself on a stack socket (bind it before
// Node adopts it, the options DHCP and router solicitation need, the blocking datagram exchange of
// the synchronous configuration path, the unsent byte count).
#include "socket_calls.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"

namespace iothts {

namespace {

// The largest UDP payload over IPv4 (65535 - 8 - 20), as Node's dgram refuses more.
constexpr size_t kMaxDatagram = 65507;
// recvFrom blocks the calling thread (Node's, in the synchronous configuration path): at most a minute.
constexpr uint32_t kMaxRecvWaitMs = 60000;

// Throws the errno error of `syscall` unless fd is an open socket. (fstat succeeding on a file that
// is not a socket sets no errno: that case is ENOTSOCK, never what errno held before.)
void CheckSocket(Napi::Env env, int fd, const char *syscall) {
  struct stat st;
  Check(env, syscall, [&] { return fstat(fd, &st); }, EBADF);
  if (!S_ISSOCK(st.st_mode)) throw ErrnoError(env, ENOTSOCK, syscall);
}

// The descriptor of argument i, which must be a socket (a stack's kernel socket from socketFd).
int SocketArg(const Args &a, size_t i, const char *syscall) {
  int fd = static_cast<int>(a.Uint(i, 0, 0x7fffffff));
  CheckSocket(a.info.Env(), fd, syscall);
  return fd;
}

// A sockaddr_in or sockaddr_in6 in `ss`; returns its length.
socklen_t SockAddr(sockaddr_storage *ss, int family, const std::vector<uint8_t> &addr, uint16_t port, uint32_t scope) {
  *ss = sockaddr_storage{};
  if (family == AF_INET6) {
    auto *sa = reinterpret_cast<sockaddr_in6 *>(ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    sa->sin6_scope_id = scope;
    memcpy(&sa->sin6_addr, addr.data(), 16);
    return sizeof(*sa);
  }
  auto *sa = reinterpret_cast<sockaddr_in *>(ss);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  memcpy(&sa->sin_addr, addr.data(), 4);
  return sizeof(*sa);
}

// The destination given as arguments first..first+3: family 4|6, addr: Buffer, port, scopeId.
socklen_t DestinationArgs(const Args &a, size_t first, sockaddr_storage *ss) {
  int family = a.Family(first);
  std::vector<uint8_t> addr = a.Bytes(first + 1, a.AddrLen(family));
  uint16_t port = static_cast<uint16_t>(a.Uint(first + 2, 0, 65535));
  uint32_t scope = a.Uint(first + 3, 0, kMaxIfindex);
  return SockAddr(ss, family, addr, port, scope);
}

}  // namespace

// bindSocket(fd, family 4|6, addr: Buffer, port, reuseAddr: boolean, v6Only: boolean)
// A plain bind(2) of a stack socket from socketFd (a kernel socket living in the stack's namespace),
// with the options Node sets on its own sockets, so Node can then listen on or open the fd.
Napi::Value JS_BindSocket(const Napi::CallbackInfo &info) {
  Args a{info, "bindSocket"};
  a.Count(6);
  int fd = static_cast<int>(a.Uint(0, 0, 0x7fffffff));
  int family = a.Family(1);
  std::vector<uint8_t> addr = a.Bytes(2, a.AddrLen(family));
  uint16_t port = static_cast<uint16_t>(a.Uint(3, 0, 65535));
  int reuse = a.Bool(4) ? 1 : 0;
  int v6only = a.Bool(5) ? 1 : 0;
  Napi::Env env = info.Env();
  CheckSocket(env, fd, "bind");
  if (reuse) Check(env, "setsockopt", [&] { return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)); });
  if (family == AF_INET6)
    Check(env, "setsockopt", [&] { return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)); });
  sockaddr_storage ss;
  socklen_t len = SockAddr(&ss, family, addr, port, 0);
  Check(env, "bind", [&] { return bind(fd, reinterpret_cast<sockaddr *>(&ss), len); });
  return env.Undefined();
}

// connectSocket(fd, family 4|6, addr: Buffer, port, scopeId): a plain connect(2) of a stack socket.
// For UDP it sends nothing: the stack's kernel picks the route and the source address, which
// getsockname then tells (how getaddrinfo judges each answer's source, dns/address-order.ts).
Napi::Value JS_ConnectSocket(const Napi::CallbackInfo &info) {
  Args a{info, "connectSocket"};
  a.Count(5);
  int fd = SocketArg(a, 0, "connect");
  sockaddr_storage ss;
  socklen_t len = DestinationArgs(a, 1, &ss);
  Check(info.Env(), "connect", [&] { return connect(fd, reinterpret_cast<sockaddr *>(&ss), len); });
  return info.Env().Undefined();
}

// setSocketOption(fd, name, value): the few options the configuration protocols (DHCP, router
// solicitation) need and Node's dgram cannot set: "bindtodevice" (interface name), "broadcast"
// (boolean), "multicast_hops6" (0-255), "multicast_if6" (interface index); and "reuseaddr",
// "reuseport" (boolean), which libuv's uv_udp_open and Node's bind({ fd }) would otherwise decide.
Napi::Value JS_SetSocketOption(const Napi::CallbackInfo &info) {
  Args a{info, "setSocketOption"};
  a.Count(3);
  int fd = SocketArg(a, 0, "setsockopt");
  std::string name = a.String(1, 32);
  if (name == "bindtodevice") {
    std::string dev = a.String(2, kMaxIfname);
    Check(info.Env(), "setsockopt",
        [&] { return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), dev.size() + 1); });
    return info.Env().Undefined();
  }
  int value, level, opt;
  if (name == "broadcast") {
    value = a.Bool(2) ? 1 : 0, level = SOL_SOCKET, opt = SO_BROADCAST;
  } else if (name == "reuseaddr") {
    value = a.Bool(2) ? 1 : 0, level = SOL_SOCKET, opt = SO_REUSEADDR;
  } else if (name == "reuseport") {
    value = a.Bool(2) ? 1 : 0, level = SOL_SOCKET, opt = SO_REUSEPORT;
  } else if (name == "multicast_hops6") {
    value = static_cast<int>(a.Uint(2, 0, 255)), level = IPPROTO_IPV6, opt = IPV6_MULTICAST_HOPS;
  } else if (name == "multicast_if6") {
    value = static_cast<int>(a.Uint(2, 0, kMaxIfindex)), level = IPPROTO_IPV6, opt = IPV6_MULTICAST_IF;
  } else {
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
        "setSocketOption: argument 1 must be bindtodevice, broadcast, multicast_hops6, multicast_if6, "
        "reuseaddr or reuseport");
  }
  Check(info.Env(), "setsockopt", [&] { return setsockopt(fd, level, opt, &value, sizeof(value)); });
  return info.Env().Undefined();
}

// unsentBytes(fd): bytes the socket still holds for sending (SIOCOUTQ): a datagram waiting for
// its neighbour (ARP) or for the device counts until it has left the stack's kernel.
Napi::Value JS_UnsentBytes(const Napi::CallbackInfo &info) {
  Args a{info, "unsentBytes"};
  a.Count(1);
  int fd = SocketArg(a, 0, "ioctl");
  int n = 0;
  Check(info.Env(), "ioctl", [&] { return ioctl(fd, SIOCOUTQ, &n); });
  return Napi::Number::New(info.Env(), n);
}

// sendTo(fd, data: Buffer, family 4|6, addr: Buffer, port, scopeId): one datagram, blocking.
Napi::Value JS_SendTo(const Napi::CallbackInfo &info) {
  Args a{info, "sendTo"};
  a.Count(6);
  int fd = SocketArg(a, 0, "sendto");
  Napi::Uint8Array data = a.ByteArray(1);
  if (data.ByteLength() > kMaxDatagram)
    throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE", a.Where(1) + " must be at most 65507 bytes");
  sockaddr_storage ss;
  socklen_t len = DestinationArgs(a, 2, &ss);
  ssize_t n = Check(info.Env(), "sendto", [&] {
    ssize_t sent;
    do sent = sendto(fd, data.Data(), data.ByteLength(), 0, reinterpret_cast<sockaddr *>(&ss), len);
    while (sent < 0 && errno == EINTR);
    return sent;
  });
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// recvFrom(fd, timeoutMs) -> { data, family, address: Buffer, port } | null on timeout. Blocks the
// calling thread at most timeoutMs (0 to 60000): the synchronous configuration path uses it.
Napi::Value JS_RecvFrom(const Napi::CallbackInfo &info) {
  Args a{info, "recvFrom"};
  a.Count(2);
  int fd = SocketArg(a, 0, "recvfrom");
  int timeout = static_cast<int>(a.Uint(1, 0, kMaxRecvWaitMs));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
  // One buffer per thread: the asynchronous driver polls with timeout 0 every few ms.
  static thread_local std::vector<uint8_t> buf(65536);
  Napi::Env env = info.Env();
  sockaddr_storage ss{};
  socklen_t len;
  ssize_t n;
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, left < 0 ? 0 : left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw ErrnoError(env, errno, "poll");
    if (ready == 0) return env.Null();
    len = sizeof(ss);
    n = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&ss), &len);
    if (n >= 0) break;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) throw ErrnoError(env, errno, "recvfrom");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data(), static_cast<size_t>(n)));
  if (ss.ss_family == AF_INET6) {
    auto *sa = reinterpret_cast<sockaddr_in6 *>(&ss);
    out.Set("family", Napi::Number::New(env, 6));
    out.Set("address", Napi::Buffer<uint8_t>::Copy(env, sa->sin6_addr.s6_addr, 16));
    out.Set("port", Napi::Number::New(env, ntohs(sa->sin6_port)));
    out.Set("scopeId", Napi::Number::New(env, sa->sin6_scope_id));
  } else {
    auto *sa = reinterpret_cast<sockaddr_in *>(&ss);
    out.Set("family", Napi::Number::New(env, 4));
    out.Set("address", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t *>(&sa->sin_addr), 4));
    out.Set("port", Napi::Number::New(env, ntohs(sa->sin_port)));
    out.Set("scopeId", Napi::Number::New(env, 0));
  }
  return out;
}

// socketName(fd, peer: boolean) -> { family: 4|6, address, port, scopeId }: getsockname, or
// getpeername, with the IPv6 scope as a number. Node names a link-local address's scope with
// if_indextoname in the process's own namespace, where a stack's interfaces do not exist.
Napi::Value JS_SocketName(const Napi::CallbackInfo &info) {
  Args a{info, "socketName"};
  a.Count(2);
  bool peer = a.Bool(1);
  int fd = SocketArg(a, 0, peer ? "getpeername" : "getsockname");
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  Check(info.Env(), peer ? "getpeername" : "getsockname", [&] {
    auto *sa = reinterpret_cast<sockaddr *>(&ss);
    return peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len);
  });
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  char text[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET6) {
    auto *sa = reinterpret_cast<sockaddr_in6 *>(&ss);
    inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof(text));
    out.Set("family", Napi::Number::New(env, 6));
    out.Set("port", Napi::Number::New(env, ntohs(sa->sin6_port)));
    out.Set("scopeId", Napi::Number::New(env, sa->sin6_scope_id));
  } else if (ss.ss_family == AF_INET) {
    auto *sa = reinterpret_cast<sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &sa->sin_addr, text, sizeof(text));
    out.Set("family", Napi::Number::New(env, 4));
    out.Set("port", Napi::Number::New(env, ntohs(sa->sin_port)));
    out.Set("scopeId", Napi::Number::New(env, 0));
  } else {
    throw ErrnoError(env, EAFNOSUPPORT, peer ? "getpeername" : "getsockname");
  }
  out.Set("address", Napi::String::New(env, text));
  return out;
}

}  // namespace iothts
