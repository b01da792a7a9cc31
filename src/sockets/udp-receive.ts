// A receive path of iothts's own for udp6 handles on a stack. Node's (UDPWrap::OnRecv) names a
// link-local sender's zone with if_indextoname in the process's own network namespace, where the
// stack's interfaces do not exist: the datagram became an 'error' (ENXIO, uv_if_indextoiid), or
// named a host interface. Any udp6 socket can receive from a link-local address, so every udp6
// handle of a stack reads through addon/udp_receiver.cc instead (libuv then never reads it), which
// names the zone on the socket's own namespace and calls the handle's onmessage/onerror as
// Node's C++ does. udp4 handles keep libuv's path. The handle's recvStart/recvStop/close/ref/unref
// are replaced on the handle itself, so they stay right if the override is undone meanwhile.
import { getSystemErrorMap } from 'node:util';
import { native } from '../internal/native';

interface UdpHandle {
  fd: number;
  onmessage?: (...args: unknown[]) => unknown;
  onerror?: (...args: unknown[]) => unknown;
  hasRef(): boolean;
  [method: string]: unknown;
}

type Method = (this: UdpHandle, ...args: unknown[]) => unknown;

/** Node's UVException (AddressToJS's error): "ENXIO: no such device or address, uv_if_indextoiid". */
function uvException(errno: number, syscall: string): Error {
  const [code, description] = getSystemErrorMap().get(errno) ?? [`Unknown system error ${errno}`, `Unknown system error ${errno}`];
  return Object.assign(new Error(`${code}: ${description}, ${syscall}`), { errno, code, syscall });
}

/** Makes `handle` (a udp6 handle whose socket is a stack's) read through iothts from now on. */
function adopt(handle: UdpHandle, original: Record<'recvStart' | 'recvStop' | 'close' | 'ref' | 'unref', Method>): void {
  let id = 0;
  let receiving = false;
  const update = (): void => native.udpReceiverSet(id, receiving, handle.hasRef());
  const deliver = (nread: number, data?: Buffer, address?: string | number, family?: 4 | 6, port?: number): void => {
    // As UDPWrap::OnRecv: onmessage(nread, handle) for a failed read, onerror for an address
    // AddressToJS could not write, else onmessage(nread, handle, buffer, { address, family, port }).
    if (nread < 0) handle.onmessage!(nread, handle, undefined, undefined);
    else if (typeof address === 'number') handle.onerror!(nread, handle, uvException(address, 'uv_if_indextoiid'), undefined);
    else handle.onmessage!(nread, handle, data, { address, family: family === 6 ? 'IPv6' : 'IPv4', port });
  };
  Object.assign(handle, {
    recvStart(this: UdpHandle): number {
      if (this.fd < 0) return original.recvStart.call(this) as number;
      try {
        if (id === 0) id = native.udpReceiverOpen(this.fd, deliver, this);
        receiving = true;
        update();
        return 0;
      } catch (err) {
        receiving = false;
        const errno = (err as { errno?: unknown }).errno;
        return typeof errno === 'number' ? errno : -22;
      }
    },
    recvStop(this: UdpHandle): number {
      if (id === 0) return original.recvStop.call(this) as number;
      receiving = false;
      update();
      return 0;
    },
    close(this: UdpHandle, ...args: unknown[]): unknown {
      if (id !== 0) native.udpReceiverClose(id);
      id = 0;
      receiving = false;
      return original.close.apply(this, args);
    },
    ref(this: UdpHandle): unknown {
      const rc = original.ref.call(this);
      if (id !== 0) update();
      return rc;
    },
    unref(this: UdpHandle): unknown {
      const rc = original.unref.call(this);
      if (id !== 0) update();
      return rc;
    },
  });
}

const adopted = new WeakSet<object>();

function methodsOf(target: Record<string, unknown>): Record<'recvStart' | 'recvStop' | 'close' | 'ref' | 'unref', Method> {
  const get = (name: string): Method => target[name] as Method;
  return { recvStart: get('recvStart'), recvStop: get('recvStop'), close: get('close'), ref: get('ref'), unref: get('unref') };
}

/** stack.dgram's udp6 handles: read through iothts once bound. */
export function receiveOnStack(handle: unknown): void {
  const h = handle as UdpHandle | null;
  if (!h || typeof h !== 'object' || adopted.has(h) || typeof h.recvStart !== 'function') return;
  adopted.add(h);
  adopt(h, methodsOf(h));
}

/**
 * The override: every UDP handle's recvStart (on the class's prototype) adopts the handle when its
 * socket is IPv6 and `onStack` (a host socket of a scope keeps Node's path). Returns a function that
 * undoes it (handles adopted meanwhile keep their own methods).
 */
export function wrapRecvStart(prototype: Record<string, unknown>,
  onStack: (handle: object) => boolean = () => true): () => void {
  const original = prototype.recvStart as Method;
  prototype.recvStart = function (this: UdpHandle): unknown {
    if (this.fd >= 0 && !adopted.has(this) && onStack(this) && isIpv6Socket(this.fd)) {
      adopted.add(this);
      adopt(this, { ...methodsOf(this), recvStart: original });
      return (this.recvStart as Method).call(this);
    }
    return original.call(this);
  };
  return () => {
    prototype.recvStart = original;
  };
}

function isIpv6Socket(fd: number): boolean {
  try {
    return native.socketName(fd, false).family === 6;
  } catch {
    return false;
  }
}
