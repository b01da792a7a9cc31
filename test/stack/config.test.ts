// Every libioth configuration call, each read back through the listings (interfaces(), links(),
// routes(), ifNameIndex()). The stacks use null:// networks: the configuration is all local.
import { Stack } from '../../src';

let stack: Stack;
beforeEach(() => {
  stack = new Stack('vdestack', 'null://');
});
afterEach(() => stack.close());

const addressesOf = (name: string) => (stack.interfaces()[name] ?? []).map((a) => a.cidr);

test('interface names and indices', () => {
  expect(stack.ifNameIndex()).toEqual([{ index: 1, name: 'lo' }, { index: 2, name: 'vde0' }]);
  expect(stack.ifNameToIndex('vde0')).toBe(2);
  expect(stack.ifIndexToName(2)).toBe('vde0');
  expect(stack.resolveInterface('lo')).toBe(1);
  expect(stack.resolveInterface(2)).toBe(2);
});

test('linkSetUpDown brings links up and down', () => {
  expect(stack.links().map((l) => l.up)).toEqual([false, false]);
  stack.linkSetUpDown('vde0', true);
  stack.linkSetUpDown(1, true);
  expect(stack.links().map((l) => l.up)).toEqual([true, true]);
  expect(stack.links()[0].loopback).toBe(true);
  stack.linkSetUpDown(2, false);
  expect(stack.links()[1].up).toBe(false);
});

test('linkSetAddr / linkGetAddr, from text in either notation or bytes', () => {
  stack.linkSetAddr('vde0', '02:AA:bb:00:00:01');
  expect(stack.linkGetAddr('vde0')).toBe('02:aa:bb:00:00:01');
  stack.linkSetAddr(2, '02-00-00-00-00-02');
  expect(stack.linkGetAddr(2)).toBe('02:00:00:00:00:02');
  stack.linkSetAddr(2, Uint8Array.from([2, 0, 0, 0, 0, 3]));
  expect(stack.links()[1].mac).toBe('02:00:00:00:00:03');
  stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
  expect(stack.interfaces().vde0?.[0].mac).toBe('02:00:00:00:00:03');
});

test('linkSetMtu / linkGetMtu', () => {
  expect(stack.linkGetMtu('vde0')).toBe(1500);
  stack.linkSetMtu('vde0', 9000);
  expect(stack.linkGetMtu('vde0')).toBe(9000);
  expect(stack.links()[1].mtu).toBe(9000);
  stack.linkSetMtu(2, 1280);
  expect(stack.linkGetMtu(2)).toBe(1280);
});

