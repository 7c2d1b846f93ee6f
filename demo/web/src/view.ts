/** DOM helpers for the parts of the page outside React (the join form). */

/** Looks up an element that index.html is known to contain. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html lacks #${id}`);
  return element as T;
}
