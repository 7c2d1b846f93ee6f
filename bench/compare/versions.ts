/** Installed versions of the compared libraries, read from node_modules (some packages do not export their package.json). */
import { readFileSync } from 'node:fs';

/** `name version`, or `name (version unknown)`. */
export function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: string };
    return `${name} ${json.version ?? '(version unknown)'}`;
  } catch {
    return `${name} (version unknown)`;
  }
}
