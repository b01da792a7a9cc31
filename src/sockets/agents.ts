// http.Agent and https.Agent whose connections are made on a stack, so http.get(url, { agent })
// and libraries that take an agent work unmodified.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { StackNet } from './net';

export function createHttpAgent(stackNet: StackNet, options?: http.AgentOptions): http.Agent {
  class StackHttpAgent extends http.Agent {
    // The agent takes the returned socket itself (as with net.createConnection, its default).
    override createConnection(opts: net.NetConnectOpts): net.Socket {
      return stackNet.createConnection(opts);
    }
  }
  return new StackHttpAgent(options);
}

export function createHttpsAgent(stackNet: StackNet, options?: https.AgentOptions): https.Agent {
  class StackHttpsAgent extends https.Agent {
    // https.Agent would call tls.connect(), which opens its own host socket: give TLS a stack one.
    override createConnection(opts: tls.ConnectionOptions & net.TcpNetConnectOpts): tls.TLSSocket {
      const socket = stackNet.connect({ ...opts } as net.TcpNetConnectOpts);
      return tls.connect({ ...opts, socket });
    }
  }
  return new StackHttpsAgent(options);
}
