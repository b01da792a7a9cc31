/* Test-only, for scripts/asan.sh: dlopen without RTLD_DEEPBIND. libvdeplug opens its plugins
 * (libvdeplug_null.so, _vxvde.so, ...) with RTLD_DEEPBIND, which the sanitizer runtime refuses
 * (it would let a plugin bind to libc's malloc instead of the sanitizer's), ending the process.
 * Without the flag a plugin's symbols resolve through the global scope first: the same functions
 * here, since no library of the process defines a vdeplug plugin's names. Preloaded before libasan. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

void *dlopen(const char *file, int flags) {
  static void *(*next)(const char *, int);
  if (next == NULL)
    next = (void *(*)(const char *, int)) dlsym(RTLD_NEXT, "dlopen");
  return next(file, flags & ~RTLD_DEEPBIND);
}