test('ipAddrAdd / ipAddrDel, IPv4 and IPv6, read back in os.networkInterfaces() shape', () => {
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
  stack.ipAddrAdd('192.168.250.9', 30, 2);
  stack.ipAddrAdd('fd00:0:0:1::0001', 64, 'vde0');
  stack.ipAddrAdd('2001:db8::5', 128, 'vde0');
  const vde0 = stack.interfaces().vde0 ?? [];
  expect(vde0).toContainEqual({
    address: '10.0.0.1', netmask: '255.255.255.0', family: 'IPv4', mac: stack.linkGetAddr(2),
    internal: false, cidr: '10.0.0.1/24',
  });
  expect(vde0).toContainEqual(expect.objectContaining({ address: '192.168.250.9', netmask: '255.255.255.252' }));
  expect(vde0).toContainEqual({
    address: 'fd00:0:0:1::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: stack.linkGetAddr(2),
    internal: false, cidr: 'fd00:0:0:1::1/64', scopeid: 0,
  });
  expect(vde0).toContainEqual(expect.objectContaining({ cidr: '2001:db8::5/128', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' }));
  // link-local addresses carry their interface as scope id, as in os.networkInterfaces()
  expect(vde0.filter((a) => a.address.startsWith('fe80:'))).toEqual([expect.objectContaining({ scopeid: 2 })]);

  stack.ipAddrDel('10.0.0.1', 24, 'vde0');
  stack.ipAddrDel('fd00:0:0:1::1', 64, 2);
  expect(addressesOf('vde0')).not.toContain('10.0.0.1/24');
  expect(addressesOf('vde0')).not.toContain('fd00:0:0:1::1/64');
  expect(addressesOf('vde0')).toContain('192.168.250.9/30');
});

test('lo shows 127.0.0.1 and ::1 as internal once up', () => {
  stack.linkSetUpDown('lo', true);
  expect(stack.interfaces().lo).toEqual([
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ]);
});

describe('routes', () => {
  beforeEach(() => {
    stack.linkSetUpDown('vde0', true);
    stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
    stack.ipAddrAdd('fd00::1', 64, 'vde0');
  });
  const mainRoutes = () => stack.routes().map((r) => `${r.cidr}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.interface}`);

  test('default routes, IPv4 and IPv6', () => {
    stack.ipRouteAdd('10.0.0.254');
    stack.ipRouteAdd('fd00::fe');
    expect(stack.routes()).toContainEqual(expect.objectContaining({
      family: 'IPv4', destination: '0.0.0.0', prefixLen: 0, cidr: 'default', gateway: '10.0.0.254', interface: 'vde0', ifindex: 2,
    }));
    expect(mainRoutes()).toContain('default via fd00::fe dev vde0');
    stack.ipRouteDel('10.0.0.254');
    stack.ipRouteDel('fd00::fe');
    expect(mainRoutes().filter((r) => r.startsWith('default'))).toEqual([]);
  });

  test('network routes with a gateway, prefix given apart or in the destination', () => {
    stack.ipRouteAdd('10.0.0.254', '172.16.0.0', 12);
    stack.ipRouteAdd('10.0.0.253', '192.168.7.0/24');
    stack.ipRouteAdd('fd00::fe', 'fd01::', 48, 'vde0');
    expect(mainRoutes()).toEqual(expect.arrayContaining([
      '172.16.0.0/12 via 10.0.0.254 dev vde0', '192.168.7.0/24 via 10.0.0.253 dev vde0', 'fd01::/48 via fd00::fe dev vde0',
    ]));
    stack.ipRouteDel('10.0.0.254', '172.16.0.0', 12);
    expect(mainRoutes()).not.toContain('172.16.0.0/12 via 10.0.0.254 dev vde0');
  });

  test('on-link routes (no gateway) through an interface', () => {
    stack.ipRouteAdd(null, '10.9.0.0', 16, 'vde0');
    stack.ipRouteAdd(null, 'fd02::/64', undefined, 2);
    expect(stack.routes()).toContainEqual(expect.objectContaining({ cidr: '10.9.0.0/16', gateway: null, interface: 'vde0', scope: 'link' }));
    expect(mainRoutes()).toContain('fd02::/64 dev vde0');
    stack.ipRouteDel(null, '10.9.0.0', 16, 'vde0');
    stack.ipRouteDel(null, 'fd02::', 64, 'vde0');
    expect(mainRoutes()).not.toContain('10.9.0.0/16 dev vde0');
    expect(mainRoutes()).not.toContain('fd02::/64 dev vde0');
  });

  test('the options form says the same without placeholders, and refuses what it does not know', () => {
    stack.ipRouteAdd({ gateway: '10.0.0.254' });
    stack.ipRouteAdd({ gateway: '10.0.0.253', dst: '192.168.8.0/24' });
    stack.ipRouteAdd({ dst: 'fd03::', prefixLen: 64, ifindex: 'vde0' });
    expect(mainRoutes()).toEqual(expect.arrayContaining([
      'default via 10.0.0.254 dev vde0', '192.168.8.0/24 via 10.0.0.253 dev vde0', 'fd03::/64 dev vde0',
    ]));
    stack.ipRouteDel({ dst: 'fd03::/64', ifindex: 2 });
    stack.ipRouteDel({ gateway: '10.0.0.254' });
    expect(mainRoutes()).not.toContain('fd03::/64 dev vde0');
    expect(mainRoutes()).not.toContain('default via 10.0.0.254 dev vde0');
    expect(() => stack.ipRouteAdd({ gw: '10.0.0.254' } as never)).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('unknown property "gw"'),
    }));
    expect(() => (stack.ipRouteAdd as (...a: unknown[]) => void)({ gateway: '10.0.0.254' }, '10.1.0.0')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => stack.ipRouteAdd({ dst: '10.9.0.0/16' })).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('required for a route without a gateway'),
    }));
  });

  test('the kernel\'s own routes for connected networks are listed', () => {
    expect(mainRoutes()).toEqual(expect.arrayContaining(['10.0.0.0/24 dev vde0', 'fd00::/64 dev vde0']));
  });
});

