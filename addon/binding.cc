// The N-API binding: argument checks, conversions and errno errors around libioth_calls.c.
// No policy lives here: the TypeScript layer (src/) gives names, defaults and friendlier messages.
// Every entry point validates every argument, so a wrong call is a JS exception, never a crash.
#include <napi.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ipv6.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "libioth_calls.h"

namespace {

Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall) {
  const char *name = strerrorname_np(err);
  std::string code = name ? name : "UNKNOWN";
  std::string message = std::string(syscall) + " " + code + ": " + strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  error.Set("errno", Napi::Number::New(env, -err));  // negative, like Node's system errors
  error.Set("syscall", syscall);
  return error;
}

Napi::Error ArgError(Napi::Env env, bool range, const char *code, const std::string &message) {
  Napi::Error error = range ? Napi::Error(Napi::RangeError::New(env, message))
                            : Napi::Error(Napi::TypeError::New(env, message));
  error.Set("code", code);
  return error;
}

// Each getter throws (C++ exceptions are enabled) with a Node-style code on a bad argument.
struct Args {
  const Napi::CallbackInfo &info;
  const char *fn;

  std::string Where(size_t i) const { return std::string(fn) + ": argument " + std::to_string(i); }

  void Count(size_t n) const {
    if (info.Length() != n)
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_COUNT",
          std::string(fn) + ": expected " + std::to_string(n) + " arguments, got " +
          std::to_string(info.Length()));
  }
  std::string String(size_t i, size_t maxlen) const {
    if (!info[i].IsString())
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a string");
    std::string s = info[i].As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos)
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE", Where(i) + " contains a NUL byte");
    if (s.empty() || s.size() > maxlen)
      throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE",
          Where(i) + " must be 1 to " + std::to_string(maxlen) + " bytes long");
    return s;
  }
  bool IsNull(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }
  uint32_t Uint(size_t i, uint32_t min, uint32_t max) const {
    if (!info[i].IsNumber())
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a number");
    double d = info[i].As<Napi::Number>().DoubleValue();
    if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d)))
      throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE",
          Where(i) + " must be an integer from " + std::to_string(min) + " to " +
          std::to_string(max));
    return static_cast<uint32_t>(d);
  }
  bool Bool(size_t i) const {
    if (!info[i].IsBoolean())
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a boolean");
    return info[i].As<Napi::Boolean>().Value();
  }
  // A Buffer or another Uint8Array. (IsBuffer() also says yes to a DataView, which Buffer's
  // accessors then refuse with an uncoded "Invalid argument": hence the typed array check.)
  Napi::Uint8Array ByteArray(size_t i) const {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a Buffer");
    return info[i].As<Napi::Uint8Array>();
  }
  std::vector<uint8_t> Bytes(size_t i, size_t len) const {
    Napi::Uint8Array buf = ByteArray(i);
    if (buf.ByteLength() != len)
      throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE",
          Where(i) + " must be " + std::to_string(len) + " bytes long");
    return std::vector<uint8_t>(buf.Data(), buf.Data() + len);
  }
  int Family(size_t i) const {
    if (!info[i].IsNumber() || (info[i].As<Napi::Number>().DoubleValue() != 4 &&
                                info[i].As<Napi::Number>().DoubleValue() != 6))
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE", Where(i) + " must be 4 or 6");
    return info[i].As<Napi::Number>().DoubleValue() == 6 ? AF_INET6 : AF_INET;
  }
  size_t AddrLen(int family) const { return family == AF_INET6 ? 16 : 4; }
};

constexpr uint32_t kMaxIfindex = 0x7fffffff;
constexpr size_t kMaxIfname = IOTHTS_IFNAMSIZ - 1;
constexpr uint32_t kSettableAddrFlags = IFA_F_NODAD;

