// Fails when deterministic code (core, sync, sim) reads the real clock or randomness
// outside the lines marked as injected defaults. The simulator's exact replay depends on it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src/core', 'src/sync', 'src/sim'];
const banned = /\b(Date\.now\(|Math\.random\(|performance\.now\(|new Date\(\)|setTimeout\(|setInterval\(|crypto\.getRandomValues\()/;
const allowed = /system(Clock|Random|Scheduler)|injected default/;
const problems = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      const lines = readFileSync(path, 'utf8').split('\n');
      lines.forEach((line, i) => {
        const context = `${lines[i - 2] ?? ''}\n${lines[i - 1] ?? ''}\n${line}`;
        if (banned.test(line) && !allowed.test(context)) problems.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
  }
}
roots.forEach(walk);
if (problems.length > 0) {
  console.error('Direct clock/randomness/timer use in deterministic code (inject it instead):\n' + problems.join('\n'));
  process.exit(1);
}
console.log('determinism check: no direct clock, randomness or timers in', roots.join(', '));
