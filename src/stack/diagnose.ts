// Why a stack could not be made, said so that the user can act: libioth reports a missing plugin,
// an unknown VNL module or a refused namespace as bare errnos, and vdestack cannot report a tap it
// failed to open at all (the interface is just missing).
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { codedError, IothError, withContext } from '../internal/errors';
import { native } from '../internal/native';
import { describePluginDirs, installedPlugins } from './plugins';
import { vdebridgeHint } from './vdebridge-hints';

const { ENOTSUP, EPROTONOSUPPORT, EPERM, ENOSPC } = osConstants.errno;
const EUSERS = 87; // Linux's "too many users": libuv, so os.constants.errno, has no name for it

const USERNS_HINT = 'vdestack could not make its user and network namespace: enable unprivileged user namespaces ' +
  '(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); a plain chroot refuses them ' +
  'too (enter it with a mount namespace and pivot_root); `iothts doctor` names the cause';

/** The vdeplug modules a VNL may name: the installed ones, and those built into libvdeplug. */
function vdeplugModules(): string {
  const dir = path.join(path.dirname(native.pluginDir()), 'vdeplug');
  try {
    return fs.readdirSync(dir).map((f) => /^libvdeplug_(\w+)\.so$/.exec(f)?.[1]).filter(Boolean)
      .concat(['vde', 'vxvde', 'udp', 'ptp', 'tap', 'hub', 'switch', 'null', 'cmd', 'seqpacket'])
      .filter((m, i, all) => all.indexOf(m) === i).sort().join(', ');
  } catch {
    return 'vde, vxvde, hub, switch, ptp, udp, null, slirp (when installed)';
  }
}

/** A failed ioth_newstack, with what to do about it. */
export function creationError(err: unknown, plugin: string, vnls: readonly string[], pluginOptions = ''): IothError {
  const e = err as IothError;
  const context = `plugin "${plugin}"${vnls.length ? `, VNL ${vnls.map((v) => `"${v}"`).join(' ')}` : ''}`;
  const fields = { plugin, vnl: [...vnls] };
  const errno = typeof e?.errno === 'number' ? -e.errno : 0;
  if (errno === ENOTSUP) { // dlopen found no such plugin
    const found = installedPlugins();
    return withContext(err, context, fields, found.includes(plugin)
      ? `libioth found ioth_${plugin} in ${describePluginDirs()} but could not load it (a missing library or symbol)`
      : `no libioth plugin "${plugin}" in ${describePluginDirs()} (installed: ${found.join(', ') || 'none'})`);
  }
  if (errno === EPROTONOSUPPORT) { // no vdeplug module for the VNL's scheme
    return withContext(err, context, fields,
      `unknown VNL module; a VNL is module://address[/options] with module one of ${vdeplugModules()}`);
  }
  const bridgeHint = plugin === 'vdebridge' ? vdebridgeHint(errno, vnls, pluginOptions) : undefined;
  if (bridgeHint) return withContext(err, context, fields, bridgeHint);
  if ((plugin === 'vdestack' || plugin === 'vdebridge') && (errno === EPERM || errno === ENOSPC || errno === EUSERS)) {
    return withContext(err, context, fields, USERNS_HINT.replace('vdestack', plugin));
  }
  return withContext(err, context, fields, vnls.length
    ? 'check the VNL (e.g. "vxvde://234.0.0.1", "vde:///run/switch", "slirp://") and that its network exists'
    : undefined);
}

/** The error for vdestack interfaces that were not made (no usable /dev/net/tun, most often). */
export function missingInterfaceError(missing: readonly string[], vnls: readonly string[]): IothError {
  return codedError('ENODEV', `vdestack created no interface ${missing.join(', ')} for VNL ${vnls.join(' ')}: ` +
    `it needs /dev/net/tun${fs.existsSync('/dev/net/tun') ? ' to be usable inside a user namespace (openable by this user; `iothts doctor` tells)' : ', which is missing (modprobe tun)'}`);
}
