/** Promise wrappers for IndexedDB's event-based requests and transactions. */
import { StorageFailedError } from '../../core/errors.js';

/** Resolves with a request's result, rejects with a typed error. */
export function requestResult<T>(request: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new StorageFailedError(`IndexedDB ${what} failed: ${request.error?.message ?? 'unknown error'}`, {}, { cause: request.error }));
  });
}

/** Resolves when a transaction commits; rejects when it aborts or fails (then none of its writes happened). */
export function transactionDone(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    const fail = () => reject(new StorageFailedError(`IndexedDB ${what} did not commit: ${tx.error?.message ?? 'aborted'}; nothing of it was written`, {}, { cause: tx.error }));
    tx.onerror = fail;
    tx.onabort = fail;
  });
}
