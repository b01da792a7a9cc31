// NativeStack: one libioth stack as a JS object, and the share registry through which other threads
// of the process borrow it. Methods named JS_* are what JavaScript calls (src/internal/native.ts types them);
// the others are this class's own helpers. Defined in native_stack.cc, except the netlink listings
// (JS_Links, JS_Addresses, JS_Routes, JS_TcpSummary: netlink_dump.cc).
#pragma once

#include <napi.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "libioth_calls.h"

namespace iothts {

// The longest teardown bound a caller may ask for (ms): past a minute a teardown is a hang.
constexpr uint32_t kMaxDeleteBoundMs = 60000;

class NativeStack : public Napi::ObjectWrap<NativeStack> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new NativeStack(plugin: string, vnls: string[], deleteBoundMs), or new NativeStack(shareId) to
  // use, from another thread, a stack that a NativeStack of this process owns (see JS_ShareId).
  // deleteBoundMs bounds its deletion (iothts_delstack), whoever deletes it: close(), the process's
  // exit, or the environment cleanup hook, where no JavaScript can run to say.
  explicit NativeStack(const Napi::CallbackInfo &info);
  ~NativeStack() override { Delete(); }

  // Deletes every stack of this thread's environment, so helper processes end with the process
  // instead of lingering until they notice the parent is gone. Run by the environment cleanup hook
  // (normal exit, worker termination) and by src/internal/native.ts on process 'exit' (process.exit() and
  // uncaught exceptions skip the cleanup hooks).
  static void DeleteAll(void *);

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
  uint32_t delete_bound_ms_ = 0;  // the owner's, from the constructor

  void Borrow(const Napi::CallbackInfo &info);
  void LetGo();
  int Delete();
  // The stack, or ERR_IOTH_STACK_CLOSED (closed here, or by the owning thread for a borrower).
  struct ioth *Live(const Napi::CallbackInfo &info);

  Napi::Value JS_Close(const Napi::CallbackInfo &info);
  Napi::Value JS_ShareId(const Napi::CallbackInfo &info);
  Napi::Value JS_Socket(const Napi::CallbackInfo &info);
  Napi::Value JS_SocketPath(const Napi::CallbackInfo &info);
  Napi::Value JS_HadTcp(const Napi::CallbackInfo &info);
  Napi::Value JS_ServeChildren(const Napi::CallbackInfo &info);  // stack_broker.cc
  Napi::Value JS_IfNameToIndex(const Napi::CallbackInfo &info);
  Napi::Value JS_LinkSetUpDown(const Napi::CallbackInfo &info);
  Napi::Value JS_LinkSetAddr(const Napi::CallbackInfo &info);
  Napi::Value JS_LinkGetAddr(const Napi::CallbackInfo &info);
  Napi::Value JS_LinkSetMtu(const Napi::CallbackInfo &info);
  Napi::Value JS_IpAddr(const Napi::CallbackInfo &info);
  Napi::Value JS_IpAddrAdd(const Napi::CallbackInfo &info);
  Napi::Value JS_IpRoute(const Napi::CallbackInfo &info);
  Napi::Value JS_IpLinkAdd(const Napi::CallbackInfo &info);
  Napi::Value JS_IpLinkDel(const Napi::CallbackInfo &info);
  // netlink_dump.cc
  Napi::Value JS_Links(const Napi::CallbackInfo &info);
  Napi::Value JS_Addresses(const Napi::CallbackInfo &info);
  Napi::Value JS_Routes(const Napi::CallbackInfo &info);
  Napi::Value JS_TcpSummary(const Napi::CallbackInfo &info);
};

}  // namespace iothts