class NativeStack : public Napi::ObjectWrap<NativeStack> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeStack", {
      InstanceMethod<&NativeStack::Close>("close"),
      InstanceMethod<&NativeStack::ShareId>("shareId"),
      InstanceMethod<&NativeStack::Socket>("socket"),
      InstanceMethod<&NativeStack::SocketPath>("socketPath"),
      InstanceMethod<&NativeStack::IfNameToIndex>("ifNameToIndex"),
      InstanceMethod<&NativeStack::LinkSetUpDown>("linkSetUpDown"),
      InstanceMethod<&NativeStack::LinkSetAddr>("linkSetAddr"),
      InstanceMethod<&NativeStack::LinkGetAddr>("linkGetAddr"),
      InstanceMethod<&NativeStack::LinkSetMtu>("linkSetMtu"),
      InstanceMethod<&NativeStack::IpAddr>("ipAddr"),
      InstanceMethod<&NativeStack::IpAddrAdd>("ipAddrAdd"),
      InstanceMethod<&NativeStack::IpRoute>("ipRoute"),
      InstanceMethod<&NativeStack::IpLinkAdd>("ipLinkAdd"),
      InstanceMethod<&NativeStack::IpLinkDel>("ipLinkDel"),
      InstanceMethod<&NativeStack::Links>("links"),
      InstanceMethod<&NativeStack::Addresses>("addresses"),
      InstanceMethod<&NativeStack::Routes>("routes"),
      InstanceMethod<&NativeStack::TcpSummary>("tcpSummary"),
      InstanceMethod<&NativeStack::HadTcp>("hadTcp"),
    });
  }

  // new NativeStack(plugin: string, vnls: string[]), or new NativeStack(shareId: number) to use,
  // from another thread, a stack that a NativeStack of this process owns (see ShareId).
  explicit NativeStack(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeStack>(info) {
    Args a{info, "NativeStack"};
    if (info.Length() == 1) {
      uint32_t id = a.Uint(0, 1, 0xffffffff);
      std::lock_guard<std::mutex> lock(registry_mutex_);
      auto found = registry_.find(id);
      if (found == registry_.end())
        throw ArgError(info.Env(), false, "ERR_IOTH_STACK_CLOSED", "no open stack has share id " + std::to_string(id));
      stack_ = found->second.ioth;
      // A copy of the owner's namespace fd, taken while the owner cannot close it (registry lock):
      // ours to close, valid even if the owner closes the stack meanwhile. Failing to copy it
      // only means the slow path.
      if (found->second.netns >= 0) netns_ = fcntl(found->second.netns, F_DUPFD_CLOEXEC, 0);
      id_ = id;
      owner_ = false;
      return;
    }
    a.Count(2);
    std::string plugin = a.String(0, 4096);
    if (!info[1].IsArray())
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", a.Where(1) + " must be an array");
    Napi::Array list = info[1].As<Napi::Array>();
    if (list.Length() > 64)
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
    std::vector<const char *> vnlv;
    for (auto &s : vnls) vnlv.push_back(s.c_str());
    vnlv.push_back(nullptr);
    errno = 0;
    if (iothts_newstack(&owned_, plugin.c_str(), vnlv.data()) < 0)
      throw ErrnoError(info.Env(), errno ? errno : EINVAL, "ioth_newstack");
    stack_ = owned_.ioth;
    netns_ = owned_.netns;  // owned_ keeps it; iothts_delstack closes it
    open_stacks_.insert(this);
    std::lock_guard<std::mutex> lock(registry_mutex_);
    id_ = ++last_id_;
    registry_[id_] = Shared{stack_, netns_};
  }

  ~NativeStack() override { Delete(); }

  // Deletes every stack of this thread's environment, so helper processes end with the process
  // instead of lingering until they notice the parent is gone. Run by the environment cleanup hook
  // (normal exit, worker termination) and by src/native.ts on process 'exit' (process.exit() and
  // uncaught exceptions skip the cleanup hooks).
  static void DeleteAll(void *) {
    auto stacks = open_stacks_;
    for (NativeStack *s : stacks) s->Delete();
    iothts_release_thread();  // this thread's own netns fd; reopened if a socket is made after
  }

 private:
  static thread_local std::unordered_set<NativeStack *> open_stacks_;
  // Stacks by share id, for every thread of the process: libioth's stacks are process-wide and
  // safe to use from several threads (vdestack serialises socket creation with a mutex).
  static std::mutex registry_mutex_;
  struct Shared {
    struct ioth *ioth;
    int netns;  // the owner's fd of the stack's network namespace, or -1 (see iothts_stack)
  };
  static std::unordered_map<uint32_t, Shared> registry_;
  static uint32_t last_id_;
  // Stacks (of any thread) on which a SOCK_STREAM socket was opened: the others have no TCP
  // connection to wait for, and a sock_diag dump walks the host's whole TCP hash table (ms).
  static std::unordered_set<struct ioth *> tcp_stacks_;
  struct ioth *stack_ = nullptr;
  struct iothts_stack owned_{};  // for the owner: the helper and taps to end with the stack
  int netns_ = -1;  // for iothts_socket's fast path: owned_.netns, or a borrower's own copy
  uint32_t id_ = 0;
  bool owner_ = true;

  void LetGo() {  // a borrowed stack: forget it, close our copy of its namespace fd
    stack_ = nullptr;
    if (netns_ >= 0) close(netns_);
    netns_ = -1;
  }

  int Delete() {
    if (stack_ == nullptr) return 0;
    if (!owner_) {  // a borrowed stack: only let go of it
      LetGo();
      return 0;
    }
    {
      std::lock_guard<std::mutex> lock(registry_mutex_);
      registry_.erase(id_);
    }
    struct ioth *ioth = stack_;
    int rv = iothts_delstack(&owned_);
    if (rv == 0) {
      std::lock_guard<std::mutex> lock(registry_mutex_);
      tcp_stacks_.erase(ioth);
    }
    if (rv == 0) {
      stack_ = nullptr;
      netns_ = -1;  // closed by iothts_delstack
      open_stacks_.erase(this);
    } else {
      std::lock_guard<std::mutex> lock(registry_mutex_);
      registry_[id_] = Shared{stack_, netns_};
    }
    return rv;
  }

  struct ioth *Live(const Napi::CallbackInfo &info) {
    if (stack_ == nullptr)
      throw ArgError(info.Env(), false, "ERR_IOTH_STACK_CLOSED", "the stack is closed");
    if (!owner_) {
      std::lock_guard<std::mutex> lock(registry_mutex_);
      auto found = registry_.find(id_);
      if (found == registry_.end() || found->second.ioth != stack_) {
        LetGo();
        throw ArgError(info.Env(), false, "ERR_IOTH_STACK_CLOSED", "the stack was closed by the thread that owns it");
      }
    }
    return stack_;
  }

  Napi::Value ShareId(const Napi::CallbackInfo &info) {
    Args{info, "shareId"}.Count(0);
    Live(info);
    return Napi::Number::New(info.Env(), id_);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Args{info, "close"}.Count(0);
    Live(info);
    if (Delete() < 0) throw ErrnoError(info.Env(), errno, "ioth_delstack");
    return info.Env().Undefined();
  }

  // socket(domain, type, protocol) -> fd owned by the caller
  Napi::Value Socket(const Napi::CallbackInfo &info) {
    Args a{info, "socket"};
    a.Count(3);
    uint32_t domain = a.Uint(0, 0, 255);
    uint32_t type = a.Uint(1, 0, 0x7fffffff);
    uint32_t protocol = a.Uint(2, 0, 0xffff);
    struct ioth *stack = Live(info);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM) {
      std::lock_guard<std::mutex> lock(registry_mutex_);
      tcp_stacks_.insert(stack);
    }
    int via = 0;
    int fd = iothts_socket(stack, netns_, domain, type, protocol, &via);
    if (fd < 0) throw ErrnoError(info.Env(), errno, via ? "socket" : "ioth_msocket");
    return Napi::Number::New(info.Env(), fd);
  }

  // socketPath() -> "setns" (socket(2) in the stack's namespace, from this thread) or "helper"
  // (ioth_msocket): the way this stack's sockets are made on this thread (decided for the stack
  // when it was created, for the thread at its first use).
  Napi::Value SocketPath(const Napi::CallbackInfo &info) {
    Args{info, "socketPath"}.Count(0);
    Live(info);
    return Napi::String::New(info.Env(), iothts_socket_fastpath(netns_) ? "setns" : "helper");
  }

  Napi::Value IfNameToIndex(const Napi::CallbackInfo &info) {
    Args a{info, "ifNameToIndex"};
    a.Count(1);
    std::string name = a.String(0, kMaxIfname);
    errno = 0;
    int index = iothts_if_nametoindex(Live(info), name.c_str());
    if (index <= 0) throw ErrnoError(info.Env(), errno ? errno : ENODEV, "ioth_if_nametoindex");
    return Napi::Number::New(info.Env(), index);
  }

  Napi::Value LinkSetUpDown(const Napi::CallbackInfo &info) {
    Args a{info, "linkSetUpDown"};
    a.Count(2);
    uint32_t index = a.Uint(0, 1, kMaxIfindex);
    bool up = a.Bool(1);
    if (iothts_linksetupdown(Live(info), index, up) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_linksetupdown");
    return info.Env().Undefined();
  }

  Napi::Value LinkSetAddr(const Napi::CallbackInfo &info) {
    Args a{info, "linkSetAddr"};
    a.Count(2);
    uint32_t index = a.Uint(0, 1, kMaxIfindex);
    std::vector<uint8_t> mac = a.Bytes(1, 6);
    if (iothts_linksetaddr(Live(info), index, mac.data()) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_linksetaddr");
    return info.Env().Undefined();
  }

  Napi::Value LinkGetAddr(const Napi::CallbackInfo &info) {
    Args a{info, "linkGetAddr"};
    a.Count(1);
    uint32_t index = a.Uint(0, 1, kMaxIfindex);
    unsigned char mac[6] = {0};
    if (iothts_linkgetaddr(Live(info), index, mac) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_linkgetaddr");
    return Napi::Buffer<uint8_t>::Copy(info.Env(), mac, sizeof(mac));
  }

  Napi::Value LinkSetMtu(const Napi::CallbackInfo &info) {
    Args a{info, "linkSetMtu"};
    a.Count(2);
    uint32_t index = a.Uint(0, 1, kMaxIfindex);
    uint32_t mtu = a.Uint(1, 68, 65535);
    if (iothts_linksetmtu(Live(info), index, mtu) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_linksetmtu");
    return info.Env().Undefined();
  }

  // ipAddr(add, family 4|6, addr: Buffer, prefixLen, ifindex)
  Napi::Value IpAddr(const Napi::CallbackInfo &info) {
    Args a{info, "ipAddr"};
    a.Count(5);
    bool add = a.Bool(0);
    int family = a.Family(1);
    std::vector<uint8_t> addr = a.Bytes(2, a.AddrLen(family));
    uint32_t prefix = a.Uint(3, 0, family == AF_INET6 ? 128 : 32);
    uint32_t index = a.Uint(4, 1, kMaxIfindex);
    if (iothts_ipaddr(Live(info), add, family, addr.data(), prefix, index) < 0)
      throw ErrnoError(info.Env(), errno, add ? "ioth_ipaddr_add" : "ioth_ipaddr_del");
    return info.Env().Undefined();
  }

  // ipAddrAdd(family 4|6, addr: Buffer, prefixLen, ifindex, flags): an address with IFA_F_* flags
  // (only IFA_F_NODAD for now: the address skips duplicate address detection, usable at once).
  Napi::Value IpAddrAdd(const Napi::CallbackInfo &info) {
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
    if (iothts_ipaddr_add_flags(Live(info), family, addr.data(), prefix, index, flags) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_ipaddr_add");
    return info.Env().Undefined();
  }

  // ipRoute(add, family 4|6, dst: Buffer|null, dstPrefixLen, gw: Buffer|null, ifindex (0: any))
  Napi::Value IpRoute(const Napi::CallbackInfo &info) {
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
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
          "ipRoute: a route needs a gateway, an interface, or both");
    if (iothts_iproute(Live(info), add, family, dst.empty() ? nullptr : dst.data(), prefix,
            gw.empty() ? nullptr : gw.data(), index) < 0)
      throw ErrnoError(info.Env(), errno, add ? "ioth_iproute_add" : "ioth_iproute_del");
    return info.Env().Undefined();
  }

  // ipLinkAdd(ifname: string|null, ifindex (0: any), type: string, data: string|null)
  Napi::Value IpLinkAdd(const Napi::CallbackInfo &info) {
    Args a{info, "ipLinkAdd"};
    a.Count(4);
    std::string name, data;
    if (!a.IsNull(0)) name = a.String(0, kMaxIfname);
    uint32_t index = a.Uint(1, 0, kMaxIfindex);
    std::string type = a.String(2, 64);
    if (!a.IsNull(3)) data = a.String(3, 4096);
    if (iothts_iplink_add(Live(info), name.empty() ? nullptr : name.c_str(), index, type.c_str(),
            data.empty() ? nullptr : data.c_str()) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_iplink_add");
    return info.Env().Undefined();
  }

  // ipLinkDel(ifname: string|null, ifindex (0: by name))
  Napi::Value IpLinkDel(const Napi::CallbackInfo &info) {
    Args a{info, "ipLinkDel"};
    a.Count(2);
    std::string name;
    if (!a.IsNull(0)) name = a.String(0, kMaxIfname);
    uint32_t index = a.Uint(1, 0, kMaxIfindex);
    if (name.empty() && index == 0)
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
          "ipLinkDel: give an interface name or index");
    if (iothts_iplink_del(Live(info), name.empty() ? nullptr : name.c_str(), index) < 0)
      throw ErrnoError(info.Env(), errno, "ioth_iplink_del");
    return info.Env().Undefined();
  }

  // Runs a netlink dump and calls parse(header, attributes) for each message of the wanted type.
  template <typename Payload, typename Parse>
  Napi::Value Dump(const Napi::CallbackInfo &info, const char *fn, int request, int reply,
      Parse parse) {
    Args{info, fn}.Count(0);
    Napi::Env env = info.Env();
    void *raw = nullptr;
    long len = iothts_nldump(Live(info), request, AF_UNSPEC, &raw);
    if (len < 0) throw ErrnoError(env, errno, "ioth_nldialog");
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    int rest = static_cast<int>(len);
    for (auto *h = static_cast<nlmsghdr *>(raw); NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
      if (h->nlmsg_type != reply || h->nlmsg_len < NLMSG_LENGTH(sizeof(Payload))) continue;
      auto *payload = static_cast<const Payload *>(NLMSG_DATA(h));
      std::vector<const rtattr *> attrs(64, nullptr);
      int attrlen = h->nlmsg_len - NLMSG_LENGTH(sizeof(Payload));
      auto *a = reinterpret_cast<const rtattr *>(
          reinterpret_cast<const char *>(payload) + NLMSG_ALIGN(sizeof(Payload)));
      for (; RTA_OK(a, attrlen); a = RTA_NEXT(a, attrlen))
        if (a->rta_type < attrs.size()) attrs[a->rta_type] = a;
      Napi::Object entry = Napi::Object::New(env);
      parse(env, entry, payload, attrs);
      out.Set(n++, entry);
    }
    free(raw);
    return out;
  }

  static Napi::Value AttrBytes(Napi::Env env, const rtattr *a) {
    if (a == nullptr) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t *>(RTA_DATA(a)), RTA_PAYLOAD(a));
  }
  static Napi::Value AttrU32(Napi::Env env, const rtattr *a) {
    if (a == nullptr || RTA_PAYLOAD(a) < 4) return env.Null();
    return Napi::Number::New(env, *static_cast<const uint32_t *>(RTA_DATA(a)));
  }
  static Napi::Value AttrString(Napi::Env env, const rtattr *a) {
    if (a == nullptr) return env.Null();
    return Napi::String::New(env, static_cast<const char *>(RTA_DATA(a)),
        strnlen(static_cast<const char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
  }
  static const char *FamilyName(int family) {
    return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "other";
  }

  // tcpSummary() -> { sockets, unacked, unackedBytes }: three arrays indexed by TCP state (1
  // ESTABLISHED ... 11 CLOSING, 12 NEW_SYN_RECV), counting the stack's TCP sockets (IPv4 and IPv6),
  // those with bytes not yet acknowledged (a FIN counts as one; for LISTEN, the backlog), and those
  // bytes. From NETLINK_SOCK_DIAG inside the stack.
  Napi::Value TcpSummary(const Napi::CallbackInfo &info) {
    Args{info, "tcpSummary"}.Count(0);
    Napi::Env env = info.Env();
    struct iothts_tcp_summary sum;
    if (iothts_tcp_summary(Live(info), &sum) < 0) throw ErrnoError(env, errno, "sock_diag");
    Napi::Array sockets = Napi::Array::New(env, IOTHTS_TCP_STATES);
    Napi::Array unacked = Napi::Array::New(env, IOTHTS_TCP_STATES);
    Napi::Array bytes = Napi::Array::New(env, IOTHTS_TCP_STATES);
    for (uint32_t i = 0; i < IOTHTS_TCP_STATES; i++) {
      sockets.Set(i, Napi::Number::New(env, sum.sockets[i]));
      unacked.Set(i, Napi::Number::New(env, sum.unacked[i]));
      bytes.Set(i, Napi::Number::New(env, static_cast<double>(sum.unacked_bytes[i])));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("sockets", sockets);
    out.Set("unacked", unacked);
    out.Set("unackedBytes", bytes);
    return out;
  }

  // hadTcp() -> whether a stream socket was ever opened on the stack (by socket(), any thread).
  Napi::Value HadTcp(const Napi::CallbackInfo &info) {
    Args{info, "hadTcp"}.Count(0);
    struct ioth *stack = Live(info);
    std::lock_guard<std::mutex> lock(registry_mutex_);
    return Napi::Boolean::New(info.Env(), tcp_stacks_.count(stack) > 0);
  }

  // The link's IPv6 settings that time duplicate address detection, from IFLA_AF_SPEC's AF_INET6
  // part (null when the link has none): { acceptDad, dadTransmits, rtrSolicitDelay (ms, the
  // longest random wait before the first probe), retransTime (ms between probes) }.
  static Napi::Value Ipv6Settings(Napi::Env env, const rtattr *spec) {
    if (spec == nullptr) return env.Null();
    int len = RTA_PAYLOAD(spec);
    for (auto *af = static_cast<const rtattr *>(RTA_DATA(spec)); RTA_OK(af, len); af = RTA_NEXT(af, len)) {
      if (af->rta_type != AF_INET6) continue;
      const rtattr *conf = nullptr, *cache = nullptr;
      int inner = RTA_PAYLOAD(af);
      for (auto *a = static_cast<const rtattr *>(RTA_DATA(af)); RTA_OK(a, inner); a = RTA_NEXT(a, inner)) {
        if (a->rta_type == IFLA_INET6_CONF) conf = a;
        if (a->rta_type == IFLA_INET6_CACHEINFO) cache = a;
      }
      if (conf == nullptr || cache == nullptr || RTA_PAYLOAD(cache) < sizeof(ifla_cacheinfo)) return env.Null();
      size_t n = RTA_PAYLOAD(conf) / sizeof(int32_t);
      auto *values = static_cast<const int32_t *>(RTA_DATA(conf));
      auto value = [&](size_t i) { return i < n ? Napi::Number::New(env, values[i]) : env.Null(); };
      Napi::Object out = Napi::Object::New(env);
      out.Set("acceptDad", value(DEVCONF_ACCEPT_DAD));
      out.Set("dadTransmits", value(DEVCONF_DAD_TRANSMITS));
      out.Set("rtrSolicitDelay", value(DEVCONF_RTR_SOLICIT_DELAY));  // the kernel reports it in ms
      out.Set("retransTime", Napi::Number::New(env, static_cast<const ifla_cacheinfo *>(RTA_DATA(cache))->retrans_time));
      return out;
    }
    return env.Null();
  }

  // links() -> [{ index, name, flags, type, mtu, mac: Buffer|null, ipv6: {...}|null }]
  Napi::Value Links(const Napi::CallbackInfo &info) {
    return Dump<ifinfomsg>(info, "links", RTM_GETLINK, RTM_NEWLINK,
        [](Napi::Env env, Napi::Object e, const ifinfomsg *m, const std::vector<const rtattr *> &at) {
          e.Set("index", Napi::Number::New(env, m->ifi_index));
          e.Set("name", AttrString(env, at[IFLA_IFNAME]));
          e.Set("flags", Napi::Number::New(env, m->ifi_flags));
          e.Set("type", Napi::Number::New(env, m->ifi_type));
          e.Set("mtu", AttrU32(env, at[IFLA_MTU]));
          e.Set("mac", AttrBytes(env, at[IFLA_ADDRESS]));
          e.Set("ipv6", Ipv6Settings(env, at[IFLA_AF_SPEC]));
        });
  }

  // addresses() -> [{ index, family, address: Buffer, prefixLen, scope, flags }]
  Napi::Value Addresses(const Napi::CallbackInfo &info) {
    return Dump<ifaddrmsg>(info, "addresses", RTM_GETADDR, RTM_NEWADDR,
        [](Napi::Env env, Napi::Object e, const ifaddrmsg *m, const std::vector<const rtattr *> &at) {
          e.Set("index", Napi::Number::New(env, m->ifa_index));
          e.Set("family", FamilyName(m->ifa_family));
          // IFA_LOCAL is the local address where it differs from IFA_ADDRESS (point-to-point).
          e.Set("address", AttrBytes(env, at[IFA_LOCAL] ? at[IFA_LOCAL] : at[IFA_ADDRESS]));
          e.Set("prefixLen", Napi::Number::New(env, m->ifa_prefixlen));
          e.Set("scope", Napi::Number::New(env, m->ifa_scope));
          Napi::Value flags = AttrU32(env, at[IFA_FLAGS]);
          e.Set("flags", flags.IsNull() ? Napi::Number::New(env, m->ifa_flags) : flags);
        });
  }

  // routes() -> [{ family, dst: Buffer|null, dstLen, gateway: Buffer|null, index, table, ... }]
  Napi::Value Routes(const Napi::CallbackInfo &info) {
    return Dump<rtmsg>(info, "routes", RTM_GETROUTE, RTM_NEWROUTE,
        [](Napi::Env env, Napi::Object e, const rtmsg *m, const std::vector<const rtattr *> &at) {
          e.Set("family", FamilyName(m->rtm_family));
          e.Set("dst", AttrBytes(env, at[RTA_DST]));
          e.Set("dstLen", Napi::Number::New(env, m->rtm_dst_len));
          e.Set("gateway", AttrBytes(env, at[RTA_GATEWAY]));
          e.Set("prefsrc", AttrBytes(env, at[RTA_PREFSRC]));
          Napi::Value oif = AttrU32(env, at[RTA_OIF]);
          e.Set("index", oif.IsNull() ? Napi::Number::New(env, 0) : oif);
          Napi::Value table = AttrU32(env, at[RTA_TABLE]);
          e.Set("table", table.IsNull() ? Napi::Number::New(env, m->rtm_table) : table);
          e.Set("protocol", Napi::Number::New(env, m->rtm_protocol));
          e.Set("scope", Napi::Number::New(env, m->rtm_scope));
          e.Set("type", Napi::Number::New(env, m->rtm_type));
          e.Set("metric", AttrU32(env, at[RTA_PRIORITY]));
        });
  }
};

thread_local std::unordered_set<NativeStack *> NativeStack::open_stacks_;
std::mutex NativeStack::registry_mutex_;
std::unordered_map<uint32_t, NativeStack::Shared> NativeStack::registry_;
uint32_t NativeStack::last_id_ = 0;
std::unordered_set<struct ioth *> NativeStack::tcp_stacks_;

Napi::Value PluginDir(const Napi::CallbackInfo &info) {
  Args{info, "pluginDir"}.Count(0);
  char dir[4096];
  if (iothts_plugin_dir(dir, sizeof(dir)) < 0) throw ErrnoError(info.Env(), errno, "dladdr");
  return Napi::String::New(info.Env(), dir);
}

// bindSocket(fd, family 4|6, addr: Buffer, port, reuseAddr: boolean, v6Only: boolean)
// A plain bind(2) of a stack socket from socketFd (a kernel socket living in the stack's namespace),
// with the options Node sets on its own sockets, so Node can then listen on or open the fd.
// Throws the Node-style errno error of `syscall` unless fd is an open socket.
void CheckSocket(Napi::Env env, int fd, const char *syscall) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    throw ErrnoError(env, errno ? errno : ENOTSOCK, syscall);
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

Napi::Value BindSocket(const Napi::CallbackInfo &info) {
  Args a{info, "bindSocket"};
  a.Count(6);
  int fd = static_cast<int>(a.Uint(0, 0, 0x7fffffff));
  int family = a.Family(1);
  std::vector<uint8_t> addr = a.Bytes(2, a.AddrLen(family));
  uint16_t port = static_cast<uint16_t>(a.Uint(3, 0, 65535));
  int reuse = a.Bool(4) ? 1 : 0;
  int v6only = a.Bool(5) ? 1 : 0;
  CheckSocket(info.Env(), fd, "bind");
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) < 0)
    throw ErrnoError(info.Env(), errno, "setsockopt");
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
    throw ErrnoError(info.Env(), errno, "setsockopt");
  sockaddr_storage ss;
  socklen_t len = SockAddr(&ss, family, addr, port, 0);
  if (bind(fd, reinterpret_cast<sockaddr *>(&ss), len) < 0) throw ErrnoError(info.Env(), errno, "bind");
  return info.Env().Undefined();
}

// setSocketOption(fd, name, value): the few options the configuration protocols (DHCP, router
// solicitation) need and Node's dgram cannot set: "bindtodevice" (interface name), "broadcast"
// (boolean), "multicast_hops6" (0-255), "multicast_if6" (interface index).
Napi::Value SetSocketOption(const Napi::CallbackInfo &info) {
  Args a{info, "setSocketOption"};
  a.Count(3);
  int fd = SocketArg(a, 0, "setsockopt");
  std::string name = a.String(1, 32);
  int rv;
  if (name == "bindtodevice") {
    std::string dev = a.String(2, kMaxIfname);
    rv = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), dev.size() + 1);
  } else {
    int value, level, opt;
    if (name == "broadcast") {
      value = a.Bool(2) ? 1 : 0, level = SOL_SOCKET, opt = SO_BROADCAST;
    } else if (name == "multicast_hops6") {
      value = static_cast<int>(a.Uint(2, 0, 255)), level = IPPROTO_IPV6, opt = IPV6_MULTICAST_HOPS;
    } else if (name == "multicast_if6") {
      value = static_cast<int>(a.Uint(2, 0, kMaxIfindex)), level = IPPROTO_IPV6, opt = IPV6_MULTICAST_IF;
    } else {
      throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE",
          "setSocketOption: argument 1 must be bindtodevice, broadcast, multicast_hops6 or multicast_if6");
    }
    rv = setsockopt(fd, level, opt, &value, sizeof(value));
  }
  if (rv < 0) throw ErrnoError(info.Env(), errno, "setsockopt");
  return info.Env().Undefined();
}

