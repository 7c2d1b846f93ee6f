import { MemoryStorage } from '../../src/core/memory-storage.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance({
  name: 'MemoryStorage',
  async create() {
    // One object models one medium: reopening hands back the same storage.
    const storage = new MemoryStorage();
    return { open: async () => storage, cleanup: async () => undefined };
  },
});
