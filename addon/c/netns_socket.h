/* Between the C files only: what iothts_newstack (stack_lifecycle.c) needs from the fast path. */
#ifndef IOTHTS_NETNS_SOCKET_H
#define IOTHTS_NETNS_SOCKET_H

/* The network namespace of a stack's helper (pid `helper`) as an O_CLOEXEC fd, if this thread may
 * enter it and come back (tried once, here); else -1, and the stack's sockets come from the helper. */
int iothts_enterable_netns(int helper);

#endif
