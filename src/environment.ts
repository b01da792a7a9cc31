// The environment of `node --import iothts/register`: which stack to build, how to configure it.
import { applyConfig } from './config';
import { override } from './override';
import { Stack } from './stack';

/** What the variables mean when they are not set: a NAT to the host, like QEMU's user network. */
export const DEFAULTS = {
  IOTH_STACK: 'vdestack',
  IOTH_VNL: 'slirp://',
  IOTH_CONFIG: 'eth,ip=10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3',
} as const;

export class EnvironmentError extends Error {
  constructor(readonly variable: string, readonly value: string, reason: string) {
    super(`${variable}=${JSON.stringify(value)}: ${reason}`);
  }
}

/**
 * Builds the stack the environment describes, brings lo up, applies IOTH_CONFIG, and overrides the
 * process with it. Every failure is an EnvironmentError naming the variable and its value.
 */
export function stackFromEnvironment(env: NodeJS.ProcessEnv): Stack {
  const plugin = env.IOTH_STACK ?? DEFAULTS.IOTH_STACK;
  const vnlText = env.IOTH_VNL ?? DEFAULTS.IOTH_VNL;
  // With a VNL of their own and no configuration, the links just come up (configure them yourself).
  const config = env.IOTH_CONFIG ?? (env.IOTH_VNL === undefined ? DEFAULTS.IOTH_CONFIG : 'eth');
  const vnls = vnlText.split(/\s+/).filter(Boolean);
  if (vnls.length === 0) throw new EnvironmentError('IOTH_VNL', vnlText, 'no VNL given (unset it for the default, slirp://)');
  let stack: Stack;
  try {
    stack = new Stack(plugin, vnls);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // ENOTSUP: no such plugin; an argument error naming "plugin": a bad plugin name. Else the VNL.
    const blame = e.code === 'ENOTSUP' || /\bargument '?"?plugin/.test(e.message) ? 'IOTH_STACK' : 'IOTH_VNL';
    throw new EnvironmentError(blame, blame === 'IOTH_STACK' ? plugin : vnlText, e.message);
  }
  try {
    stack.linkSetUpDown('lo', true);
    if (config.trim()) applyConfig(stack, config);
    override(stack);
  } catch (err) {
    stack.close();
    throw new EnvironmentError('IOTH_CONFIG', config, (err as Error).message);
  }
  return stack;
}
