// What every entry point shares: reading its arguments (Args) and making its errors.
// A bad argument is a TypeError/RangeError with a Node-style code and a message naming the function
// and the argument. A failed system or libioth call is an Error carrying only `errno` (negative, as
// in Node), `syscall`, strerror's text as `message` and the C library's name of the errno
// (`errnoName`): the TypeScript side (src/internal/native.ts, src/internal/errors.ts fromNative) chooses the code and
// writes Node's message from those fields, so no text made here is ever parsed there.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "libioth_calls.h"

namespace iothts {

constexpr uint32_t kMaxIfindex = 0x7fffffff;
constexpr size_t kMaxIfname = IOTHTS_IFNAMSIZ - 1;

// The error of a failed call: errno `err` (0, which no failure should leave, becomes EIO) of `syscall`.
Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall);
// An argument error: a RangeError when `range`, else a TypeError.
Napi::Error ArgError(Napi::Env env, bool range, const char *code, const std::string &message);
// A plain Error with a code, for a state rather than an argument (ERR_IOTH_STACK_CLOSED), as the
// TypeScript layer throws the same code.
Napi::Error StateError(Napi::Env env, const char *code, const std::string &message);

// Makes one call that fails the libioth/libc way (a negative result, errno set) and returns its
// result, or throws its ErrnoError. errno is cleared first, so a call that fails without setting it
// reports `fallback`: never 0, never what an earlier call left there. `syscall` is the name, or a
// function giving it once the call has run (socket(): the setns path or libioth's).
template <typename Name, typename Call>
auto Check(Napi::Env env, Name syscall, Call &&call, int fallback = EIO) {
  errno = 0;
  auto rc = call();
  if (rc < 0) {
    int err = errno ? errno : fallback;
    if constexpr (std::is_invocable_v<Name>)
      throw ErrnoError(env, err, syscall());
    else
      throw ErrnoError(env, err, syscall);
  }
  return rc;
}

// Each getter throws (C++ exceptions are enabled) with a Node-style code on a bad argument.
struct Args {
  const Napi::CallbackInfo &info;
  const char *fn;

  std::string Where(size_t i) const;
  void Count(size_t n) const;
  std::string String(size_t i, size_t maxlen) const;
  bool IsNull(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }
  uint32_t Uint(size_t i, uint32_t min, uint32_t max) const;
  bool Bool(size_t i) const;
  // A Buffer or another Uint8Array.
  Napi::Uint8Array ByteArray(size_t i) const;
  std::vector<uint8_t> Bytes(size_t i, size_t len) const;
  // 4 or 6, as AF_INET or AF_INET6.
  int Family(size_t i) const;
  size_t AddrLen(int family) const { return family == AF_INET6 ? 16 : 4; }
};

}  // namespace iothts
