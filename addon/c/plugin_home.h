/* Between the C files only: how iothts_newstack (stack_lifecycle.c) reaches the vdebridge plugin. */
#ifndef IOTHTS_PLUGIN_HOME_H
#define IOTHTS_PLUGIN_HOME_H

struct ioth;

/* ioth_newstackv, except that the plugin "vdebridge" is found in this addon's vdebridge/.ioth/. */
struct ioth *iothts_newstackv(const char *plugin, const char **vnlv);
/* True for "vdebridge" and "vdebridge,OPTIONS". */
int iothts_is_vdebridge(const char *plugin);

#endif
