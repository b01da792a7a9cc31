// The decoding of the link, address and route dumps (netlink_dump.cc), for any source of them: a
// stack of this process (NativeStack), or a netlink socket from a parent's broker (stack_broker.cc).
#pragma once

#include <napi.h>

#include <functional>

namespace iothts {

// Runs the netlink dump RTM_GET* `request`: its replies in a malloc'ed buffer (*raw, freed by the
// caller) and their length, or -1 with errno set.
using DumpSource = std::function<long(int request, void **raw)>;

Napi::Value ListLinks(Napi::Env env, const DumpSource &source);
Napi::Value ListAddresses(Napi::Env env, const DumpSource &source);
Napi::Value ListRoutes(Napi::Env env, const DumpSource &source);

}  // namespace iothts
