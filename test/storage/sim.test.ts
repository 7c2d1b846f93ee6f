/**
 * The simulator's storage double held to the same contract as the real
 * adapters: a `SimStorage` opened on one `SimMedium` (a reopen is a process
 * restart on the same disk, fsyncs landing at once).
 */
import { SimMedium, SimStorage } from '../../src/sim/tidelog/storage.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance({
  name: 'SimStorage',
  async create() {
    const medium = new SimMedium();
    const hooks = { afterFsync: (callback: () => void) => queueMicrotask(callback), ackBeforeSync: false };
    return { open: async () => new SimStorage(medium, hooks), cleanup: async () => undefined };
  },
});
