/* Passing a descriptor over a UNIX socket (SCM_RIGHTS), as the socket broker (broker.c) and
 * vdebridge's helper (vdebridge/helper.c) both answer with one. Header-only: the helper is a
 * program of its own, not linked with the addon. */
#ifndef IOTHTS_SCM_RIGHTS_H
#define IOTHTS_SCM_RIGHTS_H

#include <string.h>
#include <sys/socket.h>

/* Room for one descriptor's control message. */
struct iothts_rights {
  union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } u;
};

/* Attaches fd to msg as SCM_RIGHTS, in `control` (nothing when fd < 0). */
static inline void iothts_attach_fd(struct msghdr *msg, struct iothts_rights *control, int fd) {
  if (fd < 0)
    return;
  memset(control, 0, sizeof(*control));
  msg->msg_control = control->u.buf;
  msg->msg_controllen = sizeof(control->u.buf);
  struct cmsghdr *c = CMSG_FIRSTHDR(msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

#endif
