// What `new Stack(...)` was given, checked and normalised: the plugin name (and its ",options"),
// the VNLs, the linger bound, or a share of another thread's stack. Pure: nothing here touches
// the addon.
import { invalidArgType, invalidArgValue, outOfRange } from '../internal/errors';
import { checkLinger, defaultLinger } from './linger';
import type { StackOptions, StackShare } from './types';
import { validateText } from '../internal/validators';

/** At most this many VNLs (interfaces) per stack. */
export const MAX_VNLS = 64;

export type ParsedOptions =
  | { share: StackShare }
  | { share?: undefined; plugin: string; pluginOptions: string; vnls: string[]; linger: number };

/** A non-empty string with no NUL, of at most 4096 bytes (what libioth's calls can take). */
export function checkText(name: string, value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, `of type string (${what})`, value);
  if (value.length === 0) throw invalidArgValue(name, value, `must be a non-empty ${what}`);
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must not contain NUL bytes');
  if (Buffer.byteLength(value) > 4096) throw invalidArgValue(name, value, 'must be at most 4096 bytes');
  return value;
}

function vnlList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [validateText(value, 'vnl', 'VNL such as "vxvde://234.0.0.1"')];
  if (!Array.isArray(value)) {
    throw invalidArgType('vnl', 'a VNL string, an array of VNL strings, or null', value);
  }
  if (value.length > MAX_VNLS) throw outOfRange('vnl.length', `at most ${MAX_VNLS}`, value.length);
  return value.map((v, i) => validateText(v, `vnl[${i}]`, 'VNL such as "vxvde://234.0.0.1"'));
}

/**
 * The constructor's two forms: (plugin = "vdestack", vnl?) and
 * ({ plugin, pluginOptions, vnl, linger } | { share }).
 */
export function parseStackOptions(plugin: unknown, vnl: unknown): ParsedOptions {
  let options: StackOptions;
  if (plugin !== null && typeof plugin === 'object' && !Array.isArray(plugin)) {
    if (vnl !== undefined) {
      throw invalidArgValue('vnl', vnl, 'must be given inside the options object when options are used');
    }
    options = plugin as StackOptions;
  } else if (plugin === undefined || typeof plugin === 'string') {
    options = { plugin, vnl: vnl as StackOptions['vnl'] };
  } else {
    throw invalidArgType('plugin', 'of type string or an options object', plugin);
  }

  if (options.share !== undefined) {
    const share = options.share;
    if (options.plugin !== undefined || options.vnl !== undefined || options.pluginOptions !== undefined) {
      throw invalidArgValue('options', options, 'must hold either share or plugin/vnl, not both');
    }
    if (share === null || typeof share !== 'object' || !Number.isInteger(share.id) ||
      (share.broker !== undefined && (typeof share.broker !== 'string' || !Number.isInteger(share.owner)))) {
      throw invalidArgType('options.share', 'a StackShare from stack.share()', share);
    }
    return {
      share: {
        id: share.id,
        plugin: String(share.plugin),
        pluginOptions: String(share.pluginOptions ?? ''),
        vnls: [...(share.vnls ?? [])].map(String),
        ...(share.broker !== undefined ? { broker: share.broker, owner: share.owner } : {}),
      },
    };
  }
  const linger = options.linger === undefined ? defaultLinger() : checkLinger('options.linger', options.linger);
  let name = validateText(options.plugin ?? 'vdestack', 'plugin', 'libioth plugin name');
  let pluginOptions = options.pluginOptions;
  const comma = name.indexOf(',');
  if (comma >= 0) {
    if (pluginOptions !== undefined) {
      throw invalidArgValue('plugin', name, 'must not carry ",options" when pluginOptions is given');
    }
    pluginOptions = name.slice(comma + 1);
    name = name.slice(0, comma);
  }
  // libioth makes a file name from the plugin name: only a plain name may reach it.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw invalidArgValue('plugin', name, 'must be a plugin name such as "vdestack" or "kernel"');
  }
  if (pluginOptions !== undefined && pluginOptions !== '') {
    validateText(pluginOptions, 'pluginOptions', 'option string');
  }
  return { plugin: name, pluginOptions: pluginOptions ?? '', vnls: vnlList(options.vnl), linger };
}

/** The interface names vdestack gives: "name:vnl" names it, otherwise vde0, vde1, ... */
export function expectedInterfaces(vnls: readonly string[]): string[] {
  return vnls.map((vnl, i) => {
    const colon = vnl.indexOf(':');
    const scheme = vnl.indexOf('://');
    return colon >= 0 && (scheme < 0 || colon < scheme) ? vnl.slice(0, colon).slice(0, 15) : `vde${i}`;
  });
}
