// A stack owned by another process (the parent of this one, under the hook), used through that
// process's socket broker (addon/c/broker.c): its sockets and its listings, nothing more.
import { iothError } from '../internal/errors';
import { native, type NativeStack } from '../internal/native';

/**
 * The NativeStack of a child process: sockets come from the owner's broker, listings through a
 * netlink socket from it. Configuring the stack, and its TCP summary (the owner's linger), are
 * the owner's: they are refused with ERR_IOTH_STACK_BORROWED.
 */
export function brokeredNative(broker: string, owner: number): NativeStack {
  let open = true;
  const message = `the stack of process ${owner}, which this process borrows, is gone (that process ended or ` +
    'closed it; or this process is in another network namespace): a child process shares its parent\'s stack ' +
    'only while the parent has it open';
  // errno ENETDOWN: what a socket of Node's handles then fails with (connect ENETDOWN ...).
  const gone = (err: unknown): unknown => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED') return err;
    if (open) process.emitWarning(message, { code: 'ERR_IOTH_STACK_CLOSED' });
    open = false;
    return iothError('ERR_IOTH_STACK_CLOSED', message, { errno: -require('node:os').constants.errno.ENETDOWN });
  };
  const call = <T>(fn: () => T): T => {
    if (!open) throw gone(Object.assign(new Error(), { code: 'ECONNREFUSED' }));
    try {
      return fn();
    } catch (err) {
      throw gone(err);
    }
  };
  const refuse = (what: string) => (): never => {
    throw iothError('ERR_IOTH_STACK_BORROWED', `Cannot ${what} from this process: the stack belongs to process ${owner} ` +
      '(a child process uses its parent\'s stack): do it in that process');
  };
  const links = () => call(() => native.brokerLinks(broker));
  return {
    close: () => { open = false; },
    shareId: refuse('share the stack by id (a worker of this process borrows it through the same broker)'),
    serveChildren: () => broker,
    socket: (domain, type, protocol) => call(() => native.brokerSocket(broker, domain, type, protocol)),
    socketPath: () => 'broker',
    ifNameToIndex: (name) => {
      const link = links().find((l) => l.name === name);
      if (!link) throw Object.assign(new Error(`no interface ${name}`), { code: 'ENODEV', errno: -19, syscall: 'ioth_if_nametoindex' });
      return link.index;
    },
    linkGetAddr: (index) => {
      const link = links().find((l) => l.index === index);
      if (!link) throw Object.assign(new Error(`no interface ${index}`), { code: 'ENODEV', errno: -19, syscall: 'ioth_linkgetaddr' });
      return link.mac ?? Buffer.alloc(6);
    },
    links,
    addresses: () => call(() => native.brokerAddresses(broker)),
    routes: () => call(() => native.brokerRoutes(broker)),
    linkSetUpDown: refuse('set a link up or down'),
    linkSetAddr: refuse('set a MAC address'),
    linkSetMtu: refuse('set an MTU'),
    ipAddr: refuse('change addresses'),
    ipAddrAdd: refuse('add an address'),
    ipRoute: refuse('change routes'),
    ipLinkAdd: refuse('add a link'),
    ipLinkDel: refuse('delete a link'),
    tcpSummary: refuse('list the TCP sockets'),
    hadTcp: () => false, // the owner lingers for the stack's connections, not its borrowers
  };
}
