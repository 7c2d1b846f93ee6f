import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageCorruptError } from '../../src/core/errors.js';
import { TamperedEnvelopeError, WrongKeyError } from '../../src/crypto/errors.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { Replica } from '../../src/core/replica.js';
import { EncryptedStorage } from '../../src/crypto/encrypted-storage.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { useTempDirs } from '../support/temp-dirs.js';

const key = generateRoomKey(seededRandomBytes(21));
const tempDir = useTempDirs('tidelog-at-rest-');

async function allBytes(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

describe('EncryptedStorage', () => {
  it('keeps keys and values off the disk and reads them back, through compaction and reopen', async () => {
    const dir = tempDir();
    let replica = await Replica.open({ storage: new EncryptedStorage(await FileStorage.open(dir), key), historyOpsRetained: 2 });
    await replica.set('diary/monday', 'very secret words');
    await replica.batch([
      { type: 'set', key: 'diary/tuesday', value: { mood: 'confidential' } },
      { type: 'delete', key: 'diary/monday' },
    ]);
    for (let i = 0; i < 10; i++) await replica.set(`note-${i}`, `private-${i}`);
    await replica.compact();
    await replica.set('after-compaction', 'hush');
    const before = replica.entries();
    await replica.close();
    const disk = await allBytes(dir);
    for (const word of ['diary', 'secret', 'confidential', 'private', 'note-', 'hush', 'tuesday']) expect(disk.includes(word), word).toBe(false);
    replica = await Replica.open({ storage: new EncryptedStorage(await FileStorage.open(dir), key) });
    expect(replica.entries()).toEqual(before);
    expect(replica.get('diary/tuesday')).toEqual({ mood: 'confidential' });
    expect(replica.has('diary/monday')).toBe(false);
    await replica.close();
  });

  it('refuses the wrong key and plaintext data with typed errors, leaving the data intact', async () => {
    const memory = new MemoryStorage();
    const replica = await Replica.open({ storage: new EncryptedStorage(memory, key) });
    await replica.set('k', 'v');
    await replica.close();
    const wrong = generateRoomKey(seededRandomBytes(22));
    await expect(Replica.open({ storage: new EncryptedStorage(memory, wrong) })).rejects.toThrow(WrongKeyError);
    const plain = new MemoryStorage();
    const plainReplica = await Replica.open({ storage: plain });
    await plainReplica.set('k', 'v');
    await plainReplica.close();
    await expect(Replica.open({ storage: new EncryptedStorage(plain, key) })).rejects.toThrow(StorageCorruptError);
    const again = await Replica.open({ storage: new EncryptedStorage(memory, key) });
    expect(again.get('k')).toBe('v');
    await again.close();
  });

  it('detects a sealed payload moved to another batch', async () => {
    const memory = new MemoryStorage();
    const storage = new EncryptedStorage(memory, key);
    const replica = await Replica.open({ storage });
    await replica.set('a', 1);
    await replica.set('b', 2);
    await replica.close();
    const stored = await memory.load();
    const batches = [...(stored.batches as Iterable<readonly { value?: unknown }[]>)];
    // Swap the two carriers' sealed payloads (a hostile edit of the medium).
    const [first, second] = [batches[0]?.[0] as { value: unknown }, batches[1]?.[0] as { value: unknown }];
    const swapped = [[{ ...first, value: second.value }], [{ ...second, value: first.value }]];
    (memory as unknown as { batches: unknown[] }).batches = swapped;
    await expect(Replica.open({ storage: new EncryptedStorage(memory, key) })).rejects.toThrow(TamperedEnvelopeError);
  });
});
