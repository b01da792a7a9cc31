// NativeStack: one libioth stack as a JS object, and the share registry through which other threads
// of the process borrow it. Methods named JS_* are what JavaScript calls (src/internal/native.ts types them);
// the others are this class's own helpers. Defined in native_stack.cc, except the netlink listings
// (JS_Links, JS_Addresses, JS_Routes, JS_TcpSummary: netlink_dump.cc).
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
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
  // One stack as its owner and its borrowers (any thread) see it: libioth's stacks are process-wide
  // and safe to use from several threads (vdestack serialises socket creation with a mutex), but
  // not while being deleted. Every call into libioth is counted in `calls` (an InUse); deletion
  // first stops new calls (`closing`), then waits for those in flight, within the delete bound;
  // past it, the last call to end deletes the stack (`orphaned`). All fields under registry_mutex_.
  struct Shared {
    struct iothts_stack stack{};  // the libioth stack, its helper and taps, its namespace fd
    uint32_t delete_bound_ms = 0;
    bool closing = false;
    bool orphaned = false;
    std::atomic<bool> tcp{false};  // a SOCK_STREAM socket was opened (see JS_HadTcp)
    int calls = 0;
    std::condition_variable idle;  // notified when calls drops to 0 while closing
  };
  static std::mutex registry_mutex_;
  static std::unordered_map<uint32_t, std::shared_ptr<Shared>> registry_;  // open stacks by share id
  static uint32_t last_id_;

  // A call on the stack in progress: while one lives the stack is not deleted. Throws
  // ERR_IOTH_STACK_CLOSED if it is closed (here, or by the owning thread for a borrower). Name it
  // (`InUse stack{*this, info};`): it converts to the libioth stack only as a named object.
  class InUse {
   public:
    InUse(NativeStack &stack, const Napi::CallbackInfo &info);
    ~InUse();
    InUse(const InUse &) = delete;
    InUse &operator=(const InUse &) = delete;
    operator struct ioth *() const & { return shared_->stack.ioth; }
    operator struct ioth *() const && = delete;
    Shared &shared() const { return *shared_; }
   private:
    std::shared_ptr<Shared> shared_;
  };

  std::shared_ptr<Shared> shared_;  // null once closed or let go of
  int netns_ = -1;  // for iothts_socket's fast path: the owner's shared_->stack.netns, or a borrower's copy
  uint32_t id_ = 0;
  bool owner_ = true;

  void Borrow(const Napi::CallbackInfo &info);
  void LetGo();
  int Delete();
  static void DeleteNow(Shared &shared, uint32_t bound_ms);

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
