// NativeStack (see native_stack.h): creation, sharing, deletion, sockets and the configuration
// calls (links, addresses, routes), each a thin, checked call into libioth_calls.h.
#include "native_stack.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "args.h"
#include "c/broker.h"

namespace iothts {

namespace {
constexpr uint32_t kSettableAddrFlags = IFA_F_NODAD;
constexpr uint32_t kMaxVnls = 64;
}  // namespace

thread_local std::unordered_set<NativeStack *> NativeStack::open_stacks_;
std::mutex NativeStack::registry_mutex_;
std::unordered_map<uint32_t, std::shared_ptr<NativeStack::Shared>> NativeStack::registry_;
uint32_t NativeStack::last_id_ = 0;

Napi::Function NativeStack::Init(Napi::Env env) {
  return DefineClass(env, "NativeStack", {
    InstanceMethod<&NativeStack::JS_Close>("close"),
    InstanceMethod<&NativeStack::JS_ShareId>("shareId"),
    InstanceMethod<&NativeStack::JS_Socket>("socket"),
    InstanceMethod<&NativeStack::JS_SocketPath>("socketPath"),
    InstanceMethod<&NativeStack::JS_IfNameToIndex>("ifNameToIndex"),
    InstanceMethod<&NativeStack::JS_LinkSetUpDown>("linkSetUpDown"),
    InstanceMethod<&NativeStack::JS_LinkSetAddr>("linkSetAddr"),
    InstanceMethod<&NativeStack::JS_LinkGetAddr>("linkGetAddr"),
    InstanceMethod<&NativeStack::JS_LinkSetMtu>("linkSetMtu"),
    InstanceMethod<&NativeStack::JS_IpAddr>("ipAddr"),
    InstanceMethod<&NativeStack::JS_IpAddrAdd>("ipAddrAdd"),
    InstanceMethod<&NativeStack::JS_IpRoute>("ipRoute"),
    InstanceMethod<&NativeStack::JS_IpLinkAdd>("ipLinkAdd"),
    InstanceMethod<&NativeStack::JS_IpLinkDel>("ipLinkDel"),
    InstanceMethod<&NativeStack::JS_Links>("links"),
    InstanceMethod<&NativeStack::JS_Addresses>("addresses"),
    InstanceMethod<&NativeStack::JS_Routes>("routes"),
    InstanceMethod<&NativeStack::JS_TcpSummary>("tcpSummary"),
    InstanceMethod<&NativeStack::JS_HadTcp>("hadTcp"),
    InstanceMethod<&NativeStack::JS_ServeChildren>("serveChildren"),
  });
}

NativeStack::NativeStack(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeStack>(info) {
  if (info.Length() == 1) {
    Borrow(info);
    return;
  }
  Args a{info, "NativeStack"};
  a.Count(3);
  std::string plugin = a.String(0, 4096);
  if (!info[1].IsArray())
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", a.Where(1) + " must be an array");
  Napi::Array list = info[1].As<Napi::Array>();
  if (list.Length() > kMaxVnls)
    throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE", a.Where(1) + " has more than 64 VNLs");
  std::vector<std::string> vnls;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString())
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", a.Where(1) + " must hold strings");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.empty() || s.size() > 4096 || s.find('\0') != std::string::npos)
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
          a.Where(1) + " must hold non-empty strings of at most 4096 bytes without NUL");
    vnls.push_back(s);
  }
  auto shared = std::make_shared<Shared>();
  shared->delete_bound_ms = a.Uint(2, 0, kMaxDeleteBoundMs);
  std::vector<const char *> vnlv;
  for (auto &s : vnls) vnlv.push_back(s.c_str());
  vnlv.push_back(nullptr);
  Check(info.Env(), "ioth_newstack", [&] { return iothts_newstack(&shared->stack, plugin.c_str(), vnlv.data()); }, EINVAL);
  shared_ = shared;
  netns_ = shared->stack.netns;  // the stack keeps it; iothts_delstack closes it
  open_stacks_.insert(this);
  std::lock_guard<std::mutex> lock(registry_mutex_);
  id_ = ++last_id_;
  registry_[id_] = shared;
}

