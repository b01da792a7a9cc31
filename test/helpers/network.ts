// A small virtual network for socket tests: a hub hosted by the first stack, joined by the others,
// each with an IPv4 and an IPv6 address on vde0 and lo up. The addresses come from stack.configAsync,
// which returns once the IPv6 one is past duplicate address detection: usable at once.
import * as fs from 'node:fs';
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

  /**
   * Adds a host 10.0.0.n / fd00::n (and the `extra` address/prefix ones) on the hub. Its stack is
   * made before the first await, so hosts added together (Promise.all) join in the order given.
   */
  async add(n: number, extra: string[] = []): Promise<Host> {
    const vnl = this.hosts.length === 0 ? `hub://${this.#dir}/hub` : `vde://${this.#dir}/hub`;
    const stack = new Stack('vdestack', vnl);
    const host = { stack, ip4: `10.0.0.${n}`, ip6: `fd00::${n}` };
    this.hosts.push(host);
    stack.linkSetUpDown('lo', true);
    await stack.configAsync(['eth', `ip=${host.ip4}/24`, `ip=${host.ip6}/64`, ...extra.map((c) => `ip=${c}`)].join(','));
    return host;
  }

  close(): void {
    for (const h of this.hosts.splice(0).reverse()) h.stack.close();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * The network most socket tests start from: `count` hosts (10.0.0.1..count, fd00::1..count) made
 * before the file's tests and closed after them. The hosts are returned at once and filled in by
 * beforeAll, so `const [a, b] = useTestNetwork(2)` reads well at the top of a file. `extra(n)`
 * gives more addresses (address/prefix) for host n.
 */
export function useTestNetwork(count: number, extra: (n: number) => string[] = () => []): Host[] {
  const hosts = Array.from({ length: count }, () => ({}) as Host);
  let network: TestNetwork | undefined;
  beforeAll(async () => {
    network = new TestNetwork();
    const made = await Promise.all(hosts.map((_, i) => network!.add(i + 1, extra(i + 1))));
    made.forEach((host, i) => Object.assign(hosts[i], host));
  });
  afterAll(() => network?.close());
  return hosts;
}

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string, ms = 10000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args: T[]) => { clearTimeout(timer); resolve(args); });
    if (event !== 'error') emitter.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
