/* What the vdebridge plugin (plugin.c, in the Node process) and its helper (helper.c, a small
 * process of its own) say to each other over their command socket: a SOCK_SEQPACKET socketpair,
 * the helper's end as descriptor VDEBRIDGE_CMD_FD. One message per datagram, in both directions.
 *   helper -> plugin, once at start: a vdebridge_reply, 0 when every interface is up and bridged,
 *     else -1 with the errno and the index of the VNL (or -1) that failed; the helper then exits.
 *   plugin -> helper: a vdebridge_request; the helper answers with a vdebridge_reply, carrying the
 *     new socket as SCM_RIGHTS when rval is 0.
 * EOF on the socket (the plugin deleted the stack, or its process died) ends the helper. */
#ifndef IOTHTS_VDEBRIDGE_PROTOCOL_H
#define IOTHTS_VDEBRIDGE_PROTOCOL_H

#include <stdint.h>

#define VDEBRIDGE_CMD_FD 3
#define VDEBRIDGE_HELPER "iothts-vdebridge"
/* Interfaces per stack: each is a tap plus a VDE connection in one epoll loop. */
#define VDEBRIDGE_MAX_IFACES 32

struct vdebridge_request {
  int32_t domain, type, protocol;
};

struct vdebridge_reply {
  int32_t rval, err, index;
};

#endif
