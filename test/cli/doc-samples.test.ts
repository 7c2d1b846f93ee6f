/**
 * The sample outputs in README.md and docs/ come from the code: every fenced block right after a
 * `<!-- sample: tidelog ... -->` comment is what that command prints, compared line by line (wall-clock
 * figures masked), and every block after `<!-- sample excerpt: tidelog ... -->` is a cut of it: its lines
 * appear in the output in that order, `...` standing for lines left out and `...` inside a line for a
 * cut part of it. `UPDATE_DOCS=1 npx vitest run test/cli/doc-samples.test.ts` rewrites the exact samples.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/cli.js';

const root = join(import.meta.dirname, '../..');
const files = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`)].filter((name) => name.endsWith('.md'));
const MARKER = /<!-- sample( excerpt)?: tidelog ([^>]*?) -->\n+```[a-z]*\n([\s\S]*?)```/g;

interface Sample {
  readonly file: string;
  readonly excerpt: boolean;
  readonly command: string;
  readonly expected: string;
  /** Where the block's text starts and ends in the file. */
  readonly start: number;
  readonly end: number;
}

function samplesOf(file: string): Sample[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(MARKER)].map((m) => {
    const body = m[3] as string;
    const start = (m.index as number) + (m[0] as string).length - 3 - body.length;
    return { file, excerpt: m[1] !== undefined, command: m[2] as string, expected: body, start, end: start + body.length };
  });
}

/** Wall-clock figures change every run; everything else a sample shows is deterministic. */
function mask(line: string): string {
  return line
    .replace(/\b\d+ ms wall \(\d+ events\/s\)/g, 'N ms wall (N events/s)')
    .replace(/ in \d+(\.\d+)? s \(\d+ events\/s\)/g, ' in N s (N events/s)')
    .trimEnd();
}

async function output(command: string): Promise<string[]> {
  const lines: string[] = [];
  const write = (line: string) => lines.push(...line.split('\n'));
  const status = await main(command.split(/\s+/), { out: write, err: write });
  lines.push(`(exit status ${status})`);
  return lines;
}

/** Checks that the excerpt's lines appear in order; returns the first that does not, or undefined. */
function missingFromExcerpt(excerpt: readonly string[], actual: readonly string[]): string | undefined {
  let at = 0;
  for (const line of excerpt) {
    if (line.trim() === '...') continue;
    const parts = line.split('...');
    const found = actual.findIndex(
      (candidate, i) => i >= at && (parts.length === 1 ? candidate === line : candidate.startsWith(parts[0] as string) && candidate.endsWith(parts.at(-1) as string)),
    );
    if (found < 0) return line;
    at = found + 1;
  }
  return undefined;
}

const samples = files.flatMap(samplesOf);

describe('sample outputs in the docs', () => {
  it('there are samples to check (README and docs/)', () => {
    expect(samples.filter((s) => s.file === 'README.md').length).toBeGreaterThan(0);
    expect(samples.filter((s) => s.file.startsWith('docs/')).length).toBeGreaterThan(1);
  });

  for (const sample of samples) {
    it(`${sample.file}: tidelog ${sample.command}${sample.excerpt ? ' (excerpt)' : ''}`, async () => {
      const actual = (await output(sample.command)).map(mask);
      const expected = sample.expected.trimEnd().split('\n').map(mask);
      // The exit status line is part of the output only where the doc shows it.
      const shown = expected.at(-1)?.startsWith('(exit status') === true ? actual : actual.slice(0, -1);
      if (sample.excerpt) {
        expect(missingFromExcerpt(expected, shown), `a line of the excerpt is not in the output of tidelog ${sample.command}:\n${shown.join('\n')}`).toBeUndefined();
        return;
      }
      if (process.env.UPDATE_DOCS === '1' && shown.join('\n') !== expected.join('\n')) {
        const text = readFileSync(join(root, sample.file), 'utf8');
        // Samples later in the file are not moved: each test reads the file afresh and finds its block again.
        const current = samplesOf(sample.file).find((s) => s.command === sample.command && !s.excerpt);
        if (current !== undefined)
          writeFileSync(join(root, sample.file), `${text.slice(0, current.start)}${(await output(sample.command)).slice(0, shown.length).join('\n')}\n${text.slice(current.end)}`);
        return;
      }
      expect(shown.join('\n')).toBe(expected.join('\n'));
    });
  }
});
