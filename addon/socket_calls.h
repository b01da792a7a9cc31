// The module functions JavaScript calls on a stack's sockets (socket_calls.cc): plain kernel
// socket calls on descriptors from NativeStack's socket(), which live in the stack's namespace.
#pragma once

#include <napi.h>

namespace iothts {

Napi::Value JS_BindSocket(const Napi::CallbackInfo &info);
Napi::Value JS_ConnectSocket(const Napi::CallbackInfo &info);
Napi::Value JS_SetSocketOption(const Napi::CallbackInfo &info);
Napi::Value JS_SendTo(const Napi::CallbackInfo &info);
Napi::Value JS_RecvFrom(const Napi::CallbackInfo &info);
Napi::Value JS_UnsentBytes(const Napi::CallbackInfo &info);
Napi::Value JS_SocketName(const Napi::CallbackInfo &info);

}  // namespace iothts
