// Args and the errors of the boundary (see args.h).
#include "args.h"

#include <sys/socket.h>

#include <cstring>

namespace iothts {

Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall) {
  if (err == 0) err = EIO;
  Napi::Error error = Napi::Error::New(env, strerror(err));
  error.Set("errno", Napi::Number::New(env, -err));  // negative, like Node's system errors
  error.Set("syscall", syscall);
  // Data, not a message: JavaScript has no name for the errnos libuv lacks (EUSERS, EBADFD, ...).
  if (const char *name = strerrorname_np(err)) error.Set("errnoName", name);
  return error;
}

Napi::Error ArgError(Napi::Env env, bool range, const char *code, const std::string &message) {
  Napi::Error error = range ? Napi::Error(Napi::RangeError::New(env, message))
                            : Napi::Error(Napi::TypeError::New(env, message));
  error.Set("code", code);
  return error;
}

Napi::Error StateError(Napi::Env env, const char *code, const std::string &message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  return error;
}

std::string Args::Where(size_t i) const { return std::string(fn) + ": argument " + std::to_string(i); }

void Args::Count(size_t n) const {
  if (info.Length() != n)
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_COUNT",
        std::string(fn) + ": expected " + std::to_string(n) + " arguments, got " +
        std::to_string(info.Length()));
}

std::string Args::String(size_t i, size_t maxlen) const {
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

uint32_t Args::Uint(size_t i, uint32_t min, uint32_t max) const {
  if (!info[i].IsNumber())
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d)))
    throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE",
        Where(i) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<uint32_t>(d);
}

bool Args::Bool(size_t i) const {
  if (!info[i].IsBoolean())
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// (IsBuffer() also says yes to a DataView, which Buffer's accessors then refuse with an uncoded
// "Invalid argument": hence the typed array check.)
Napi::Uint8Array Args::ByteArray(size_t i) const {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_TYPE", Where(i) + " must be a Buffer");
  return info[i].As<Napi::Uint8Array>();
}

std::vector<uint8_t> Args::Bytes(size_t i, size_t len) const {
  Napi::Uint8Array buf = ByteArray(i);
  if (buf.ByteLength() != len)
    throw ArgError(info.Env(), true, "ERR_OUT_OF_RANGE", Where(i) + " must be " + std::to_string(len) + " bytes long");
  return std::vector<uint8_t>(buf.Data(), buf.Data() + len);
}

int Args::Family(size_t i) const {
  if (!info[i].IsNumber() || (info[i].As<Napi::Number>().DoubleValue() != 4 &&
                              info[i].As<Napi::Number>().DoubleValue() != 6))
    throw ArgError(info.Env(), false, "ERR_INVALID_ARG_VALUE", Where(i) + " must be 4 or 6");
  return info[i].As<Napi::Number>().DoubleValue() == 6 ? AF_INET6 : AF_INET;
}

}  // namespace iothts
