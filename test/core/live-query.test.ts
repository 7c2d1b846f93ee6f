import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ManualClock, Replica } from '../../src/core/index.js';

async function open(id = 'a'): Promise<Replica> {
  return Replica.open({ replicaId: id, clock: new ManualClock(1_000) });
}

describe('sorted index', () => {
  it('stays exact past the point where recorded keys are folded in without a read', async () => {
    const r = await open();
    // 70,000 fresh keys without a read crosses the fold bound (65,536); then delete every other one.
    await r.batch((b) => {
      for (let i = 0; i < 70_000; i++) b.set(`k/${String(i).padStart(6, '0')}`, i);
    });
    await r.batch((b) => {
      for (let i = 0; i < 70_000; i += 2) b.delete(`k/${String(i).padStart(6, '0')}`);
    });
    expect(r.size).toBe(35_000);
    const keys = r.keys({ prefix: 'k/' });
    expect(keys.length).toBe(35_000);
    expect(keys[0]).toBe('k/000001');
    expect(keys.at(-1)).toBe('k/069999');
    expect(r.keys({ start: 'k/010000', end: 'k/010010' })).toEqual(['k/010001', 'k/010003', 'k/010005', 'k/010007', 'k/010009']);
    expect(r.entries({ prefix: 'k/0500', limit: 2 })).toEqual([
      ['k/050001', 50_001],
      ['k/050003', 50_003],
    ]);
  });

  it('refuses malformed range options with a typed error', async () => {
    const r = await open();
    expect(() => r.keys({ prefix: 1 as unknown as string })).toThrow(InvalidArgumentError);
    expect(() => r.entries({ limit: -1 })).toThrow(InvalidArgumentError);
    expect(() => r.query({ limit: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => r.query(null as unknown as object)).toThrow(InvalidArgumentError);
    expect(() => r.watch('')).toThrow(/empty/);
  });
});

describe('live queries', () => {
  it('deliver the current result, then only the changes inside the window, for remote merges too', async () => {
    const r = await open('a');
    const other = await open('b');
    await r.set('todo/1', 'one');
    const query = r.query({ prefix: 'todo/', limit: 2 });
    const seen: unknown[] = [];
    const stop = query.subscribe((entries) => seen.push(entries.map(([key]) => key)));
    expect(seen).toEqual([['todo/1']]);
    await r.set('note/1', 'outside the prefix');
    await r.set('todo/1', 'one'); // same value: no event
    await other.set('todo/2', 'two');
    await r.applyRemote(other.opsSince({}));
    await r.set('todo/3', 'past the limit'); // outside the window of 2: no event
    await r.delete('todo/1'); // todo/3 slides into the window
    expect(seen).toEqual([['todo/1'], ['todo/1', 'todo/2'], ['todo/2', 'todo/3']]);
    const snapshot = query.current;
    expect(query.current).toBe(snapshot); // the same object while nothing changed
    stop();
    await r.set('todo/0', 'zero');
    expect(seen).toHaveLength(3); // unsubscribed
    expect(query.current.map(([key]) => key)).toEqual(['todo/0', 'todo/2']); // but current reads afresh
  });

  it('watch tells the value of a key, its deletion and nothing else', async () => {
    const r = await open();
    const seen: unknown[] = [];
    const watched = r.watch('theme');
    const stop = watched.subscribe((value) => seen.push(value));
    await r.set('other', 1);
    await r.set('theme', { dark: true });
    await r.set('theme', { dark: true });
    await r.delete('theme');
    await r.delete('theme');
    expect(seen).toEqual([undefined, { dark: true }, undefined]);
    stop();
    expect(watched.current).toBeUndefined();
  });

  it('keeps other subscribers going when one throws', async () => {
    const r = await open();
    const query = r.query({ prefix: 'x' });
    const seen: number[] = [];
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    process.on('uncaughtException', onError);
    try {
      query.subscribe((entries) => {
        if (entries.length > 0) throw new Error('listener bug');
      });
      query.subscribe((entries) => seen.push(entries.length));
      await r.set('x1', 1);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(seen).toEqual([0, 1]);
    expect(errors).toHaveLength(1);
  });
});