void NativeStack::Borrow(const Napi::CallbackInfo &info) {
  uint32_t id = Args{info, "NativeStack"}.Uint(0, 1, 0xffffffff);
  std::lock_guard<std::mutex> lock(registry_mutex_);
  auto found = registry_.find(id);
  if (found == registry_.end())
    throw StateError(info.Env(), "ERR_IOTH_STACK_CLOSED", "no open stack has share id " + std::to_string(id));
  shared_ = found->second;
  // A copy of the owner's namespace fd, taken while the owner cannot close it (registry lock):
  // ours to close, valid even if the owner closes the stack meanwhile. Failing to copy it only
  // means the slow path.
  if (shared_->stack.netns >= 0) netns_ = fcntl(shared_->stack.netns, F_DUPFD_CLOEXEC, 0);
  id_ = id;
  owner_ = false;
}

void NativeStack::DeleteAll(void *) {
  auto stacks = open_stacks_;
  for (NativeStack *s : stacks) s->Delete();
  iothts_release_thread();  // this thread's own netns fd; reopened if a socket is made after
}

void NativeStack::LetGo() {  // a borrowed stack: forget it, close our copy of its namespace fd
  shared_.reset();
  if (netns_ >= 0) close(netns_);
  netns_ = -1;
}

// Deleting waits for the calls in flight (of borrowers: the owner's own thread is here) rather
// than deleting under them, which would have them use freed memory (libioth's and vdestack's
// stack structures, a closed command pipe whose number may already be another file's). They
// normally last microseconds (a helper round trip, a netlink dump), so the owner's thread is not
// held up; the wait shares the delete bound with iothts_delstack, so deletion keeps its bound
// even if a call does not end (a helper that stopped answering): past it the stack is left to the
// last call to end, which deletes it then, on its own thread.
// 0, or -1 with errno set by iothts_delstack (the stack then stays open and shared).
int NativeStack::Delete() {
  if (!shared_) return 0;
  if (!owner_) {  // a borrowed stack: only let go of it
    LetGo();
    return 0;
  }
  std::shared_ptr<Shared> shared = shared_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(shared->delete_bound_ms);
  bool idle;
  iothts_broker_stop(shared->stack.ioth);  // no child is served from the stack once it starts going
  {
    std::unique_lock<std::mutex> lock(registry_mutex_);
    registry_.erase(id_);  // no new borrower
    shared->closing = true;  // no new call
    idle = shared->idle.wait_until(lock, deadline, [&] { return shared->calls == 0; });
    shared->orphaned = !idle;
  }
  int rv = 0, err = 0;
  if (idle) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    rv = iothts_delstack(&shared->stack, static_cast<unsigned>(left.count() > 0 ? left.count() : 0));
    err = errno;
  }
  if (rv == 0) {
    shared_.reset();
    netns_ = -1;  // closed by iothts_delstack
    open_stacks_.erase(this);
  } else {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    shared->closing = false;
    registry_[id_] = shared;
  }
  errno = err;
  return rv;
}

NativeStack::InUse::InUse(NativeStack &stack, const Napi::CallbackInfo &info) {
  if (!stack.shared_) throw StateError(info.Env(), "ERR_IOTH_STACK_CLOSED", "the stack is closed");
  std::lock_guard<std::mutex> lock(registry_mutex_);
  if (stack.shared_->closing) {  // only a borrower sees it: the owner's close is on its own thread
    if (!stack.owner_) stack.LetGo();
    throw StateError(info.Env(), "ERR_IOTH_STACK_CLOSED", "the stack was closed by the thread that owns it");
  }
  shared_ = stack.shared_;
  shared_->calls++;
}

NativeStack::InUse::~InUse() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    if (--shared_->calls > 0 || !shared_->closing) return;
    if (!shared_->orphaned) {
      shared_->idle.notify_all();  // the owner is waiting in Delete
      return;
    }
    shared_->orphaned = false;  // the owner gave up waiting: the stack is this call's to delete
  }
  iothts_delstack(&shared_->stack, shared_->delete_bound_ms);  // no one left to tell if it fails
}

Napi::Value NativeStack::JS_ShareId(const Napi::CallbackInfo &info) {
  Args{info, "shareId"}.Count(0);
  InUse stack{*this, info};
  return Napi::Number::New(info.Env(), id_);
}

Napi::Value NativeStack::JS_Close(const Napi::CallbackInfo &info) {
  Args{info, "close"}.Count(0);
  { InUse open{*this, info}; }  // ERR_IOTH_STACK_CLOSED if closed; not held: Delete waits for calls
  Check(info.Env(), "ioth_delstack", [&] { return Delete(); });
  return info.Env().Undefined();
}

