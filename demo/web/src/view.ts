/**
 * Rendering: pure DOM updates from the replica's state and the room's status.
 * No framework; the list is small enough to rebuild on every change.
 */
import type { Todo } from './todos.js';

/** What the status panel shows. */
export interface StatusView {
  readonly network: 'online' | 'offline' | 'connecting';
  readonly unsentOps: number;
  readonly peersSeen: number;
  readonly savedOps: number;
  readonly roomId: string;
}

/** Callbacks of the list's controls. */
export interface TodoActions {
  toggle(todo: Todo): void;
  remove(todo: Todo): void;
}

/** Looks up an element that index.html is known to contain. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html lacks #${id}`);
  return element as T;
}

/** Shows the sync status. */
export function renderStatus(status: StatusView): void {
  const network = byId('status-network');
  network.textContent = status.network;
  network.dataset.state = status.network;
  byId('status-unsent').textContent = String(status.unsentOps);
  byId('status-peers').textContent = String(status.peersSeen);
  byId('status-saved').textContent = String(status.savedOps);
  const room = byId('status-room');
  room.textContent = status.roomId.slice(0, 10);
  room.title = status.roomId;
}

/** Rebuilds the list. `unsaved` holds ids whose latest local write is not durable yet. */
export function renderTodos(todos: readonly Todo[], unsaved: ReadonlySet<string>, actions: TodoActions): void {
  const list = byId<HTMLUListElement>('todos');
  list.replaceChildren(...todos.map((todo) => todoItem(todo, !unsaved.has(todo.id), actions)));
  byId('empty').hidden = todos.length > 0;
}

function todoItem(todo: Todo, saved: boolean, actions: TodoActions): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.id = todo.id;
  item.dataset.saved = String(saved);
  item.classList.toggle('done', todo.done);
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = todo.done;
  box.setAttribute('aria-label', `done: ${todo.text}`);
  box.addEventListener('change', () => actions.toggle(todo));
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = todo.text;
  const state = document.createElement('span');
  state.className = 'saved';
  state.textContent = saved ? 'saved' : 'saving…';
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'link remove';
  remove.textContent = 'delete';
  remove.addEventListener('click', () => actions.remove(todo));
  item.append(box, text, state, remove);
  return item;
}
