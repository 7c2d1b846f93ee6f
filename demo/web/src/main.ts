/**
 * The demo app: a shared todo list on a Tidelog replica stored in IndexedDB,
 * synced end to end encrypted through a relay. Every write lands locally
 * first, so the app keeps working offline and catches up when the network
 * returns.
 */
import { type ChangeEvent, vvTotal } from '../../../src/browser.js';
import { enableOfflineStart } from './offline.js';
import { openRoom, type Room } from './room.js';
import { listTodos, newTodoId, type Todo, todoKey, todoValue } from './todos.js';
import { byId, renderStatus, renderTodos } from './view.js';

const PASSPHRASE_KEY = 'tidelog-demo:passphrase';
const RELAY_KEY = 'tidelog-demo:relay';

/** Ids whose latest local write has not been reported durable yet. */
const unsaved = new Map<string, number>();
let room: Room | undefined;

/** Announces durable writes on the console: the browser tests collect these lines. */
function reportSaved(keys: readonly string[]): void {
  console.info(`tidelog-demo:saved ${JSON.stringify(keys)}`);
}

let renderQueued = false;

/** Renders on the next frame: a burst of commits (a sync catch-up, a bulk add) costs one render, not one per commit. */
function render(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderNow();
  });
}

function renderNow(): void {
  if (room === undefined) return;
  renderTodos(listTodos(room.replica), new Set(unsaved.keys()), { toggle, remove });
  renderStatusNow();
}

/** The status panel alone: cheap enough for the room's periodic status ticks. */
function renderStatusNow(): void {
  if (room === undefined) return;
  renderStatus({ ...room.status(), savedOps: vvTotal(room.replica.versionVector()) });
}

/** Tracks one local write: "saving…" until the replica says it is durable. */
function track(ids: readonly string[], write: Promise<unknown>): Promise<void> {
  for (const id of ids) unsaved.set(id, (unsaved.get(id) ?? 0) + 1);
  render();
  const settle = (): void => {
    for (const id of ids) {
      const left = (unsaved.get(id) ?? 1) - 1;
      if (left === 0) unsaved.delete(id);
      else unsaved.set(id, left);
    }
    render();
  };
  return write.then(
    () => {
      reportSaved(ids.map(todoKey));
      settle();
    },
    (error: unknown) => {
      settle();
      showError(error);
    },
  );
}

function add(text: string): Promise<void> {
  if (room === undefined) return Promise.resolve();
  const todo: Todo = { id: newTodoId(), text, done: false, createdMs: Date.now() };
  return track([todo.id], room.replica.set(todoKey(todo.id), todoValue(todo)));
}

function toggle(todo: Todo): void {
  if (room === undefined) return;
  void track([todo.id], room.replica.set(todoKey(todo.id), todoValue({ ...todo, done: !todo.done })));
}

function remove(todo: Todo): void {
  if (room === undefined) return;
  void track([todo.id], room.replica.delete(todoKey(todo.id)));
}

/** Batches a bulk add keeps in flight: enough to keep the commit path busy, few enough that a crash lands mid-run. */
const BULK_BATCHES_IN_FLIGHT = 4;

/**
 * Adds `count` todos in atomic batches of `perBatch` (texts `label 0`, `label 1`, ...),
 * keeping a few batches in flight. Used by the crash test; handy for trying a long list.
 */
async function addMany(count: number, perBatch: number, label = 'bulk'): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const createdMs = Date.now();
  for (let first = 0; first < count; first += perBatch) {
    if (room === undefined) return;
    const todos: Todo[] = [];
    for (let i = first; i < Math.min(count, first + perBatch); i++) todos.push({ id: newTodoId(), text: `${label} ${i}`, done: false, createdMs: createdMs + i });
    const batch = room.replica.batch(todos.map((todo) => ({ type: 'set' as const, key: todoKey(todo.id), value: todoValue(todo) })));
    const write = track(
      todos.map((todo) => todo.id),
      batch,
    ).finally(() => inFlight.delete(write));
    inFlight.add(write);
    if (inFlight.size >= BULK_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

function showError(error: unknown): void {
  const box = byId('join-error');
  const code = (error as { code?: string }).code;
  box.textContent = `${code ? `[${code}] ` : ''}${(error as Error).message ?? String(error)}`;
  box.hidden = false;
}

async function join(relayUrl: string, passphrase: string): Promise<void> {
  const button = byId<HTMLButtonElement>('join-button');
  button.disabled = true;
  byId('join-error').hidden = true;
  try {
    room = await openRoom({ relayUrl, passphrase });
  } catch (error) {
    showError(error);
    return;
  } finally {
    button.disabled = false;
  }
  localStorage.setItem(PASSPHRASE_KEY, passphrase);
  localStorage.setItem(RELAY_KEY, relayUrl);
  room.replica.subscribe((_event: ChangeEvent) => render());
  room.onStatus(() => renderStatusNow());
  byId('join').hidden = true;
  byId('room').hidden = false;
  byId('replica-id').textContent = `this device: ${room.replica.replicaId}`;
  document.body.dataset.ready = 'true';
  render();
}

async function leave(): Promise<void> {
  localStorage.removeItem(PASSPHRASE_KEY);
  const closing = room;
  room = undefined;
  await closing?.close();
  byId('room').hidden = true;
  byId('join').hidden = false;
  delete document.body.dataset.ready;
}

/** The relay to offer: `?relay=`, then the last one used, then the serving host's config. */
async function defaultRelayUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get('relay');
  if (fromQuery) return fromQuery;
  const remembered = localStorage.getItem(RELAY_KEY);
  if (remembered) return remembered;
  try {
    const config = (await (await fetch('./tidelog-config.json')).json()) as { relayUrl?: unknown };
    if (typeof config.relayUrl === 'string') return config.relayUrl;
  } catch {
    // No config served: fall through to the conventional port.
  }
  return `ws://${location.hostname || '127.0.0.1'}:8787`;
}

async function boot(): Promise<void> {
  const relayInput = byId<HTMLInputElement>('relay-url');
  const passphraseInput = byId<HTMLInputElement>('passphrase');
  relayInput.value = await defaultRelayUrl();
  byId<HTMLFormElement>('join').addEventListener('submit', (event) => {
    event.preventDefault();
    void join(relayInput.value.trim(), passphraseInput.value);
  });
  byId<HTMLFormElement>('add').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('new-todo');
    const text = input.value.trim();
    input.value = '';
    if (text) void add(text);
  });
  byId('leave').addEventListener('click', () => void leave());
  // A tiny handle for the browser tests and for poking at the demo from devtools.
  Object.assign(window, { tidelogDemo: { add, addMany, room: () => room, todos: () => (room ? listTodos(room.replica) : []) } });
  // Rejoin the last room on this device: edits made offline come back on reload.
  const remembered = localStorage.getItem(PASSPHRASE_KEY);
  if (remembered) await join(relayInput.value, remembered);
  document.body.dataset.booted = 'true';
  // After boot, so a slow cache fill never delays the app; offline it fails harmlessly (the shell is cached already).
  enableOfflineStart().then(
    (enabled) => {
      if (enabled) document.body.dataset.offlineReady = 'true';
    },
    (error: unknown) => console.warn(`tidelog-demo: offline start unavailable: ${(error as Error).message}`),
  );
}

void boot();
