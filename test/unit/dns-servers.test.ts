// DNS server lists (src/dns/servers.ts) as node:dns's setServers() parses them and getServers()
// prints them, compared with Node's own Resolver in the same run. Node's side runs in a child
// process: Node aborts on some inputs (port 0), which iothts refuses on purpose instead.
import { execFileSync } from 'node:child_process';
import * as fc from 'fast-check';
import { formatServers, parseServers } from '../../src/dns/servers';
import { fcParams } from '../helpers/fuzz';

type Outcome = { servers: string[] } | { name: string; code?: string; message: string };

/** What Node's setServers(list) then getServers() gives for each list (one child process for all). */
function nodeOutcomes(lists: string[][]): Outcome[] {
  const script = `
    const { Resolver } = require('node:dns');
    for (const s of JSON.parse(require('node:fs').readFileSync(0, 'utf8'))) {
      const r = new Resolver();
      let out;
      try { r.setServers(s); out = { servers: r.getServers() }; } catch (e) { out = { name: e.name, code: e.code, message: e.message }; }
      process.stdout.write(JSON.stringify(out) + '\\n');
    }`;
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ['-e', script], { input: JSON.stringify(lists), encoding: 'utf8', timeout: 20000 });
  } catch (err) {
    const done = String((err as { stdout?: string }).stdout ?? '').split('\n').filter(Boolean).length;
    throw new Error(`node:dns died at ${JSON.stringify(lists[done])}: ${(err as Error).message}`, { cause: err });
  }
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
}

function ours(s: string | string[]): Outcome {
  try {
    return { servers: formatServers(parseServers(Array.isArray(s) ? s : [s])) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { name: err.name, code: err.code, message: err.message };
  }
}

// Where iothts differs from Node on purpose, and why.
const PORT_OUT_OF_RANGE = /must have a port from 1 to 65535/; // Node hands it to c-ares (port 0: an abort)
const hasZone = (s: string) => s.includes('%'); // a zone names the stack's interface: kept as written

test('a table of forms: the same servers, or the same error, as node:dns', () => {
  const table = [
    '10.0.0.1', '10.0.0.2:5353', '10.0.0.1:00053', '10.0.0.1:65535', '[::0001]:53', '[fd00::1]:5353', 'fd00::2', '[fd00::3]',
    '[::1]x', '[::1]:', '[fd00::1]:0', '::1:53', '[::ffff:1.2.3.4]:99', '[1.2.3.4]:53', '1.2.3.4:53abc', ' 1.2.3.4', '1.2.3.4:', '1.2.3', '[::1',
    'example.com', 'example.com:53', '', ':53', '[]:53', '256.0.0.1',
  ];
  const theirs = nodeOutcomes(table.map((s) => [s]));
  expect(table.map(ours)).toEqual(theirs);
  expect(theirs.filter((o) => 'servers' in o).length).toBeGreaterThan(10);
  expect(theirs.filter((o) => 'code' in o).length).toBeGreaterThan(5);
});

test('any address with any port: as node:dns, except the ports it cannot use', () => {
  const port = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom('00053', '', 'x', '53a', '-1'));
  const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.constantFrom('example.com', '', '::', '1.2.3'));
  const server = fc.tuple(address, fc.option(port), fc.boolean()).map(([a, p, bracket]) => {
    const host = bracket ? `[${a}]` : a;
    return p === null ? host : `${host}:${p}`;
  });
  const samples = fc.sample(server, fcParams(600));
  const compared = samples.filter((s) => !PORT_OUT_OF_RANGE.test(JSON.stringify(ours(s))) && !hasZone(s));
  expect(compared.length).toBeGreaterThan(samples.length / 2);
  const theirs = nodeOutcomes(compared.map((s) => [s]));
  compared.forEach((s, i) => expect([s, ours(s)]).toEqual([s, theirs[i]]));
});

test('ports 0 and above 65535 are refused here, naming the server', () => {
  // ('[fd00::1]:0' is port 53 for Node, and here: the table above compares it.)
  for (const s of ['10.0.0.1:0', '10.0.0.1:00', '10.0.0.1:65536', '[::1]:99999']) {
    expect(() => parseServers([s])).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_ARG_VALUE', message: `The argument 'servers[0]' must have a port from 1 to 65535. Received '${s}'`,
    }));
  }
});

test('a zone stays with its address (it names the stack\'s own interface)', () => {
  expect(parseServers(['fe80::1%vde0', '[fe80::2%2]:5353'])).toEqual([
    { address: 'fe80::1%vde0', port: 53, family: 6 }, { address: 'fe80::2%2', port: 5353, family: 6 },
  ]);
});

test('lists: in order, each server once, one bad item refuses the list', () => {
  const lists = [['10.0.0.1', '10.0.0.1', '[fd00::1]:53', '10.0.0.2:54'], [], ['10.0.0.1', 'nope'], ['fd00::1', '[fd00::1]:53']];
  expect(lists.map(ours)).toEqual(nodeOutcomes(lists));
  expect(() => parseServers('10.0.0.1')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"servers"') }));
  expect(() => parseServers([42])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"servers[0]"') }));
});
