// The N-API addon over libioth: what it exports, and the environment cleanup hook.
// Every entry point validates every argument (args.h), so a wrong call is a JS exception, never a
// crash. Names, defaults, Node's error messages and friendlier wording live in TypeScript (src/):
// errors leave here as errno + syscall only.
//
// Some policy does live on this side, each piece because it must run synchronously, without
// JavaScript, or inside the window between two setns calls:
// - Deleting a stack is bounded (c/stack_lifecycle.c): past the bound, the helper is killed with
//   SIGKILL and its taps closed. The bound comes from TypeScript (the constructor's deleteBoundMs),
//   but the kill runs here, where the cleanup hook of a terminating worker can still run it.
// - vdestack's helper and taps are found by diffing /proc/self/task/*/children and /proc/self/fd
//   around ioth_newstack (c/stack_lifecycle.c): nothing else reports them.
// - The setns fast path for sockets (c/netns_socket.c): between the two setns no other code of the
//   thread may run, and a failed return aborts the process rather than leave it in a stack's namespace.
// - Plugins whose sockets are not kernel sockets are refused (ENOTSOCK): Node could not use them.
// - Limits that keep one call bounded: 64 VNLs per stack, 65,507 bytes per sendTo, 60 s per
//   recvFrom, 60 s per teardown bound, a 2 s receive timeout on the stack's netlink sockets
//   (c/netlink.c: the stack answers at once or not at all), only IFA_F_NODAD settable on addresses.
// - Which stacks ever had a TCP socket (hadTcp), recorded where sockets are made, so that an idle
//   stack's teardown skips the sock_diag dump.
#include <napi.h>

#include <linux/if_addr.h>
#include <net/if.h>
#include <sys/socket.h>

#include "args.h"
#include "native_stack.h"
#include "socket_calls.h"
#include "stack_broker.h"
#include "udp_receiver.h"

namespace iothts {
namespace {

Napi::Value JS_PluginDir(const Napi::CallbackInfo &info) {
  Args{info, "pluginDir"}.Count(0);
  char dir[4096];
  Check(info.Env(), "dladdr", [&] { return iothts_plugin_dir(dir, sizeof(dir)); }, ENOENT);
  return Napi::String::New(info.Env(), dir);
}

Napi::Value JS_DeleteAllStacks(const Napi::CallbackInfo &info) {
  Args{info, "deleteAllStacks"}.Count(0);
  NativeStack::DeleteAll(nullptr);
  return info.Env().Undefined();
}

// The process is ending: the stacks deleted from now on do not wait for their devices to be
// unregistered (iothts_process_ending).
Napi::Value JS_ProcessEnding(const Napi::CallbackInfo &info) {
  Args{info, "processEnding"}.Count(0);
  iothts_process_ending();
  return info.Env().Undefined();
}

Napi::Object Constants(Napi::Env env) {
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
  return constants;
}

}  // namespace
}  // namespace iothts

// (At file scope: NODE_API_MODULE pastes the function's name into another identifier.)
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace iothts;
  exports.Set("NativeStack", NativeStack::Init(env));
  exports.Set("pluginDir", Napi::Function::New<JS_PluginDir>(env, "pluginDir"));
  exports.Set("bindSocket", Napi::Function::New<JS_BindSocket>(env, "bindSocket"));
  exports.Set("connectSocket", Napi::Function::New<JS_ConnectSocket>(env, "connectSocket"));
  exports.Set("setSocketOption", Napi::Function::New<JS_SetSocketOption>(env, "setSocketOption"));
  exports.Set("sendTo", Napi::Function::New<JS_SendTo>(env, "sendTo"));
  exports.Set("unsentBytes", Napi::Function::New<JS_UnsentBytes>(env, "unsentBytes"));
  exports.Set("recvFrom", Napi::Function::New<JS_RecvFrom>(env, "recvFrom"));
  exports.Set("socketName", Napi::Function::New<JS_SocketName>(env, "socketName"));
  exports.Set("udpReceiverOpen", Napi::Function::New<JS_UdpReceiverOpen>(env, "udpReceiverOpen"));
  exports.Set("udpReceiverSet", Napi::Function::New<JS_UdpReceiverSet>(env, "udpReceiverSet"));
  exports.Set("udpReceiverClose", Napi::Function::New<JS_UdpReceiverClose>(env, "udpReceiverClose"));
  exports.Set("deleteAllStacks", Napi::Function::New<JS_DeleteAllStacks>(env, "deleteAllStacks"));
  exports.Set("processEnding", Napi::Function::New<JS_ProcessEnding>(env, "processEnding"));
  exports.Set("constants", Constants(env));
  ExportBroker(env, exports);
  napi_add_env_cleanup_hook(env, NativeStack::DeleteAll, nullptr);
  return exports;
}

NODE_API_MODULE(iothts, Init)
