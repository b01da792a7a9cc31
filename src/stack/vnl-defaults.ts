// What iothts adds to the VNLs it is given before the plugin opens them. vxvde's unicast socket
// keeps the kernel's default receive buffer (212 KB): at MTU 1500 a bulk TCP flow overruns it, and
// the datagrams it drops (UDP RcvbufErrors) came back one for one as TCP retransmissions
// (BENCHMARKS.md). So a vxvde VNL that names no `rcvbuf=` gets one. The kernel caps SO_RCVBUF at
// net.core.rmem_max (212992 on a stock kernel, which still doubles the default): nothing fails
// where the process may not have more. A VNL's own `/rcvbuf=N` wins.

/** The receive buffer asked for on vxvde VNLs that name none (libvdeplug's size syntax). */
export const VXVDE_RCVBUF = '4M';

/** `vnl` (or `name:vnl`) as the plugin gets it: with vxvde's receive buffer unless it sets one. */
export function withVnlDefaults(vnl: string): string {
  const scheme = 'vxvde://';
  const at = vnl.indexOf(scheme);
  const colon = vnl.indexOf(':');
  // At the start, or after an interface name ("eth1:vxvde://..."), which holds no ':'.
  if (at < 0 || (at > 0 && colon !== at - 1)) return vnl;
  const rest = vnl.slice(at + scheme.length);
  if (rest.split('/').slice(1).some((o) => o.startsWith('rcvbuf='))) return vnl;
  return `${vnl.slice(0, at)}${scheme}${rest.endsWith('/') ? rest.slice(0, -1) : rest}/rcvbuf=${VXVDE_RCVBUF}`;
}
