/**
 * JSON values: the only values Tidelog stores. Validation and copying happen in
 * one walk so a stored value can never be changed by the caller afterwards.
 */
import { InvalidValueError } from './errors.js';

/** A JSON value: what `set` accepts and `get` returns. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Deepest nesting accepted; bounds the recursion so hostile input cannot blow the stack. */
export const JSON_DEPTH_MAX = 256;

/**
 * Checks that `value` is a JSON value and returns a frozen deep copy of it.
 * @throws InvalidValueError naming the path of the first offending part.
 */
export function toJsonValue(value: unknown): JsonValue {
  return copyJson(value, '$', 0, undefined);
}

function copyJson(value: unknown, path: string, depth: number, ancestors: Set<object> | undefined): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidValueError(`${path} is ${value}, which JSON cannot represent`, { path });
      return value;
    case 'object':
      if (value === null) return null;
      return copyContainer(value, path, depth, ancestors);
    default:
      throw new InvalidValueError(`${path} is a ${typeof value}, not a JSON value`, { path });
  }
}

function copyContainer(value: object, path: string, depth: number, seen: Set<object> | undefined): JsonValue {
  // Allocated on the first container only: primitive values never pay for it.
  const ancestors = seen ?? new Set<object>();
  if (depth >= JSON_DEPTH_MAX) throw new InvalidValueError(`${path} nests deeper than ${JSON_DEPTH_MAX} levels`, { path });
  if (ancestors.has(value)) throw new InvalidValueError(`${path} is a cycle`, { path });
  ancestors.add(value);
  let copy: JsonValue;
  if (Array.isArray(value)) {
    const items: JsonValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new InvalidValueError(`${path}[${i}] is a hole in a sparse array`, { path: `${path}[${i}]` });
      items[i] = copyJson(value[i], `${path}[${i}]`, depth + 1, ancestors);
    }
    copy = Object.freeze(items);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidValueError(`${path} is a ${proto?.constructor?.name ?? 'class'} instance, not a plain object`, { path });
    }
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(value)) {
      const item = copyJson((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, ancestors);
      // JSON.parse makes "__proto__" an own key; plain assignment would set the prototype and lose the data.
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      else out[key] = item;
    }
    if (Object.getOwnPropertySymbols(value).length > 0) throw new InvalidValueError(`${path} has symbol keys`, { path });
    copy = Object.freeze(out);
  }
  ancestors.delete(value);
  return copy;
}

/**
 * For values fresh out of `JSON.parse` only (core decoders; not exported from the package): they are JSON by
 * construction (no cycles, class instances, symbols or non-finite numbers) and nobody else holds them, so the
 * containers are frozen in place instead of copied. Only the depth is checked, with the same limit as
 * {@link toJsonValue}.
 * @throws InvalidValueError when the value nests deeper than {@link JSON_DEPTH_MAX}.
 */
export function freezeParsedJson(value: unknown): JsonValue {
  freezeIn(value, 0);
  return value as JsonValue;
}

function freezeIn(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth >= JSON_DEPTH_MAX) throw new InvalidValueError(`a value nests deeper than ${JSON_DEPTH_MAX} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeIn(value[i], depth + 1);
  } else {
    for (const key in value) freezeIn((value as Record<string, unknown>)[key], depth + 1);
  }
  Object.freeze(value);
}

/** Structural equality of two JSON values (used to tell a duplicate op from a conflicting one). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, JsonValue>;
  const bo = b as Record<string, JsonValue>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  for (const key of keys) if (!(key in bo) || !jsonEqual(ao[key], bo[key])) return false;
  return true;
}
