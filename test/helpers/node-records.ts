// Records as the running Node's resolveMx, resolveCaa and resolveSrv give them: with `type` from
// Node 24.10 on (src/internal/node-reference.ts typedRecords, which test/unit/dns-loopback.test.ts
// holds against Node's own resolver on every release CI runs).
import { typedRecords } from '../../src/internal/node-reference';

export function asNode<T extends object>(type: 'MX' | 'CAA' | 'SRV', ...records: T[]): T[] {
  return records.map((r) => (typedRecords ? { ...r, type } : r));
}
