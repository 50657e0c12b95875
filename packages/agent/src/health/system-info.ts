/**
 * The four systeminformation calls the agent makes, each loaded from its own library file on first
 * use. The package's index requires all twenty of its libraries (graphics, wifi, docker, printers…):
 * ~890 KB of source the heap keeps for the life of the process.
 */
import { createRequire } from 'node:module';
import type * as Si from 'systeminformation';

const require = createRequire(import.meta.url);
/** One library file of systeminformation (lib/cpu.js…), typed from the package's index. */
const lib = (name: 'cpu' | 'memory' | 'filesystem' | 'network'): typeof Si => require(`systeminformation/lib/${name}.js`) as typeof Si;

export const currentLoad = (): ReturnType<typeof Si.currentLoad> => lib('cpu').currentLoad();
export const mem = (): ReturnType<typeof Si.mem> => lib('memory').mem();
export const fsSize = (): ReturnType<typeof Si.fsSize> => lib('filesystem').fsSize();
export const networkStats = (ifaces: string): ReturnType<typeof Si.networkStats> => lib('network').networkStats(ifaces);
