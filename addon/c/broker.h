/* The socket broker (broker.c): how a child process gets sockets of its parent's stack. */
#ifndef IOTHTS_BROKER_H
#define IOTHTS_BROKER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ioth;

/* The longest broker name (an abstract UNIX socket name, without its leading NUL). */
#define IOTHTS_BROKER_NAME 64

/* Starts (once per stack; later calls return the same name) a thread of this process that answers
 * socket requests for `stack` from processes of the same user, in this network namespace, over the
 * abstract UNIX socket written to `name`. netns: as for iothts_socket (duplicated here). 0 or -1. */
int iothts_broker_start(struct ioth *stack, int netns, char name[IOTHTS_BROKER_NAME]);
/* Stops the stack's broker, if any, waiting for a request being answered: after it returns, the
 * broker no longer touches the stack (call it before deleting the stack). */
void iothts_broker_stop(struct ioth *stack);

/* A socket of the stack served by broker `name`, as a kernel fd owned by the caller (O_CLOEXEC):
 * -1 with errno: ECONNREFUSED (no such broker: its process has ended or closed the stack),
 * ETIMEDOUT (no answer within 5 s), EACCES (the broker's process has another effective uid), or
 * the error of socket(2) in the stack. */
int iothts_broker_socket(const char *name, int domain, int type, int protocol);

/* iothts_nldump (libioth_calls.h) on a netlink socket the caller made (NETLINK_ROUTE), e.g. one
 * from iothts_broker_socket; fd stays open. */
long iothts_nldump_fd(int fd, int type, int family, void **out);

#ifdef __cplusplus
}
#endif
#endif
