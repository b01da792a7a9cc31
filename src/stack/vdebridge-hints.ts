// What to do when the vdebridge plugin refuses a stack: its limits and its interface names, which
// libioth reports as bare errnos (E2BIG, EINVAL, EBUSY).
import { accessSync, closeSync, constants as fsConstants, existsSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { native } from '../internal/native';
import { expectedInterfaces } from './options';
import { vdebridgeDir } from './plugins';

const { E2BIG, EINVAL, EBUSY, ENOENT, EACCES } = osConstants.errno;

/** The helper program's name (addon/vdebridge/helper.c; CMakeLists.txt builds it beside the plugin). */
export const VDEBRIDGE_HELPER = 'iothts-vdebridge';

/**
 * What is wrong with the helper program beside the vdebridge plugin libioth loads (the package's,
 * or one installed in libioth's directory), or undefined when it is there and can run: the plugin
 * spawns it, and a missing one is a bare ENOENT, like a missing VDE socket.
 */
export function vdebridgeHelperProblem(): string | undefined {
  for (const dir of [vdebridgeDir(), native.pluginDir()]) {
    if (!['ioth_vdebridge-r.so', 'ioth_vdebridge.so'].some((f) => existsSync(join(dir, f)))) continue;
    const helper = join(dir, VDEBRIDGE_HELPER);
    try {
      accessSync(helper, fsConstants.X_OK);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return `vdebridge's helper program ${helper} ${code === 'ENOENT' ? 'is missing' : `cannot be run (${code})`}: ` +
        'reinstall iothts (in a clone of it: npm run build), or use the vdestack plugin';
    }
  }
  return undefined;
}

/** Matches VDEBRIDGE_MAX_IFACES in addon/vdebridge/protocol.h. */
export const VDEBRIDGE_MAX_VNLS = 32;

/** A hint for errno (positive) from a vdebridge creation, or undefined for the generic one. */
export function vdebridgeHint(errno: number, vnls: readonly string[], pluginOptions: string): string | undefined {
  if (errno === ENOENT || errno === EACCES) {
    const helper = vdebridgeHelperProblem();
    if (helper) return helper;
  }
  // The helper's taps: its errno does not say which step failed, this process's own open does.
  if (errno === EACCES && !tunOpenable()) {
    return 'vdebridge could not open /dev/net/tun: this user cannot (`iothts doctor` says why and what to do)';
  }
  if (errno === E2BIG) return `vdebridge takes at most ${VDEBRIDGE_MAX_VNLS} VNLs per stack (${vnls.length} given)`;
  if (errno === EINVAL && pluginOptions !== '') return `vdebridge takes no options ("${pluginOptions}" given)`;
  if (errno === EINVAL) {
    const bad = vnls.filter((v) => /^[^:]*:(?!\/\/)/.test(v) && !/^[^:]{1,15}:/.test(v));
    if (bad.length > 0) return `an interface name ("name:vnl") has 1 to 15 characters: ${bad.map((v) => `"${v}"`).join(' ')}`;
  }
  if (errno === EBUSY) {
    const names = expectedInterfaces(vnls);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) return `two VNLs name the same interface ${twice[0]}: give each its own ("name:vnl")`;
  }
  return undefined;
}

function tunOpenable(): boolean {
  try {
    closeSync(openSync('/dev/net/tun', 'r+'));
    return true;
  } catch {
    return false;
  }
}
