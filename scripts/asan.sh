#!/usr/bin/env bash
# Test-only: the addon built with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/
# (never build/Release or prebuilds/), and a command run against it:
#   scripts/asan.sh                build only; prints the addon's path
#   scripts/asan.sh CMD [ARGS...]  builds, then runs CMD with IOTHTS_ADDON naming that addon (read by
#                                  src/internal/native.ts and the native fixtures) and gcc's libasan
#                                  preloaded, e.g. scripts/asan.sh npx jest test/reliability/fuzz-native
# Node itself is not built with ASan: the sanitizer runtime must come first in the process (an ASan
# library loaded by dlopen would find the allocator already in use), hence LD_PRELOAD.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-asan
flags='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g'
node node_modules/.bin/cmake-js compile --out "$out" --config RelWithDebInfo --log-level error \
  --CDCMAKE_C_FLAGS="$flags" --CDCMAKE_CXX_FLAGS="$flags" \
  --CDCMAKE_SHARED_LINKER_FLAGS='-fsanitize=address,undefined' >&2
addon=$PWD/$out/RelWithDebInfo/iothts.node
[ -f "$addon" ] || { echo "asan: the build made no $addon" >&2; exit 1; }
[ $# -gt 0 ] || { echo "$addon"; exit 0; }

# The dlopen shim first (scripts/asan-dlopen.c: libvdeplug's RTLD_DEEPBIND), then the runtimes.
shim=$PWD/$out/asan-dlopen.so
[ "$shim" -nt scripts/asan-dlopen.c ] || cc -shared -fPIC -O2 -o "$shim" scripts/asan-dlopen.c -ldl
preload=$shim
for lib in libasan.so libubsan.so; do
  path=$(gcc -print-file-name="$lib")
  # gcc prints the bare name when it has no such runtime (libasan8/libubsan1, which gcc depends on).
  [ "$path" != "$lib" ] && [ -e "$path" ] || { echo "asan: gcc has no $lib (apt-get install gcc)" >&2; exit 1; }
  preload+=":$(readlink -f "$path")"
done

# detect_leaks=0: Node frees little of what it holds at exit (V8's heap, the loop, OpenSSL), so
#   LeakSanitizer would report the whole runtime; use-after-free and overflows are what we look for.
# allocator_may_return_null=1: a huge Buffer (the fuzz tests make some) must fail as with glibc
#   (NULL, then Node's RangeError), not abort as ASan's allocator does by default.
# abort_on_error=0, exitcode=86: a report ends the process with a status the tests tell apart from
#   a JavaScript failure (1) without a core dump.
# verify_asan_link_order=0: the shim comes before libasan; it defines dlopen only, so every
#   allocation function still resolves to the sanitizer's (what that check is there to ensure).
# max_free_fill_size=4096: freed blocks are overwritten (free_fill_byte, 0x55). ASan checks only the
#   accesses of code built with it (the addon); libioth and vdestack are not, and would read a freed
#   stack's intact old contents unnoticed: filled, their pointers there are wild and the use of
#   freed memory ends in a SEGV that ASan reports with its stack.
# allow_user_segv_handler=0: Node installs a SIGSEGV handler of its own (V8's WebAssembly trap
#   handler), which re-raises the signal: a crash would end the process without a word. With
#   ASan's kept, a SEGV is reported with its stack (the price: a WebAssembly out-of-bounds trap
#   would be reported too; what runs under this build uses no WebAssembly).
# halt_on_error=1: the first report ends the run (what follows a memory error proves nothing).
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:exitcode=86:halt_on_error=1:verify_asan_link_order=0:max_free_fill_size=4096:allow_user_segv_handler=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
export IOTHTS_ADDON=$addon
LD_PRELOAD=$preload${LD_PRELOAD:+:$LD_PRELOAD} exec "$@"
