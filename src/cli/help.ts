/** `--help` text, wrapped to 80 columns: usage, what the command does, its arguments and flags. */
import type { FlagSpec, PositionalSpec } from './args.js';

/** Width every help line fits in. */
export const HELP_COLUMNS = 80;
/** Where descriptions start when the flag column is short enough. */
const DESCRIPTION_COLUMN = 28;

/** Wraps `text` to `width` columns, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent = 0): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const limit = lines.length === 0 ? width : width - indent;
    if (line !== '' && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : ' '.repeat(indent) + l));
}

/** Two columns: `left` then `right` wrapped beside it from `column` on (or below it, when `left` is too wide). */
export function twoColumns(left: string, right: string, column = DESCRIPTION_COLUMN): string[] {
  const head = `  ${left}`;
  const body = wrap(right, HELP_COLUMNS - column);
  if (head.length + 2 > column) return [head, ...body.map((l) => ' '.repeat(column) + l)];
  return body.map((l, i) => (i === 0 ? head.padEnd(column) : ' '.repeat(column)) + l);
}

/** `text` with its first letter in upper case (summaries are written as list items). */
export function sentence(text: string): string {
  const line = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(line) ? line : `${line}.`;
}

function flagLabel(flag: FlagSpec): string {
  if (flag.kind === 'switch') return `--${flag.name}`;
  const value = flag.value ?? (flag.kind === 'choice' ? (flag.choices ?? []).join('|') : flag.kind === 'port' ? 'port' : 'N');
  return `--${flag.name} <${value}>`;
}

/** What a command's help shows. */
export interface HelpInput {
  /** The command name. */
  readonly name: string;
  /** One line. */
  readonly summary: string;
  /** Longer explanation, one string per paragraph. */
  readonly details?: readonly string[];
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  /** Example command lines, with a `# comment` each. */
  readonly examples?: readonly string[];
}

/** The full `tidelog <name> --help` text. */
export function commandHelp(command: HelpInput): string {
  const args = command.positionals.map((p) => ` <${p.name}>`).join('');
  const out: string[] = [...wrap(`Usage: tidelog ${command.name}${args}${command.flags.length > 0 ? ' [options]' : ''}`, HELP_COLUMNS, 7), ''];
  out.push(...wrap(sentence(command.summary), HELP_COLUMNS));
  for (const paragraph of command.details ?? []) out.push('', ...wrap(paragraph, HELP_COLUMNS));
  if (command.positionals.length > 0) {
    out.push('', 'Arguments:');
    for (const p of command.positionals) out.push(...twoColumns(`<${p.name}>`, p.help));
  }
  const groups = new Map<string, FlagSpec[]>();
  for (const flag of command.flags) {
    const group = flag.group ?? 'Options';
    groups.set(group, [...(groups.get(group) ?? []), flag]);
  }
  if (!groups.has('Options')) groups.set('Options', []);
  for (const [group, flags] of [...groups].sort(([a], [b]) => (a === 'Options' ? -1 : b === 'Options' ? 1 : 0))) {
    out.push('', `${group}:`);
    for (const flag of flags) out.push(...twoColumns(flagLabel(flag), flag.help));
    if (group === 'Options') out.push(...twoColumns('-h, --help', 'show this help'));
  }
  if (command.examples !== undefined && command.examples.length > 0) {
    out.push('', 'Examples:');
    // Command lines are not wrapped (they must stay copyable); a test keeps them within 80 columns.
    for (const example of command.examples) out.push(`  ${example}`);
  }
  return `${out.join('\n')}\n`;
}
