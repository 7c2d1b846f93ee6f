/**
 * The room's screen in React, on `tidelog/react`: the status panel reads `useSyncStatus`, the list reads
 * `useQuery({ prefix: 'todo/' })`; both re-render on every change, in every tab.
 */
import { memo, useDeferredValue, useMemo, useRef, useSyncExternalStore } from 'react';
import { type SyncState, type TabReplica, vvTotal } from '../../../src/browser.js';
import { TidelogProvider, useQuery, useReplica, useSyncStatus } from '../../../src/react/index.js';
import type { Room } from './room.js';
import type { SavingStore } from './saving.js';
import { type Todo, TODO_PREFIX, todosOf } from './todos.js';

/** What the screen can do. */
export interface RoomActions {
  add(text: string): void;
  toggle(todo: Todo): void;
  remove(todo: Todo): void;
  leave(): void;
}

/** The whole room screen. */
export function RoomView(props: { readonly room: Room; readonly saving: SavingStore; readonly actions: RoomActions }) {
  const { room, saving, actions } = props;
  return (
    <TidelogProvider replica={room.replica}>
      <StatusPanel roomId={room.roomId} />
      <AddForm onAdd={actions.add} />
      <TodoList saving={saving} actions={actions} />
      <footer className="muted">
        <span id="replica-id">this device: {room.replica.replicaId}</span>
        <button id="leave" type="button" className="link" onClick={actions.leave}>
          Leave room
        </button>
      </footer>
    </TidelogProvider>
  );
}

function subscribeOnline(onChange: () => void): () => void {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
}

/** Distinct peers any sync state of this tab named as the last one heard from. */
function usePeersSeen(sync: SyncState): number {
  const seen = useRef(new Set<string>());
  if (sync.lastPeer !== undefined) seen.current.add(sync.lastPeer.id);
  return seen.current.size;
}

function StatusPanel(props: { readonly roomId: string }) {
  const replica = useReplica<TabReplica>();
  const sync = useSyncStatus();
  const online = useSyncExternalStore(subscribeOnline, () => navigator.onLine);
  const role = useSyncExternalStore(
    (onChange) => replica.onRole(onChange),
    () => replica.role,
  );
  const opsStored = useSyncExternalStore(
    (onChange) => replica.subscribe(onChange),
    () => vvTotal(replica.versionVector()),
  );
  const peersSeen = usePeersSeen(sync);
  const network = online && sync.connected ? 'online' : 'offline';
  return (
    <dl id="status" className="status" aria-live="polite">
      <div>
        <dt>Network</dt>
        <dd id="status-network" data-state={network}>
          {network}
        </dd>
      </div>
      <div>
        <dt>Waiting to send</dt>
        <dd id="status-unsent">{sync.pendingOps}</dd>
      </div>
      <div>
        <dt>Peers seen</dt>
        <dd id="status-peers">{peersSeen}</dd>
      </div>
      <div>
        <dt>Ops stored</dt>
        <dd id="status-saved">{opsStored}</dd>
      </div>
      <div>
        <dt>This tab</dt>
        <dd id="status-role">{role}</dd>
      </div>
      <div>
        <dt>Room</dt>
        <dd id="status-room" title={props.roomId}>
          {props.roomId.slice(0, 10)}
        </dd>
      </div>
    </dl>
  );
}

function AddForm(props: { readonly onAdd: (text: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <form
      id="add"
      autoComplete="off"
      onSubmit={(event) => {
        event.preventDefault();
        const text = input.current?.value.trim() ?? '';
        if (input.current !== null) input.current.value = '';
        if (text) props.onAdd(text);
      }}
    >
      <input id="new-todo" ref={input} name="text" placeholder="What needs doing?" maxLength={500} required />
      <button type="submit">Add</button>
    </form>
  );
}

/** Rows rendered at most: a bulk add of thousands of todos stays cheap to render (the rest is counted). */
const ROWS_SHOWN_MAX = 500;

function TodoList(props: { readonly saving: SavingStore; readonly actions: RoomActions }) {
  // A burst of commits (a catch-up, a bulk add) re-renders a long list once it settles, not once per commit.
  const entries = useDeferredValue(useQuery({ prefix: TODO_PREFIX }));
  const todos = useMemo(() => todosOf(entries), [entries]);
  const saving = useSyncExternalStore(props.saving.subscribe, props.saving.current);
  return (
    <>
      <ul id="todos">
        {todos.slice(0, ROWS_SHOWN_MAX).map((todo) => (
          <TodoItem key={todo.id} todo={todo} saved={!saving.has(todo.id)} actions={props.actions} />
        ))}
      </ul>
      {todos.length > ROWS_SHOWN_MAX ? (
        <p id="more" className="muted">
          and {todos.length - ROWS_SHOWN_MAX} more
        </p>
      ) : null}
      <p id="empty" className="muted" hidden={todos.length > 0}>
        Nothing yet. Add a todo, or wait for a peer.
      </p>
    </>
  );
}

/** One todo; unchanged todos (same stored value object) skip re-rendering. */
const TodoItem = memo(function TodoItem(props: { readonly todo: Todo; readonly saved: boolean; readonly actions: RoomActions }) {
  const { todo, saved, actions } = props;
  return (
    <li data-id={todo.id} data-saved={String(saved)} className={todo.done ? 'done' : undefined}>
      <input type="checkbox" checked={todo.done} aria-label={`done: ${todo.text}`} onChange={() => actions.toggle(todo)} />
      <span className="text">{todo.text}</span>
      <span className="saved">{saved ? 'saved' : 'saving…'}</span>
      <button type="button" className="link remove" onClick={() => actions.remove(todo)}>
        delete
      </button>
    </li>
  );
});
