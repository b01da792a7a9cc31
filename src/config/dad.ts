// IPv6 duplicate address detection (RFC 4862 5.4): a new address stays tentative, and bind() to
// it fails with EADDRNOTAVAIL, until the kernel has sent its probes and heard no other node claim
// the address (1-2 s with Linux's defaults). Configuration returns only once the IPv6 addresses it
// added are usable, or fails saying why: a duplicate on the network, a link that is down (DAD
// waits for it), or a wait past what the link's own DAD settings allow.
import { parseIp } from '../internal/address';

import { codedError, type IothError } from '../internal/errors';
import type { ConfigTarget } from './target';
import type { LinkInfo } from '../stack/types';

/** A pause in the plan: the sync driver sleeps, the async one waits with a timer. */
export interface Pause {
  sleep: number;
}

/** An address to wait for, and the configuration item that asked for it (for the error). */
export interface NewAddress {
  address: string;
  prefixLen: number;
  item: string;
}

const POLL_MS = 25;
// Over the kernel's own schedule: the last probe's timer, our polling, a loaded machine.
const MARGIN_MS = 1000;
// Linux's defaults (rtr_solicit_delay 1 s, dad_transmits 1, retrans_time 1 s), when the link's
// settings cannot be read.
const DEFAULT_DELAY_MS = 1000;
const DEFAULT_TRANSMITS = 1;
const DEFAULT_RETRANS_MS = 1000;

/**
 * How long DAD may take on `link` (ms): the kernel waits a random time up to rtr_solicit_delay
 * before the first probe, then sends dad_transmits probes retrans_time apart, and the address is
 * usable once the last wait passes unanswered.
 */
export function dadBound(link: LinkInfo | undefined): { ms: number; how: string } {
  const v6 = link?.ipv6;
  const delay = v6?.rtrSolicitDelay ?? DEFAULT_DELAY_MS;
  const transmits = v6?.dadTransmits ?? DEFAULT_TRANSMITS;
  const retrans = v6?.retransTime ?? DEFAULT_RETRANS_MS;
  return {
    ms: delay + transmits * retrans + MARGIN_MS,
    how: `rtr_solicit_delay ${delay} ms + dad_transmits ${transmits} x retrans_time ${retrans} ms + ${MARGIN_MS} ms`,
  };
}

/** How to take back the address: the undo form of the item that added it. */
function undo(a: NewAddress): string {
  return a.item.startsWith('ip=') ? `'-ip=${a.address}/${a.prefixLen}'` : `'-${a.item === 'slaac' ? 'rd' : a.item}'`;
}

function addressError(code: string, a: NewAddress, iface: string, ifindex: number, message: string): IothError {
  const error = codedError(code, `${message} (configuration item '${a.item}')`);
  Object.assign(error, { address: a.address, prefixLen: a.prefixLen, ifindex, iface });
  return error;
}

/**
 * Waits (in POLL_MS pauses yielded to the driver) until every address of `wanted` on interface
 * `ifindex` has passed duplicate address detection. Throws ERR_IOTH_DUPLICATE_ADDRESS when another
 * node has one of them, ENETDOWN when the link cannot run DAD (down, or no carrier), ETIMEDOUT
 * past dadBound().
 */
export function* untilUsable(
  stack: ConfigTarget, ifindex: number, iface: string, wanted: NewAddress[],
): Generator<Pause, void, unknown> {
  if (wanted.length === 0) return;
  const start = Date.now();
  const same = (a: string, b: string) => parseIp('address', a).text === parseIp('address', b).text;
  for (;;) {
    const present = stack.addresses().filter((a) => a.ifindex === ifindex && a.family === 'IPv6');
    const pending: NewAddress[] = [];
    for (const w of wanted) {
      const a = present.find((p) => same(p.address, w.address));
      if (!a) {
        throw addressError('ERR_IOTH_DUPLICATE_ADDRESS', w, iface, ifindex,
          `${w.address} left ${iface} during IPv6 duplicate address detection: the kernel removes an ` +
          'autoconfigured address that another node on the network already uses; check the network for it');
      }
      if (a.dadFailed) {
        throw addressError('ERR_IOTH_DUPLICATE_ADDRESS', w, iface, ifindex,
          `${w.address} is already used by another node on the network of ${iface} (IPv6 duplicate address ` +
          'detection failed): choose another address, or stop the other node; the address stays on ' +
          `${iface}, unusable, until taken back with ${undo(w)}`);
      }
      if (a.tentative) pending.push(w);
    }
    if (pending.length === 0) return;
    const link = stack.links().find((l) => l.index === ifindex);
    const names = pending.map((p) => p.address).join(', ');
    if (!link?.up || !link.running) {
      throw addressError('ENETDOWN', pending[0], iface, ifindex,
        `${names} on ${iface} stay${pending.length > 1 ? '' : 's'} tentative, unusable: duplicate address detection ` +
        `waits for the link, which ${!link?.up ? "is down (add 'eth', or stack.linkSetUpDown() it)" : 'has no carrier (nothing is connected to it)'}; ` +
        'give nodad (or ipAddrAdd\'s { nodad: true }) for an address known to be unique');
    }
    const bound = dadBound(link);
    if (Date.now() - start > bound.ms) {
      throw addressError('ETIMEDOUT', pending[0], iface, ifindex,
        `${names} on ${iface} still tentative after ${Date.now() - start} ms of IPv6 duplicate address detection ` +
        `(the link's settings allow ${bound.ms} ms: ${bound.how}); the address may still become usable: ` +
        'retry, or give nodad for an address known to be unique');
    }
    yield { sleep: POLL_MS };
  }
}