// socket(domain, type, protocol) -> fd owned by the caller
Napi::Value NativeStack::JS_Socket(const Napi::CallbackInfo &info) {
  Args a{info, "socket"};
  a.Count(3);
  uint32_t domain = a.Uint(0, 0, 255);
  uint32_t type = a.Uint(1, 0, 0x7fffffff);
  uint32_t protocol = a.Uint(2, 0, 0xffff);
  InUse stack{*this, info};
  if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM) stack.shared().tcp = true;
  int via = 0;
  int fd = Check(info.Env(), [&] { return via ? "socket" : "ioth_msocket"; },
      [&] { return iothts_socket(stack, netns_, domain, type, protocol, &via); });
  return Napi::Number::New(info.Env(), fd);
}

// socketPath() -> "setns" (socket(2) in the stack's namespace, from this thread) or "helper"
// (ioth_msocket): the way this stack's sockets are made on this thread (decided for the stack
// when it was created, for the thread at its first use).
Napi::Value NativeStack::JS_SocketPath(const Napi::CallbackInfo &info) {
  Args{info, "socketPath"}.Count(0);
  InUse stack{*this, info};
  return Napi::String::New(info.Env(), iothts_socket_fastpath(netns_) ? "setns" : "helper");
}

// hadTcp() -> whether a stream socket was ever opened on the stack (by socket(), any thread).
Napi::Value NativeStack::JS_HadTcp(const Napi::CallbackInfo &info) {
  Args{info, "hadTcp"}.Count(0);
  InUse stack{*this, info};
  return Napi::Boolean::New(info.Env(), stack.shared().tcp.load());
}

Napi::Value NativeStack::JS_IfNameToIndex(const Napi::CallbackInfo &info) {
  Args a{info, "ifNameToIndex"};
  a.Count(1);
  std::string name = a.String(0, kMaxIfname);
  InUse stack{*this, info};
  int index = Check(info.Env(), "ioth_if_nametoindex", [&] {
    int i = iothts_if_nametoindex(stack, name.c_str());
    return i > 0 ? i : -1;  // 0: no such interface
  }, ENODEV);
  return Napi::Number::New(info.Env(), index);
}

Napi::Value NativeStack::JS_LinkSetUpDown(const Napi::CallbackInfo &info) {
  Args a{info, "linkSetUpDown"};
  a.Count(2);
  uint32_t index = a.Uint(0, 1, kMaxIfindex);
  bool up = a.Bool(1);
  InUse stack{*this, info};
  Check(info.Env(), "ioth_linksetupdown", [&] { return iothts_linksetupdown(stack, index, up); });
  return info.Env().Undefined();
}

Napi::Value NativeStack::JS_LinkSetAddr(const Napi::CallbackInfo &info) {
  Args a{info, "linkSetAddr"};
  a.Count(2);
  uint32_t index = a.Uint(0, 1, kMaxIfindex);
  std::vector<uint8_t> mac = a.Bytes(1, 6);
  InUse stack{*this, info};
  Check(info.Env(), "ioth_linksetaddr", [&] { return iothts_linksetaddr(stack, index, mac.data()); });
  return info.Env().Undefined();
}

Napi::Value NativeStack::JS_LinkGetAddr(const Napi::CallbackInfo &info) {
  Args a{info, "linkGetAddr"};
  a.Count(1);
  uint32_t index = a.Uint(0, 1, kMaxIfindex);
  unsigned char mac[6] = {0};
  InUse stack{*this, info};
  Check(info.Env(), "ioth_linkgetaddr", [&] { return iothts_linkgetaddr(stack, index, mac); });
  return Napi::Buffer<uint8_t>::Copy(info.Env(), mac, sizeof(mac));
}

Napi::Value NativeStack::JS_LinkSetMtu(const Napi::CallbackInfo &info) {
  Args a{info, "linkSetMtu"};
  a.Count(2);
  uint32_t index = a.Uint(0, 1, kMaxIfindex);
  uint32_t mtu = a.Uint(1, 68, 65535);
  InUse stack{*this, info};
  Check(info.Env(), "ioth_linksetmtu", [&] { return iothts_linksetmtu(stack, index, mtu); });
  return info.Env().Undefined();
}

