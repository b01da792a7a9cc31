/* The C side of the addon: every call into libioth and nlinline goes through here (addon/c/).
 * ioth.h expands nlinline's inline netlink helpers, which are C only, so the C++ binding sees just
 * these prototypes. Each function returns -1 (or NULL) with errno set on failure, like libioth.
 *   c/stack_lifecycle.c  iothts_newstack, iothts_delstack (the helper and its taps), plugin dir
 *   c/netns_socket.c     iothts_socket and the setns fast path
 *   c/netlink.c          the dumps, the TCP summary, the on-link route, the address with flags
 *   c/ioth_wrappers.c    plain pass-throughs to libioth/nlinline */
#ifndef IOTHTS_LIBIOTH_CALLS_H
#define IOTHTS_LIBIOTH_CALLS_H

#include <stddef.h>

/* IFNAMSIZ, without net/if.h (it clashes with linux/if.h, which nlinline includes) */
#define IOTHTS_IFNAMSIZ 16

#ifdef __cplusplus
extern "C" {
#endif

struct ioth;

/* A stack, with what iothts_delstack needs to end it if its helper gets stuck: the helper process
 * vdestack clones (0 if none), and its taps in the fd table it shares with us, each with its
 * inode, so that only those very files are closed. netns: the helper's network namespace (an
 * O_CLOEXEC fd of /proc/<helper>/ns/net) when this process may enter it, for iothts_socket's fast
 * path; -1 otherwise (other plugins, or no CAP_SYS_ADMIN: decided once, at creation). */
struct iothts_stack {
  struct ioth *ioth;
  int helper;
  int netns;
  int nfds;
  struct { int fd; unsigned long dev, ino; } fds[64];
};

int iothts_newstack(struct iothts_stack *out, const char *plugin, const char **vnlv);
/* ioth_delstack, bounded: vdestack's shutdown closes the VDE connection under a helper that may be
 * blocked reading it (a hub's recv waits on epoll with no timeout, and the descriptor it waits on
 * may already be another file), then waits for that helper, which could be forever. After bound_ms
 * (chosen by the TypeScript layer) the helper is killed and its taps closed; its end of the command
 * pipe is then left open. */
int iothts_delstack(struct iothts_stack *stack, unsigned int bound_ms);
/* Called from the process's end (the 'exit' event; no-op from a worker thread): every stack
 * deleted from then on leaves its taps' unregistration to the kernel's teardown of the stack's
 * namespace instead of waiting for it (the helper is still waited for). */
void iothts_process_ending(void);

/* A socket of the stack as a plain kernel fd owned by the caller (close it with close(2)).
 * netns >= 0 (a stack's netns field, or a dup of it): the fast path, socket(2) called by this
 * thread inside that network namespace (setns there and back: no helper round trip). Otherwise, or
 * if that setns is refused, ioth_msocket: the fd libioth returns is duplicated and released from
 * libioth's table, so libuv can own the copy. Fails with ENOTSOCK when the plugin's fds are not
 * kernel sockets. *via (if not NULL) tells which way was taken: 1 fast path, 0 ioth_msocket. */
int iothts_socket(struct ioth *stack, int netns, int domain, int type, int protocol, int *via);
/* 1 if iothts_socket(stack, netns, ...) called from this thread takes the fast path, else 0. */
int iothts_socket_fastpath(int netns);
/* Closes the calling thread's cached fd of its own network namespace (the fast path opens it on
 * first use); for the end of a thread's Node environment. */
void iothts_release_thread(void);

int iothts_if_nametoindex(struct ioth *stack, const char *ifname);
int iothts_linksetupdown(struct ioth *stack, unsigned int ifindex, int up);
int iothts_linksetaddr(struct ioth *stack, unsigned int ifindex, const unsigned char mac[6]);
int iothts_linkgetaddr(struct ioth *stack, unsigned int ifindex, unsigned char mac[6]);
int iothts_linksetmtu(struct ioth *stack, unsigned int ifindex, unsigned int mtu);
int iothts_ipaddr(struct ioth *stack, int add, int family, const void *addr, int prefixlen,
    unsigned int ifindex);
/* RTM_NEWADDR as iothts_ipaddr's add, with IFA_FLAGS `flags` (IFA_F_NODAD: usable at once, no
 * duplicate address detection), which nlinline's ipaddr_add cannot send. Through the stack's netlink
 * (libioth's nldialog), like the on-link route below. */
int iothts_ipaddr_add_flags(struct ioth *stack, int family, const void *addr, int prefixlen,
    unsigned int ifindex, unsigned int flags);
/* gw NULL: an on-link route through ifindex (nlinline always sends a gateway, so that one is
 * built here and sent with libioth's nldialog). dst NULL or dst_prefixlen 0: default route. */
int iothts_iproute(struct ioth *stack, int add, int family, const void *dst, int dst_prefixlen,
    const void *gw, unsigned int ifindex);
int iothts_iplink_add(struct ioth *stack, const char *ifname, unsigned int ifindex,
    const char *type, const char *data);
int iothts_iplink_del(struct ioth *stack, const char *ifname, unsigned int ifindex);

/* A netlink dump (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE) of the stack: every reply message up
 * to NLMSG_DONE, concatenated in a malloc'ed buffer (*out) that the caller frees. Returns its length.
 * (libioth's own ioth_getifaddrs closes its netlink socket with close() instead of ioth_close(), so
 * the stack's socket count never returns to zero and ioth_delstack then fails with EBUSY.) */
long iothts_nldump(struct ioth *stack, int type, int family, void **out);

/* How many frames the stack's links (loopback aside) hold that their driver has not yet handed on:
 * waiting in a root qdisc, or passed to the driver and neither transmitted nor dropped. For a tap
 * that is what vdestack's helper has not read yet (a tap counts a frame transmitted when its
 * reader takes it): the helper ends at the next wake-up that sees its command pipe closed, before
 * reading the tap, so a frame still there when the stack is deleted never reaches the network.
 * netns as for iothts_socket (the netlink socket is a plain one of the stack, opened by setns where
 * allowed). -1 with errno set if the stack's netlink cannot say. */
long iothts_bridge_backlog(struct ioth *stack, int netns);

/* The stack's TCP sockets (IPv4 and IPv6, every state), counted through NETLINK_SOCK_DIAG (a
 * socket opened in the stack, as for the dumps above), indexed by the kernel's TCP state (1
 * ESTABLISHED, 2 SYN_SENT, 3 SYN_RECV, 4 FIN_WAIT1, 5 FIN_WAIT2, 6 TIME_WAIT, 7 CLOSE, 8 CLOSE_WAIT,
 * 9 LAST_ACK, 10 LISTEN, 11 CLOSING, 12 NEW_SYN_RECV): how many there are, how many have bytes
 * sent but not yet acknowledged or not yet sent (inet_diag's idiag_wqueue; a FIN counts as one
 * byte), and those bytes. For LISTEN the kernel reports the backlog there instead. */
#define IOTHTS_TCP_STATES 13
/* And every socket but the listening ones, with its endpoints (addresses as inet_diag gives them:
 * 4 bytes for AF_INET, 16 for AF_INET6; ports in host order): who its peer is. `conns` is
 * malloc'ed (NULL when there are none); the caller frees it, also when the call failed. */
struct iothts_tcp_conn {
  unsigned char family, state;
  unsigned short local_port, remote_port;
  unsigned char local[16], remote[16];
  unsigned int unacked_bytes;
};
struct iothts_tcp_summary {
  unsigned int sockets[IOTHTS_TCP_STATES];
  unsigned int unacked[IOTHTS_TCP_STATES];
  unsigned long long unacked_bytes[IOTHTS_TCP_STATES];
  struct iothts_tcp_conn *conns;
  size_t nconns, capacity;
};
int iothts_tcp_summary(struct ioth *stack, struct iothts_tcp_summary *out);

/* Where libioth looks for system plugins: the "ioth" directory beside libioth.so. */
int iothts_plugin_dir(char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
