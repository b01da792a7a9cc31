/* The vdebridge plugin, found by libioth without writing into the user's home. libioth loads a
 * plugin only from $HOME/.ioth/ or from its own directory, and no variable names another, so for the
 * one ioth_newstackv call that makes a vdebridge stack HOME points at the directory built beside
 * this addon (vdebridge/, holding .ioth/ioth_vdebridge-r.so and its helper): the environ slot of
 * HOME is swapped for a string that stays valid forever, and back, so that a getenv("HOME") on
 * another thread meanwhile reads one of two valid strings (the package's directory, for those
 * microseconds) rather than freed memory as setenv's reallocation can give. A HOME installed in
 * $HOME/.ioth/ by the user still comes first for every other plugin name. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ioth.h>
#include "../libioth_calls.h"
#include "plugin_home.h"

extern char **environ;

static int is_named(const char *plugin, const char *name) {
  size_t n = strlen(name);
  return strncmp(plugin, name, n) == 0 && (plugin[n] == 0 || plugin[n] == ',');
}

int iothts_is_vdebridge(const char *plugin) {
  return is_named(plugin, "vdebridge");
}

/* "HOME=<this addon's directory>/vdebridge", made once and never freed. */
static const char *home_entry(void) {
  static char *entry;
  if (entry == NULL) {
    Dl_info info;
    char self[PATH_MAX];
    if (dladdr((void *) home_entry, &info) == 0 || info.dli_fname == NULL)
      return NULL;
    snprintf(self, sizeof(self), "%s", info.dli_fname);
    if (asprintf(&entry, "HOME=%s/vdebridge", dirname(self)) < 0)
      entry = NULL;
  }
  return entry;
}

struct ioth *iothts_newstackv(const char *plugin, const char **vnlv) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  if (!iothts_is_vdebridge(plugin))
    return ioth_newstackv(plugin, vnlv);
  pthread_mutex_lock(&lock);
  const char *entry = home_entry();
  if (entry == NULL) {
    pthread_mutex_unlock(&lock);
    return errno = ENOENT, NULL;
  }
  /* The plugin, loaded here first (libioth's dlopen of the same file then gets this very object),
   * is told the program's HOME, which its helper needs (libvdeplug's default switch is there). */
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/.ioth/ioth_vdebridge-r.so", entry + 5);
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  void (*program_home)(int, const char *) = handle ? (void (*)(int, const char *)) dlsym(handle, "iothts_vdebridge_program_home") : NULL;
  char **slot = NULL;
  for (char **e = environ; e && *e && slot == NULL; e++)
    if (strncmp(*e, "HOME=", 5) == 0)
      slot = e;
  char *saved = slot ? *slot : NULL;
  if (program_home)
    program_home(1, saved ? saved + 5 : NULL);
  struct ioth *stack;
  if (slot) {
    __atomic_store_n(slot, (char *) entry, __ATOMIC_SEQ_CST);
    stack = ioth_newstackv(plugin, vnlv);
    __atomic_store_n(slot, saved, __ATOMIC_SEQ_CST);
  } else {  /* no HOME at all: setenv it is, for this call (libioth would look in "." otherwise) */
    setenv("HOME", entry + 5, 1);
    stack = ioth_newstackv(plugin, vnlv);
    unsetenv("HOME");
  }
  int err = errno;
  if (program_home)
    program_home(0, NULL);
  if (handle)
    dlclose(handle);
  pthread_mutex_unlock(&lock);
  errno = err;
  return stack;
}
