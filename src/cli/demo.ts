/** `tidelog demo`: two replicas write conflicting values offline, sync, and agree. */
import { ManualClock } from '../core/clock.js';
import type { Op } from '../core/op.js';
import { Replica } from '../core/replica.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { Io } from './command.js';
import { hlcText } from './format.js';

/** The demo's clock starts here (2026-01-01 09:00 UTC). */
const DEMO_START_MS = Date.UTC(2026, 0, 1, 9, 0, 0);

function describe(op: Op): string {
  const what = op.type === 'set' ? `set ${JSON.stringify(op.value)}` : 'delete';
  return `${what.padEnd(22)} by ${op.replica} #${op.seq} at ${hlcText(op)}`;
}

/** Runs the two-replica demo, printing to `write`. */
export async function runDemo(write: (line: string) => void): Promise<void> {
  // A manual clock keeps the output identical on every run.
  const clock = new ManualClock(DEMO_START_MS);
  const laptop = await Replica.open({ replicaId: 'laptop', clock });
  const phone = await Replica.open({ replicaId: 'phone', clock });
  write('Two replicas, offline from each other:');
  await laptop.set('title', 'Groceries');
  await laptop.set('milk', { qty: 1 });
  clock.advance(5);
  await phone.set('milk', { qty: 2, note: 'oat' });
  await phone.set('eggs', 12);
  clock.advance(5);
  await laptop.delete('eggs');
  write(`  laptop: ${JSON.stringify(Object.fromEntries(laptop.entries()))}`);
  write(`  phone:  ${JSON.stringify(Object.fromEntries(phone.entries()))}`);

  write('\nThey sync (each sends the ops the other lacks, by version vector):');
  const toPhone = laptop.opsSince(phone.versionVector());
  const toLaptop = phone.opsSince(laptop.versionVector());
  await phone.applyRemote(toPhone);
  await laptop.applyRemote(toLaptop);
  write(`  laptop -> phone: ${toPhone.length} ops; phone -> laptop: ${toLaptop.length} ops`);
  write(`  laptop: ${JSON.stringify(Object.fromEntries(laptop.entries()))}`);
  write(`  phone:  ${JSON.stringify(Object.fromEntries(phone.entries()))}`);
  const same = JSON.stringify(laptop.entries()) === JSON.stringify(phone.entries());
  write(`  converged: ${same ? 'yes' : 'NO'}; version vector ${JSON.stringify(laptop.versionVector())}`);

  for (const key of ['milk', 'eggs']) {
    write(`\nHistory of '${key}' (merge order; the last op wins):`);
    for (const op of laptop.history(key)) write(`  ${describe(op)}`);
  }
  await laptop.close();
  await phone.close();
  if (!same) throw new Error('the demo replicas did not converge');
}

/** Runs `tidelog demo` (or, with `--web`, the browser demo) with checked arguments. */
export async function runDemoCommand(args: ParsedArgs, io: Io): Promise<number> {
  if (args.flags.has('web')) return (await import('./demo-web.js')).runWebDemo(args, io.out);
  const webOnly = [...args.flags.keys()].find((name) => name !== 'web');
  if (webOnly !== undefined) throw new UsageError(`--${webOnly} is an option of the web demo: add --web`);
  await runDemo(io.out);
  return 0;
}