test('ipLinkAdd / ipLinkDel create and delete interfaces', () => {
  // The link types a user namespace may create depend on the kernel's loaded modules.
  const types = ['bridge', 'veth', 'ifb'];
  let made: { type: string; index: number } | undefined;
  for (const type of types) {
    try {
      made = { type, index: stack.ipLinkAdd(0, type, null, 'extra0') };
      break;
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOTSUP');
    }
  }
  if (!made) throw new Error(`this kernel creates none of ${types.join(', ')} in a user namespace`);
  expect(made.index).toBeGreaterThan(2);
  expect(stack.ifNameToIndex('extra0')).toBe(made.index);
  expect(stack.ifIndexToName(made.index)).toBe('extra0');
  stack.linkSetUpDown('extra0', true);
  stack.ipAddrAdd('10.7.0.1', 24, 'extra0');
  expect(addressesOf('extra0')).toContain('10.7.0.1/24');
  stack.ipLinkDel('extra0');
  expect(stack.ifNameIndex().map((l) => l.name)).not.toContain('extra0');

  const again = stack.ipLinkAdd(-1, made.type, null, 'extra1');
  stack.ipLinkDel(again);
  expect(stack.ifNameIndex().map((l) => l.name)).not.toContain('extra1');
});

test('several VNLs give one interface each; "name:vnl" names it', () => {
  const multi = new Stack('vdestack', ['null://', 'net1:null://', 'null://']);
  try {
    expect(multi.ifNameIndex().map((l) => l.name)).toEqual(['lo', 'vde0', 'net1', 'vde2']);
    expect(multi.vnls).toEqual(['null://', 'net1:null://', 'null://']);
  } finally {
    multi.close();
  }
});

test('stack.config applies iothconf-style strings, and a bad item leaves the stack untouched', () => {
  expect(() => stack.config('eth,ip=10.0.0.1/24,dns=not-an-address')).toThrow(expect.objectContaining({
    code: 'ERR_IOTH_CONFIG', message: expect.stringMatching(/'dns=not-an-address'/),
  }));
  expect(stack.links()[1].up).toBe(false);
  expect(stack.interfaces().vde0).toBeUndefined();
  expect(stack.config("eth;ip=10.0.0.1 ip='fd00::1/64' mtu=1400,mac=02:00:00:00:00:09,gw=10.0.0.254,dns=10.0.0.53,domain=test")).toEqual({
    iface: 'vde0', ifindex: 2, up: true, addresses: ['10.0.0.1/24', 'fd00::1/64'], gateways: ['10.0.0.254'], dns: ['10.0.0.53'],
    domains: ['test'], mac: '02:00:00:00:00:09', mtu: 1400, methods: ['static'],
  });
  expect(stack.links()[1]).toMatchObject({ up: true, mtu: 1400, mac: '02:00:00:00:00:09' });
  expect(stack.dns.getServers()).toEqual(['10.0.0.53']);
  expect(stack.dns.getSearch()).toEqual(['test']);
});
