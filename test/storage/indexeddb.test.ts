import { IDBFactory } from 'fake-indexeddb';
import { IndexedDbStorage } from '../../src/storage/indexeddb/idb-storage.js';
import { runStorageConformance } from './conformance.js';

let counter = 0;
runStorageConformance({
  name: 'IndexedDbStorage (fake-indexeddb)',
  async create() {
    const factory = new IDBFactory();
    const name = `tidelog-${++counter}`;
    return { open: () => IndexedDbStorage.open(name, { factory }), cleanup: async () => void factory.deleteDatabase(name) };
  },
});
