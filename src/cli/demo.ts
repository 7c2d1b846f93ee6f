/** `tidelog demo`: two replicas write conflicting values offline, sync, and agree. */
import { ManualClock } from '../core/clock.js';
import type { Op } from '../core/op.js';
import { Replica } from '../core/replica.js';
import type { Command } from './command.js';
import { runWebDemo } from './demo-web.js';

function describe(op: Op): string {
  const what = op.type === 'set' ? `set ${JSON.stringify(op.value)}` : 'delete';
  return `${what.padEnd(22)} by ${op.replica} #${op.seq} at HLC ${op.wall}.${op.logical}`;
}

/** Runs the two-replica demo, printing to `write`. */
export async function runDemo(write: (line: string) => void): Promise<void> {
  // A manual clock keeps the printed timestamps readable and the output identical on every run.
  const clock = new ManualClock(1_000);
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

/** The `demo` subcommand. */
export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--web]',
  summary: 'two replicas write conflicting values offline, sync, and print the merged state and history; --web serves the browser demo',
  async run(args) {
    if (args.includes('--web')) return runWebDemo(args, (line) => process.stdout.write(`${line}\n`));
    await runDemo((line) => process.stdout.write(`${line}\n`));
    return 0;
  },
};
