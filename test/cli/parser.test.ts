/**
 * The command line as a newcomer meets it: every command has --help within 80 columns, every bad flag is
 * one line on stderr and exit status 2 (nothing started), and the sim's flags cover every SimOptions field.
 */
import { describe, expect, it } from 'vitest';
import { main, usage } from '../../src/cli/cli.js';
import { commands } from '../../src/cli/commands.js';
import { OVERRIDE_FLAGS } from '../../src/cli/sim-flags.js';
import { swarmOptions } from '../../src/sim/options.js';

async function run(...argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (line) => out.push(...line.split('\n')), err: (line) => err.push(...line.split('\n')) });
  return { status, out, err };
}

describe('help', () => {
  it('tidelog --help lists every command within 80 columns', async () => {
    const { status, out } = await run('--help');
    expect(status).toBe(0);
    for (const command of commands) expect(out.some((line) => line.startsWith(`  ${command.name} `))).toBe(true);
    for (const line of usage().split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  for (const command of commands) {
    it(`tidelog ${command.name} --help (and -h) prints its usage and every flag within 80 columns`, async () => {
      const { status, out, err } = await run(command.name, '--help');
      expect(status).toBe(0);
      expect(err).toEqual([]);
      expect(out[0]).toMatch(new RegExp(`^Usage: tidelog ${command.name}\\b`));
      for (const line of out) expect(line.length, line).toBeLessThanOrEqual(80);
      for (const flag of command.flags) expect(out.join('\n')).toContain(`--${flag.name}`);
      expect((await run(command.name, '-h')).out).toEqual(out);
    });
  }

  it('help <command> is the same as <command> --help; no command is a usage error', async () => {
    expect((await run('help', 'verify')).out).toEqual((await run('verify', '--help')).out);
    const none = await run();
    expect(none.status).toBe(2);
  });
});

describe('bad command lines: one line on stderr, exit status 2', () => {
  const cases: [string[], string][] = [
    [['relay', '--bogus'], 'tidelog relay: unknown option --bogus'],
    [['relay', '--prot', '80'], 'unknown option --prot (did you mean --port?)'],
    [['relay', '--port', '99999'], "--port takes a port number from 0 to 65535 (0 picks a free one), got '99999'"],
    [['relay', '--log-level', 'loud'], "--log-level takes one of debug, info, warn, error, got 'loud'"],
    [['relay', '--redis-prefix', 'x'], '--redis-prefix is an option of --redis'],
    [['relay', '--redis', 'http://x'], 'a Redis URL starts with redis:// or rediss://'],
    [['demo', '--web', '--port', 'abc'], "--port takes a port number from 0 to 65535 (0 picks a free one), got 'abc'"],
    [['demo', '--port', '5173'], '--port is an option of the web demo: add --web'],
    [['demo', '--web=yes'], '--web is a switch and takes no value'],
    [['sim', '--help-me'], 'unknown option --help-me'],
    [['sim', '--runs', '0'], "--runs takes a whole number (1 or more), got '0'"],
    [['sim', '--runs', '2', '--seeds', '3'], 'give one'],
    [['sim', '--replay', '2', '--runs', '3'], '--replay and --runs exclude each other'],
    [['sim', '--key-distribution', 'foo'], "--key-distribution takes one of uniform, zipf, got 'foo'"],
    [['sim', '--html'], '--html needs a value (file)'],
    [['sim', '--steps', '-1'], 'write --steps=-1'],
    [['sim', '--replicas', '1'], '--replicas must be from 2 to 1000'],
    [['sim', '--drop-probability', '2'], "--drop-probability takes a number from 0 to 1, got '2'"],
    [['sim', '--faults', 'drop,meteor'], "unknown fault 'meteor'"],
    [['sim', 'extra'], "takes no arguments, got 'extra'"],
    [['replay'], 'missing <seed>'],
    [['replay', 'abc'], "<seed> is a whole number (0 or more), got 'abc'"],
    [['replay', '3', '4'], "unexpected argument '4' after <seed>"],
    [['inspect'], 'missing <dir>'],
    [['inspect', '/nonexistent-tidelog-dir'], '/nonexistent-tidelog-dir does not exist'],
    [['inspect', '.', '--limit', 'all'], "--limit takes a whole number (0 or more), got 'all'"],
    [['verify', '/nonexistent-tidelog-dir'], 'does not exist'],
    [['repair'], 'missing <dir>'],
    [['frobnicate'], "tidelog: unknown command 'frobnicate'"],
  ];
  for (const [argv, expected] of cases) {
    it(`tidelog ${argv.join(' ')}`, async () => {
      const { status, out, err } = await run(...argv);
      expect(status).toBe(2);
      expect(out).toEqual([]);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain(expected);
      expect(err[0]).toMatch(/\(see: tidelog( \w+)? --help\)$/);
    });
  }
});

describe('the sim flags', () => {
  it('cover every SimOptions field but seed and faults, each once', () => {
    const fields = Object.keys(swarmOptions(1)).filter((name) => name !== 'seed' && name !== 'faults');
    const covered = OVERRIDE_FLAGS.map((flag) => flag.option);
    expect(new Set(covered).size).toBe(covered.length);
    for (const field of [...fields, 'bug']) expect(covered, field).toContain(field);
    for (const option of covered) expect([...fields, 'bug'], option).toContain(option);
  });

  it('--faults list prints the fault names', async () => {
    const { status, out } = await run('sim', '--faults', 'list');
    expect(status).toBe(0);
    expect(out[0]?.split(', ')).toContain('bitflip');
  });
});
