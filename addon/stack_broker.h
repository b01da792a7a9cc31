// What stack_broker.cc adds to the addon's exports: the child's side of the socket broker.
#pragma once

#include <napi.h>

namespace iothts {

// brokerSocket(name, domain, type, protocol) -> fd; brokerLinks/brokerAddresses/brokerRoutes(name)
// -> the listings of NativeStack, through a netlink socket from the broker.
void ExportBroker(Napi::Env env, Napi::Object exports);

}  // namespace iothts
