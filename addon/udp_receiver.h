// A receive path for UDP sockets of a stack that names IPv6 zones on the stack (udp_receiver.cc).
// Node's own (UDPWrap::OnRecv) names a link-local sender's zone with if_indextoname in the
// process's network namespace, where the stack's interfaces do not exist.
#pragma once

#include <napi.h>

namespace iothts {

Napi::Value JS_UdpReceiverOpen(const Napi::CallbackInfo &info);
Napi::Value JS_UdpReceiverSet(const Napi::CallbackInfo &info);
Napi::Value JS_UdpReceiverClose(const Napi::CallbackInfo &info);

}  // namespace iothts
