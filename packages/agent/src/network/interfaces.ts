/** Interface counters from systeminformation (bytes, errors, drops since boot). */
import * as si from '../health/system-info.js';
import type { StatusNetwork } from '@sentinela/shared';

export async function interfaceCounters(): Promise<StatusNetwork['interfaces']> {
  try {
    const stats = await si.networkStats('*');
    return stats.slice(0, 64).map((s) => ({
      iface: s.iface,
      operstate: s.operstate,
      rxBytes: s.rx_bytes || 0,
      txBytes: s.tx_bytes || 0,
      rxErrors: s.rx_errors || 0,
      txErrors: s.tx_errors || 0,
      rxDropped: s.rx_dropped || 0,
      txDropped: s.tx_dropped || 0,
    }));
  } catch {
    return [];
  }
}
