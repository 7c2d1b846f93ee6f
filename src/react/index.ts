/**
 * `tidelog/react`: React bindings over a replica (a `Replica`, a browser tab's `TabReplica`, or the replica of
 * `openSyncedReplica`). A provider plus `useValue`, `useQuery` and `useSyncStatus`, each on React's
 * `useSyncExternalStore`, so concurrent rendering never shows two states at once. React is an optional peer
 * dependency of the package: only this entry imports it, the core never does.
 */
import { createContext, createElement, type ReactNode, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import { InvalidArgumentError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import type { LiveQuery, LiveSource, LiveValue, QueryEntry, QueryOptions } from '../core/live-query.js';
import type { SyncState } from '../sync/sync-state.js';

/** What the hooks read: anything with live queries (a `Replica`, a `TabReplica`). */
export interface LiveReplica extends LiveSource {
  query(options?: QueryOptions): LiveQuery;
  watch(key: string): LiveValue;
}

/** Where `useSyncStatus` reads from: a `TabReplica`, a `SyncedReplica`, a `SyncSession`. */
export interface SyncStatusSource {
  syncState(): SyncState;
  onSyncState(listener: (state: SyncState) => void): () => void;
}

interface TidelogContextValue {
  readonly replica: LiveReplica;
  readonly sync: SyncStatusSource | undefined;
}

const TidelogContext = createContext<TidelogContextValue | undefined>(undefined);

/** Props of {@link TidelogProvider}. */
export interface TidelogProviderProps {
  /** The replica the hooks below read. */
  readonly replica: LiveReplica;
  /** Where `useSyncStatus` reads; by default the replica itself when it tells its sync state (a `TabReplica`). */
  readonly sync?: SyncStatusSource;
  readonly children?: ReactNode;
}

/**
 * Makes a replica available to the hooks in `children`.
 * @example
 * const db = await openTabReplica({ name: 'todos', sync: { relayUrl, key } });
 * createRoot(element).render(<TidelogProvider replica={db}><App /></TidelogProvider>);
 */
export function TidelogProvider(props: TidelogProviderProps): ReactNode {
  const { replica, sync, children } = props;
  const value = useMemo<TidelogContextValue>(() => ({ replica, sync: sync ?? (isSyncSource(replica) ? replica : undefined) }), [replica, sync]);
  return createElement(TidelogContext.Provider, { value }, children);
}

function isSyncSource(value: unknown): value is SyncStatusSource {
  return typeof (value as Partial<SyncStatusSource>).syncState === 'function' && typeof (value as Partial<SyncStatusSource>).onSyncState === 'function';
}

function useTidelog(hook: string): TidelogContextValue {
  const context = useContext(TidelogContext);
  if (context === undefined) throw new InvalidArgumentError(`${hook} must be called inside a <TidelogProvider>`);
  return context;
}

/** The replica of the nearest {@link TidelogProvider} (to write with: `useReplica().set(...)`). */
export function useReplica<R extends LiveReplica = LiveReplica>(): R {
  return useTidelog('useReplica').replica as R;
}

function useLive<T>(live: LiveQuery | LiveValue): T {
  const subscribe = useCallback((onChange: () => void) => live.subscribe(() => onChange()), [live]);
  const snapshot = useCallback(() => live.current as T, [live]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** The value of `key`, re-rendering when it changes (undefined while it has none). */
export function useValue(key: string): JsonValue | undefined {
  const { replica } = useTidelog('useValue');
  const live = useMemo(() => replica.watch(key), [replica, key]);
  return useLive<JsonValue | undefined>(live);
}

/** The `[key, value]` pairs of a range in key order, re-rendering when the result changes. */
export function useQuery(options: QueryOptions = {}): readonly QueryEntry[] {
  const { replica } = useTidelog('useQuery');
  const { prefix, start, end, limit } = options;
  const live = useMemo(
    () => replica.query({ ...(prefix === undefined ? {} : { prefix }), ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }), ...(limit === undefined ? {} : { limit }) }),
    [replica, prefix, start, end, limit],
  );
  return useLive<readonly QueryEntry[]>(live);
}

/** Connected or not, local ops no peer has confirmed yet, and the vector the last peer reported. */
export function useSyncStatus(): SyncState {
  const { sync } = useTidelog('useSyncStatus');
  if (sync === undefined) throw new InvalidArgumentError('useSyncStatus needs a sync status: give <TidelogProvider sync={...}> (a SyncedReplica or SyncSession), or a TabReplica as the replica');
  const subscribe = useCallback((onChange: () => void) => sync.onSyncState(() => onChange()), [sync]);
  const snapshot = useCallback(() => sync.syncState(), [sync]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