// unsentBytes(fd): bytes the socket still holds for sending (SIOCOUTQ): a datagram waiting for
// its neighbour (ARP) or for the device counts until it has left the stack's kernel.
Napi::Value UnsentBytes(const Napi::CallbackInfo &info) {
  Args a{info, "unsentBytes"};
  a.Count(1);
  int fd = SocketArg(a, 0, "ioctl");
  int n = 0;
  if (ioctl(fd, SIOCOUTQ, &n) < 0) throw ErrnoError(info.Env(), errno, "ioctl");
  return Napi::Number::New(info.Env(), n);
}

// sendTo(fd, data: Buffer, family 4|6, addr: Buffer, port, scopeId): one datagram, blocking.
Napi::Value SendTo(const Napi::CallbackInfo &info) {
  Args a{info, "sendTo"};
  a.Count(6);
  int fd = SocketArg(a, 0, "sendto");
  Napi::Uint8Array data = a.ByteArray(1);
  if (data.ByteLength() > 65507)
    throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE", a.Where(1) + " must be at most 65507 bytes");
  int family = a.Family(2);
  std::vector<uint8_t> addr = a.Bytes(3, a.AddrLen(family));
  uint16_t port = static_cast<uint16_t>(a.Uint(4, 0, 65535));
  uint32_t scope = a.Uint(5, 0, kMaxIfindex);
  sockaddr_storage ss;
  socklen_t len = SockAddr(&ss, family, addr, port, scope);
  ssize_t n;
  do n = sendto(fd, data.Data(), data.ByteLength(), 0, reinterpret_cast<sockaddr *>(&ss), len);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(info.Env(), errno, "sendto");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// recvFrom(fd, timeoutMs) -> { data, family, address: Buffer, port } | null on timeout. Blocks the
// calling thread at most timeoutMs (0 to 60000): the synchronous configuration path uses it.
Napi::Value RecvFrom(const Napi::CallbackInfo &info) {
  Args a{info, "recvFrom"};
  a.Count(2);
  int fd = SocketArg(a, 0, "recvfrom");
  int timeout = static_cast<int>(a.Uint(1, 0, 60000));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
  // One buffer per thread: the asynchronous driver polls with timeout 0 every few ms.
  static thread_local std::vector<uint8_t> buf(65536);
  sockaddr_storage ss{};
  socklen_t len;
  ssize_t n;
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, left < 0 ? 0 : left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw ErrnoError(info.Env(), errno, "poll");
    if (ready == 0) return info.Env().Null();
    len = sizeof(ss);
    n = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&ss), &len);
    if (n >= 0) break;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) throw ErrnoError(info.Env(), errno, "recvfrom");
  }
  Napi::Env env = info.Env();
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

