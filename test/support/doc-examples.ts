/** The code examples of the docs, by name, so tests run exactly what a reader copies. */
import { readFileSync } from 'node:fs';

/** The ```ts block right after `<!-- example: name -->` in `doc` (a path from the repository root). */
export function docExample(name: string, doc = 'docs/sim-targets.md'): string {
  const text = readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8');
  const at = text.indexOf(`<!-- example: ${name} -->\n\`\`\`ts\n`);
  if (at < 0) throw new Error(`${doc} has no example ${name}`);
  const start = text.indexOf('\n', text.indexOf('```ts', at)) + 1;
  return text.slice(start, text.indexOf('\n```', start) + 1);
}