// ipAddr(add, family 4|6, addr: Buffer, prefixLen, ifindex)
Napi::Value NativeStack::JS_IpAddr(const Napi::CallbackInfo &info) {
  Args a{info, "ipAddr"};
  a.Count(5);
  bool add = a.Bool(0);
  int family = a.Family(1);
  std::vector<uint8_t> addr = a.Bytes(2, a.AddrLen(family));
  uint32_t prefix = a.Uint(3, 0, family == AF_INET6 ? 128 : 32);
  uint32_t index = a.Uint(4, 1, kMaxIfindex);
  InUse stack{*this, info};
  Check(info.Env(), add ? "ioth_ipaddr_add" : "ioth_ipaddr_del",
      [&] { return iothts_ipaddr(stack, add, family, addr.data(), prefix, index); });
  return info.Env().Undefined();
}

// ipAddrAdd(family 4|6, addr: Buffer, prefixLen, ifindex, flags): an address with IFA_F_* flags
// (only IFA_F_NODAD for now: the address skips duplicate address detection, usable at once).
Napi::Value NativeStack::JS_IpAddrAdd(const Napi::CallbackInfo &info) {
  Args a{info, "ipAddrAdd"};
  a.Count(5);
  int family = a.Family(0);
  std::vector<uint8_t> addr = a.Bytes(1, a.AddrLen(family));
  uint32_t prefix = a.Uint(2, 0, family == AF_INET6 ? 128 : 32);
  uint32_t index = a.Uint(3, 1, kMaxIfindex);
  uint32_t flags = a.Uint(4, 0, 0xffffffff);
  if (flags & ~kSettableAddrFlags)
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
        a.Where(4) + " may hold only IFA_F_NODAD (" + std::to_string(IFA_F_NODAD) + ")");
  InUse stack{*this, info};
  Check(info.Env(), "ioth_ipaddr_add",
      [&] { return iothts_ipaddr_add_flags(stack, family, addr.data(), prefix, index, flags); });
  return info.Env().Undefined();
}

// ipRoute(add, family 4|6, dst: Buffer|null, dstPrefixLen, gw: Buffer|null, ifindex (0: any))
Napi::Value NativeStack::JS_IpRoute(const Napi::CallbackInfo &info) {
  Args a{info, "ipRoute"};
  a.Count(6);
  bool add = a.Bool(0);
  int family = a.Family(1);
  size_t len = a.AddrLen(family);
  std::vector<uint8_t> dst, gw;
  if (!a.IsNull(2)) dst = a.Bytes(2, len);
  uint32_t prefix = a.Uint(3, 0, family == AF_INET6 ? 128 : 32);
  if (!a.IsNull(4)) gw = a.Bytes(4, len);
  uint32_t index = a.Uint(5, 0, kMaxIfindex);
  if (gw.empty() && index == 0)
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE", "ipRoute: a route needs a gateway, an interface, or both");
  InUse stack{*this, info};
  Check(info.Env(), add ? "ioth_iproute_add" : "ioth_iproute_del", [&] {
    return iothts_iproute(stack, add, family, dst.empty() ? nullptr : dst.data(), prefix,
        gw.empty() ? nullptr : gw.data(), index);
  });
  return info.Env().Undefined();
}

// ipLinkAdd(ifname: string|null, ifindex (0: any), type: string, data: string|null)
Napi::Value NativeStack::JS_IpLinkAdd(const Napi::CallbackInfo &info) {
  Args a{info, "ipLinkAdd"};
  a.Count(4);
  std::string name, data;
  if (!a.IsNull(0)) name = a.String(0, kMaxIfname);
  uint32_t index = a.Uint(1, 0, kMaxIfindex);
  std::string type = a.String(2, 64);
  if (!a.IsNull(3)) data = a.String(3, 4096);
  InUse stack{*this, info};
  Check(info.Env(), "ioth_iplink_add", [&] {
    return iothts_iplink_add(stack, name.empty() ? nullptr : name.c_str(), index, type.c_str(),
        data.empty() ? nullptr : data.c_str());
  });
  return info.Env().Undefined();
}

// ipLinkDel(ifname: string|null, ifindex (0: by name))
Napi::Value NativeStack::JS_IpLinkDel(const Napi::CallbackInfo &info) {
  Args a{info, "ipLinkDel"};
  a.Count(2);
  std::string name;
  if (!a.IsNull(0)) name = a.String(0, kMaxIfname);
  uint32_t index = a.Uint(1, 0, kMaxIfindex);
  if (name.empty() && index == 0)
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE", "ipLinkDel: give an interface name or index");
  InUse stack{*this, info};
  Check(info.Env(), "ioth_iplink_del",
      [&] { return iothts_iplink_del(stack, name.empty() ? nullptr : name.c_str(), index); });
  return info.Env().Undefined();
}

}  // namespace iothts
