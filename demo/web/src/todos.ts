/**
 * The todo list as keys of a replica: one key per todo (`todo/<id>`), so two
 * people editing different todos never conflict, and edits to the same todo
 * resolve by last-writer-wins like every other key.
 */
import type { JsonValue, QueryEntry } from '../../../src/browser.js';

/** Key prefix of every todo. */
export const TODO_PREFIX = 'todo/';

/** One todo as stored. */
export interface Todo {
  readonly id: string;
  readonly text: string;
  readonly done: boolean;
  /** Creation time on the author's clock; only orders the list. */
  readonly createdMs: number;
}

/** Parsed todos by stored value: a value object stays the same until its key is written again, so an unchanged todo keeps its object (and a memoized row skips re-rendering). */
const parsed = new WeakMap<object, Todo | undefined>();

/** The todos among `entries` (a query of {@link TODO_PREFIX}), oldest first (ties by id so every peer shows the same order). */
export function todosOf(entries: readonly QueryEntry[]): Todo[] {
  const todos: Todo[] = [];
  for (const [key, value] of entries) {
    let todo: Todo | undefined;
    if (typeof value === 'object' && value !== null) {
      if (parsed.has(value)) todo = parsed.get(value);
      else {
        todo = parseTodo(key.slice(TODO_PREFIX.length), value);
        parsed.set(value, todo);
      }
    }
    if (todo !== undefined) todos.push(todo);
  }
  return todos.sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The todo list of anything with range reads (a replica, a tab's handle). */
export function listTodos(replica: { entries(options: { prefix: string }): [string, JsonValue][] }): Todo[] {
  return todosOf(replica.entries({ prefix: TODO_PREFIX }));
}

/** Reads a stored value defensively: a peer holding the key could still write garbage. */
function parseTodo(id: string, value: unknown): Todo | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { text, done, createdMs } = value as Record<string, unknown>;
  if (typeof text !== 'string' || typeof done !== 'boolean' || typeof createdMs !== 'number') return undefined;
  return { id, text, done, createdMs };
}

/** A fresh todo id: random, so offline peers never pick the same one. */
export function newTodoId(): string {
  return crypto.randomUUID();
}

/** The stored value of a todo (its id lives in the key). */
export function todoValue(todo: Todo): { text: string; done: boolean; createdMs: number } {
  return { text: todo.text, done: todo.done, createdMs: todo.createdMs };
}

/** The key of a todo. */
export function todoKey(id: string): string {
  return `${TODO_PREFIX}${id}`;
}
