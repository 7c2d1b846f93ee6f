/**
 * The demo app: a shared todo list on a Tidelog database in IndexedDB that every tab of the browser reads and
 * writes, synced end to end encrypted through a relay. Every write lands locally first, so the app keeps
 * working offline and catches up when the network returns. The room screen is React (`app.tsx`).
 */
import { createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { RoomView } from './app.js';
import { enableOfflineStart } from './offline.js';
import { openRoom, type Room } from './room.js';
import { SavingStore } from './saving.js';
import { listTodos, newTodoId, type Todo, todoKey, todoValue } from './todos.js';
import { byId } from './view.js';

const PASSPHRASE_KEY = 'tidelog-demo:passphrase';
const RELAY_KEY = 'tidelog-demo:relay';

const saving = new SavingStore();
let room: Room | undefined;
let screen: Root | undefined;

/** Announces durable writes on the console: the browser tests collect these lines. */
function reportSaved(keys: readonly string[]): void {
  console.info(`tidelog-demo:saved ${JSON.stringify(keys)}`);
}

/** Tracks one local write: "saving…" until the database says it is durable. */
function track(ids: readonly string[], write: Promise<unknown>): Promise<void> {
  return saving.track(ids, write).then(
    () => reportSaved(ids.map(todoKey)),
    (error: unknown) => showError(error),
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
 * keeping a few batches in flight. Used by the crash tests; handy for trying a long list.
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

/**
 * Times `count` awaited writes, one after the other, under `bench/` (no todo, so no re-render): what one write
 * costs this tab, leader or follower. Returns each write's milliseconds.
 */
async function timeWrites(count: number, label = 'w'): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    if (room === undefined) break;
    const startMs = performance.now();
    await room.replica.set(`bench/${label}/${i}`, i);
    times.push(performance.now() - startMs);
  }
  return times;
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
  byId('join').hidden = true;
  byId('room').hidden = false;
  screen = createRoot(byId('room-app'));
  screen.render(createElement(RoomView, { room, saving, actions: { add: (text) => void add(text), toggle, remove, leave: () => void leave() } }));
  document.body.dataset.ready = 'true';
}

async function leave(): Promise<void> {
  localStorage.removeItem(PASSPHRASE_KEY);
  const closing = room;
  room = undefined;
  screen?.unmount();
  screen = undefined;
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
  // A tiny handle for the browser tests and for poking at the demo from devtools.
  Object.assign(window, { tidelogDemo: { add, addMany, timeWrites, room: () => room, todos: () => (room ? listTodos(room.replica) : []) } });
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