Napi::Value DeleteAllStacks(const Napi::CallbackInfo &info) {
  Args{info, "deleteAllStacks"}.Count(0);
  NativeStack::DeleteAll(nullptr);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeStack", NativeStack::Init(env));
  exports.Set("pluginDir", Napi::Function::New<PluginDir>(env, "pluginDir"));
  exports.Set("bindSocket", Napi::Function::New<BindSocket>(env, "bindSocket"));
  exports.Set("setSocketOption", Napi::Function::New<SetSocketOption>(env, "setSocketOption"));
  exports.Set("sendTo", Napi::Function::New<SendTo>(env, "sendTo"));
  exports.Set("unsentBytes", Napi::Function::New<UnsentBytes>(env, "unsentBytes"));
  exports.Set("recvFrom", Napi::Function::New<RecvFrom>(env, "recvFrom"));
  exports.Set("deleteAllStacks", Napi::Function::New<DeleteAllStacks>(env, "deleteAllStacks"));
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("AF_INET", Napi::Number::New(env, AF_INET));
  constants.Set("AF_INET6", Napi::Number::New(env, AF_INET6));
  constants.Set("AF_PACKET", Napi::Number::New(env, AF_PACKET));
  constants.Set("AF_NETLINK", Napi::Number::New(env, AF_NETLINK));
  constants.Set("SOCK_STREAM", Napi::Number::New(env, SOCK_STREAM));
  constants.Set("SOCK_DGRAM", Napi::Number::New(env, SOCK_DGRAM));
  constants.Set("SOCK_RAW", Napi::Number::New(env, SOCK_RAW));
  constants.Set("SOCK_NONBLOCK", Napi::Number::New(env, SOCK_NONBLOCK));
  constants.Set("SOCK_CLOEXEC", Napi::Number::New(env, SOCK_CLOEXEC));
  constants.Set("IFF_UP", Napi::Number::New(env, IFF_UP));
  constants.Set("IFF_LOOPBACK", Napi::Number::New(env, IFF_LOOPBACK));
  constants.Set("IFF_RUNNING", Napi::Number::New(env, IFF_RUNNING));
  constants.Set("IFA_F_NODAD", Napi::Number::New(env, IFA_F_NODAD));
  constants.Set("IFA_F_DADFAILED", Napi::Number::New(env, IFA_F_DADFAILED));
  constants.Set("IFA_F_TENTATIVE", Napi::Number::New(env, IFA_F_TENTATIVE));
  exports.Set("constants", constants);
  napi_add_env_cleanup_hook(env, NativeStack::DeleteAll, nullptr);
  return exports;
}

}  // namespace

NODE_API_MODULE(iothts, Init)
