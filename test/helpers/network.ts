// A small virtual network for socket tests: a hub hosted by the first stack, joined by the others,
// each with an IPv4 and an IPv6 address on vde0 and lo up.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';

export interface Host {
  stack: Stack;
  ip4: string;
  ip6: string;
}

export class TestNetwork {
  readonly hosts: Host[] = [];
  readonly #dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-net-'));

  /** Adds a host 10.0.0.n / fd00::n on the hub. */
  add(n: number, extra: string[] = []): Host {
    const vnl = this.hosts.length === 0 ? `hub://${this.#dir}/hub` : `vde://${this.#dir}/hub`;
    const stack = new Stack('vdestack', vnl);
    stack.linkSetUpDown('lo', true);
    stack.linkSetUpDown('vde0', true);
    const host = { stack, ip4: `10.0.0.${n}`, ip6: `fd00::${n}` };
    stack.ipAddrAdd(host.ip4, 24, 'vde0');
    stack.ipAddrAdd(host.ip6, 64, 'vde0');
    for (const cidr of extra) {
      const [a, l] = cidr.split('/');
      stack.ipAddrAdd(a, Number(l), 'vde0');
    }
    this.hosts.push(host);
    return host;
  }

  close(): void {
    for (const h of this.hosts.splice(0).reverse()) h.stack.close();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Waits until `address` of `stack` is past IPv6 duplicate address detection (about a second). */
export async function waitIpv6(stack: Stack, address: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      // Connecting to itself from a tentative address fails with EADDRNOTAVAIL, later with ECONNREFUSED.
      const s = stack.net.connect({ port: 9, host: address, localAddress: address }, () => resolve(true));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code !== 'EADDRNOTAVAIL'));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${address} stayed tentative`);
}

export const ipv6Ready = (host: Host): Promise<void> => waitIpv6(host.stack, host.ip6);

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string, ms = 10000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args: T[]) => { clearTimeout(timer); resolve(args); });
    if (event !== 'error') emitter.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
