/**
 * `EncryptedStorage` held to the storage contract, over a volatile store and
 * over the file log: encryption at rest must be invisible to the core.
 */
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { EncryptedStorage } from '../../src/crypto/encrypted-storage.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { useTempDirs } from '../support/temp-dirs.js';
import { runStorageConformance } from './conformance.js';

const key = generateRoomKey(seededRandomBytes(7));
const tempDir = useTempDirs('tidelog-encrypted-conformance-');

runStorageConformance({
  name: 'EncryptedStorage over MemoryStorage',
  async create() {
    const inner = new MemoryStorage();
    return { open: async () => new EncryptedStorage(inner, key), cleanup: async () => undefined };
  },
});

runStorageConformance({
  name: 'EncryptedStorage over FileStorage',
  async create() {
    const dir = tempDir();
    return { open: async () => new EncryptedStorage(await FileStorage.open(dir), key), cleanup: async () => undefined };
  },
});
