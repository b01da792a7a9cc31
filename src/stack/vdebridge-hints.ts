// What to do when the vdebridge plugin refuses a stack: its limits and its interface names, which
// libioth reports as bare errnos (E2BIG, EINVAL, EBUSY).
import { constants as osConstants } from 'node:os';
import { expectedInterfaces } from './options';

const { E2BIG, EINVAL, EBUSY } = osConstants.errno;

/** Matches VDEBRIDGE_MAX_IFACES in addon/vdebridge/protocol.h. */
export const VDEBRIDGE_MAX_VNLS = 32;

/** A hint for errno (positive) from a vdebridge creation, or undefined for the generic one. */
export function vdebridgeHint(errno: number, vnls: readonly string[], pluginOptions: string): string | undefined {
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
