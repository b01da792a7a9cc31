// The socket broker's N-API side (c/broker.c): NativeStack::serveChildren() in the owner process,
// and in a child the calls that take sockets and listings of the parent's stack through it.
#include "stack_broker.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "args.h"
#include "c/broker.h"
#include "native_stack.h"
#include "netlink_lists.h"

namespace iothts {

// serveChildren() -> the name of the broker that gives this stack's sockets to other processes of
// this user (started at the first call; stopped when the stack is deleted). The owner only.
Napi::Value NativeStack::JS_ServeChildren(const Napi::CallbackInfo &info) {
  Args{info, "serveChildren"}.Count(0);
  InUse stack{*this, info};
  if (!owner_)
    throw StateError(info.Env(), "ERR_IOTH_STACK_BORROWED", "only the thread that owns a stack can serve it to child processes");
  char name[IOTHTS_BROKER_NAME];
  Check(info.Env(), "iothts_broker_start", [&] { return iothts_broker_start(stack, netns_, name); });
  return Napi::String::New(info.Env(), name);
}

namespace {

constexpr size_t kMaxName = IOTHTS_BROKER_NAME - 1;

Napi::Value JS_BrokerSocket(const Napi::CallbackInfo &info) {
  Args a{info, "brokerSocket"};
  a.Count(4);
  std::string name = a.String(0, kMaxName);
  uint32_t domain = a.Uint(1, 0, 255);
  uint32_t type = a.Uint(2, 0, 0x7fffffff);
  uint32_t protocol = a.Uint(3, 0, 0xffff);
  int fd = Check(info.Env(), "iothts_broker_socket",
      [&] { return iothts_broker_socket(name.c_str(), domain, type, protocol); });
  return Napi::Number::New(info.Env(), fd);
}

// A dump through a NETLINK_ROUTE socket of the parent's stack, taken for this one dump.
DumpSource Through(const std::string &name) {
  return [name](int request, void **raw) -> long {
    int fd = iothts_broker_socket(name.c_str(), AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    long len = iothts_nldump_fd(fd, request, AF_UNSPEC, raw);
    int saved = errno;
    close(fd);
    errno = saved;
    return len;
  };
}

Napi::Value List(const Napi::CallbackInfo &info, const char *name,
    Napi::Value (*list)(Napi::Env, const DumpSource &)) {
  Args a{info, name};
  a.Count(1);
  return list(info.Env(), Through(a.String(0, kMaxName)));
}

Napi::Value JS_BrokerLinks(const Napi::CallbackInfo &info) { return List(info, "brokerLinks", ListLinks); }
Napi::Value JS_BrokerAddresses(const Napi::CallbackInfo &info) { return List(info, "brokerAddresses", ListAddresses); }
Napi::Value JS_BrokerRoutes(const Napi::CallbackInfo &info) { return List(info, "brokerRoutes", ListRoutes); }

}  // namespace

void ExportBroker(Napi::Env env, Napi::Object exports) {
  exports.Set("brokerSocket", Napi::Function::New<JS_BrokerSocket>(env, "brokerSocket"));
  exports.Set("brokerLinks", Napi::Function::New<JS_BrokerLinks>(env, "brokerLinks"));
  exports.Set("brokerAddresses", Napi::Function::New<JS_BrokerAddresses>(env, "brokerAddresses"));
  exports.Set("brokerRoutes", Napi::Function::New<JS_BrokerRoutes>(env, "brokerRoutes"));
}

}  // namespace iothts
