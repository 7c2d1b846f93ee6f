import { FileStorage } from '../../src/storage/file/file-storage.js';
import { runStorageConformance } from './conformance.js';
import { makeTempDir, removeDir } from './helpers.js';

for (const durability of ['sync', 'interval'] as const) {
  runStorageConformance({
    name: `FileStorage (${durability})`,
    async create() {
      const dir = makeTempDir();
      // Small segments so rolling and segment removal on compaction are exercised too.
      return { open: () => FileStorage.open(dir, { durability, segmentBytesMax: 64 * 1024, syncIntervalMs: 5 }), cleanup: async () => removeDir(dir) };
    },
  });
}
