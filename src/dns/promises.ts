// Resolver with node:dns/promises's API: the same methods returning promises. As in Node, wrong
// arguments throw synchronously; failures of the query reject.
import type { AnyRecord, CaaRecord, MxRecord, NaptrRecord, RecordWithTtl, ResolveOptions, SoaRecord, SrvRecord } from 'node:dns';

import { methodFor, ResolverBase } from './resolver';
import { validateString } from '../internal/validators';

export class PromiseResolver extends ResolverBase {
  resolve(hostname: string, rrtype?: string): Promise<unknown> {
    if (rrtype === undefined) return this.run('resolve4', hostname, undefined);
    return this.run(methodFor(validateString(rrtype, 'rrtype')), hostname, undefined);
  }

  resolve4(hostname: string): Promise<string[]>;
  resolve4(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve4(hostname: string, options?: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolve4(hostname: string, options?: ResolveOptions): Promise<unknown> {
    return this.run('resolve4', hostname, options);
  }

  resolve6(hostname: string): Promise<string[]>;
  resolve6(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(hostname: string, options?: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolve6(hostname: string, options?: ResolveOptions): Promise<unknown> {
    return this.run('resolve6', hostname, options);
  }

  resolveAny(hostname: string): Promise<AnyRecord[]> {
    return this.run('resolveAny', hostname, undefined) as Promise<AnyRecord[]>;
  }

  resolveCaa(hostname: string): Promise<CaaRecord[]> {
    return this.run('resolveCaa', hostname, undefined) as Promise<CaaRecord[]>;
  }

  resolveCname(hostname: string): Promise<string[]> {
    return this.run('resolveCname', hostname, undefined) as Promise<string[]>;
  }

  resolveMx(hostname: string): Promise<MxRecord[]> {
    return this.run('resolveMx', hostname, undefined) as Promise<MxRecord[]>;
  }

  resolveNaptr(hostname: string): Promise<NaptrRecord[]> {
    return this.run('resolveNaptr', hostname, undefined) as Promise<NaptrRecord[]>;
  }

  resolveNs(hostname: string): Promise<string[]> {
    return this.run('resolveNs', hostname, undefined) as Promise<string[]>;
  }

  resolvePtr(hostname: string): Promise<string[]> {
    return this.run('resolvePtr', hostname, undefined) as Promise<string[]>;
  }

  resolveSoa(hostname: string): Promise<SoaRecord> {
    return this.run('resolveSoa', hostname, undefined) as Promise<SoaRecord>;
  }

  resolveSrv(hostname: string): Promise<SrvRecord[]> {
    return this.run('resolveSrv', hostname, undefined) as Promise<SrvRecord[]>;
  }

  resolveTxt(hostname: string): Promise<string[][]> {
    return this.run('resolveTxt', hostname, undefined) as Promise<string[][]>;
  }

  /** The names of an IP address: the hosts table's, else its PTR records. */
  reverse(ip: string): Promise<string[]> {
    return this.run('reverse', ip, undefined) as Promise<string[]>;
  }
}
