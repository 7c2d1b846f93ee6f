/**
 * `Replica<V>`: the value type at compile time (the `@ts-expect-error` lines fail `npm run typecheck` if the
 * types ever accept them), and runtime validation through Standard Schema with real libraries (zod, valibot)
 * and a hand-written schema: a refused value is a typed error and writes nothing.
 */
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { openSyncedReplica } from '../../src/client/open-synced-replica.js';
import { InvalidArgumentError, InvalidValueError, type JsonValue, MemoryStorage, Replica, SchemaValidationError, type StandardSchemaV1 } from '../../src/core/index.js';

type Todo = { readonly text: string; readonly done: boolean };

describe('the value type parameter', () => {
  it('types set, get, entries, batch and stateAt with V', async () => {
    const replica = await Replica.open<Todo>();
    await replica.set('t/1', { text: 'milk', done: false });
    // @ts-expect-error a function is not a JSON value
    await expect(replica.set('t/2', () => 1)).rejects.toBeInstanceOf(InvalidValueError);
    // @ts-expect-error a number is not a Todo
    await replica.set('t/3', 3).catch(() => undefined);
    // @ts-expect-error a Todo needs done
    await replica.batch((b) => b.set('t/4', { text: 'x' })).catch(() => undefined);
    // @ts-expect-error in the list form too
    await replica.batch([{ type: 'set', key: 't/5', value: 'x' }]).catch(() => undefined);
    expectTypeOf(replica.get('t/1')).toEqualTypeOf<Todo | undefined>();
    expectTypeOf(replica.entries()).toEqualTypeOf<[string, Todo][]>();
    expectTypeOf(replica.stateAt({ versionVector: {} })).toEqualTypeOf<Map<string, Todo>>();
    expect(replica.get('t/1')).toEqual({ text: 'milk', done: false });
    await replica.close();
  });

  it('defaults to any JSON value, and a typed replica is still a Replica', async () => {
    const replica = await Replica.open();
    expectTypeOf(replica.get('k')).toEqualTypeOf<JsonValue | undefined>();
    // @ts-expect-error undefined is not a JSON value
    await expect(replica.set('k', undefined)).rejects.toBeInstanceOf(InvalidValueError);
    const typed: Replica = await Replica.open<Todo>();
    await Promise.all([replica.close(), typed.close()]);
  });
});

describe('the value type through openSyncedReplica', () => {
  it('carries V (or the schema in replica options) to the synced handle (types only)', () => {
    type Synced = Awaited<ReturnType<typeof openSyncedReplica<Todo>>>;
    expectTypeOf<ReturnType<Synced['replica']['get']>>().toEqualTypeOf<Todo | undefined>();
    const open = () => openSyncedReplica({ relayUrl: 'ws://127.0.0.1:1', key: 'k', replica: { schema: z.object({ n: z.number() }) } });
    expectTypeOf<ReturnType<Awaited<ReturnType<typeof open>>['replica']['get']>>().toEqualTypeOf<{ n: number } | undefined>();
  });
});

describe('validation through Standard Schema', () => {
  const zodTodo = z.object({ text: z.string().min(1), done: z.boolean() });
  const valibotTodo = v.object({ text: v.pipe(v.string(), v.minLength(1)), done: v.boolean() });

  for (const [vendor, schema] of [
    ['zod', zodTodo],
    ['valibot', valibotTodo],
  ] as const) {
    it(`${vendor}: infers V, refuses bad values with SchemaValidationError, writes nothing`, async () => {
      const storage = new MemoryStorage();
      const replica = await Replica.open({ schema, storage });
      expectTypeOf(replica.get('t')).toEqualTypeOf<{ text: string; done: boolean } | undefined>();
      await replica.set('t/1', { text: 'milk', done: false });
      const bad = { text: '', done: 'no' } as unknown as Todo;
      const error = await replica.set('t/2', bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaValidationError);
      expect(error).toBeInstanceOf(InvalidValueError);
      expect((error as SchemaValidationError).code).toBe('INVALID_VALUE');
      expect((error as SchemaValidationError).details).toMatchObject({ key: 't/2', vendor, path: '$.text' });
      expect((error as SchemaValidationError).issues.map((i) => i.path)).toEqual(['$.text', '$.done']);
      expect((error as Error).message).toContain(`does not match the replica's schema (${vendor})`);
      // Atomic: one bad value fails the whole batch, in both forms.
      await expect(
        replica.batch((b) => {
          b.set('t/3', { text: 'ok', done: true });
          b.set('t/4', bad);
        }),
      ).rejects.toBeInstanceOf(SchemaValidationError);
      await expect(
        replica.batch([
          { type: 'set', key: 't/3', value: { text: 'ok', done: true } },
          { type: 'set', key: 't/4', value: bad },
        ]),
      ).rejects.toBeInstanceOf(SchemaValidationError);
      expect(replica.keys()).toEqual(['t/1']);
      expect(replica.versionVector()).toEqual({ [replica.replicaId]: 1 });
      await replica.close();
    });
  }

  it('stores the schema output (a transform), still checked as JSON', async () => {
    const trimmed = z.object({ text: z.string().transform((s) => s.trim()) });
    const replica = await Replica.open({ schema: trimmed });
    await replica.set('k', { text: '  milk  ' });
    expect(replica.get('k')).toEqual({ text: 'milk' });
    const toDate = z.string().transform((s) => new Date(s));
    // A schema whose output is not JSON is refused at the type level and by the JSON check.
    // @ts-expect-error Date is not a JSON value
    const dates = await Replica.open({ schema: toDate });
    await expect(dates.set('k', '2026-01-01' as never)).rejects.toBeInstanceOf(InvalidValueError);
    await Promise.all([replica.close(), dates.close()]);
  });

  it('takes a hand-written Standard Schema; refuses an async one and a non-schema', async () => {
    const positive: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: (value) => (typeof value === 'number' && value > 0 ? { value } : { issues: [{ message: 'must be a positive number', path: [{ key: 'n' }, 0] }] }),
      },
    };
    const replica = await Replica.open({ schema: positive });
    await replica.set('n', 2);
    const error = (await replica.set('m', -1).catch((e: unknown) => e)) as SchemaValidationError;
    expect(error.issues).toEqual([{ message: 'must be a positive number', path: '$.n[0]' }]);
    await replica.close();

    const later: StandardSchemaV1<unknown, number> = { '~standard': { version: 1, vendor: 'async', validate: async (value) => ({ value: value as number }) } };
    const asyncReplica = await Replica.open({ schema: later });
    await expect(asyncReplica.set('n', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(asyncReplica.size).toBe(0);
    await asyncReplica.close();

    // @ts-expect-error not a schema
    await expect(Replica.open({ schema: { parse: () => 1 } })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('does not check values merged from peers (every replica must apply the same ops)', async () => {
    const loose = await Replica.open({ replicaId: 'loose' });
    await loose.set('t/1', 'not a todo');
    const strict = await Replica.open({ replicaId: 'strict', schema: zodTodo });
    await strict.applyRemote(loose.opsSince({}));
    expect(strict.get('t/1')).toBe('not a todo');
    await Promise.all([loose.close(), strict.close()]);
  });
});
