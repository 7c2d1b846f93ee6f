/**
 * Runtime validation of values through Standard Schema (standardschema.dev), the
 * interface zod, valibot, arktype and others implement: a replica opened with a
 * `schema` checks every value it writes, whatever library made the schema. The
 * types are written here from the spec (version 1), so Tidelog depends on no
 * schema library and any of them plugs in.
 */
import { InvalidArgumentError, InvalidValueError } from './errors.js';

/** A Standard Schema (version 1): what `schema` in `Replica.open` accepts. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The schema library's Standard Schema properties. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` properties of a {@link StandardSchemaV1}. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the standard: 1. */
  readonly version: 1;
  /** The library that made the schema (`zod`, `valibot`, `arktype`, ...). */
  readonly vendor: string;
  /** Checks an unknown value; may return a promise (Tidelog refuses those: writes keep their order). */
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** The input and output types, for inference only. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** What `validate` returns: the (possibly transformed) value, or the issues. */
export type StandardSchemaResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: readonly StandardSchemaIssue[] };

/** One problem a schema found. */
export interface StandardSchemaIssue {
  /** What is wrong, in the library's words. */
  readonly message: string;
  /** Where in the value: keys, or `{ key }` segments. */
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** The output type of a schema: the value type of a replica opened with it. */
export type SchemaOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** A value the replica's schema refused. `issues` are the schema's own; `details.path` is the first one's path. */
export class SchemaValidationError extends InvalidValueError {
  /** Every issue the schema reported. */
  readonly issues: readonly { readonly message: string; readonly path: string }[];

  constructor(key: string, vendor: string, issues: readonly StandardSchemaIssue[]) {
    const listed = issues.map((issue) => ({ message: issue.message, path: issuePath(issue) }));
    const first = listed[0] ?? { message: 'refused', path: '$' };
    const more = listed.length > 1 ? ` (and ${listed.length - 1} more)` : '';
    super(`the value for key '${key}' does not match the replica's schema (${vendor}): ${first.path}: ${first.message}${more}`, { key, vendor, path: first.path });
    this.issues = listed;
  }
}

function issuePath(issue: StandardSchemaIssue): string {
  let path = '$';
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return path;
}

/**
 * Checks that `schema` is a Standard Schema and returns a function that validates one value
 * for `key` and returns the schema's output.
 * @throws InvalidArgumentError when `schema` is not a Standard Schema, or (from the function) when it validates asynchronously.
 * @throws SchemaValidationError (from the function) when the value does not match.
 */
export function schemaValidator(schema: StandardSchemaV1): (key: string, value: unknown) => unknown {
  const props = (schema as Partial<StandardSchemaV1> | null)?.['~standard'];
  if (props === undefined || props === null || props.version !== 1 || typeof props.validate !== 'function') {
    throw new InvalidArgumentError('schema must be a Standard Schema (version 1), such as a zod, valibot or arktype schema');
  }
  const { validate, vendor } = props;
  return (key, value) => {
    const result = validate(value);
    if (typeof (result as Partial<PromiseLike<unknown>>).then === 'function') {
      // A write is queued in the order of the calls; waiting for a promise here would reorder them.
      Promise.resolve(result).catch(() => undefined);
      throw new InvalidArgumentError(`the replica's schema (${vendor}) validates asynchronously; a replica needs a synchronous schema`, { vendor });
    }
    const settled = result as StandardSchemaResult<unknown>;
    if (settled.issues !== undefined) throw new SchemaValidationError(key, vendor, settled.issues);
    return settled.value;
  };
}
