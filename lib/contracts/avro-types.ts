/**
 * Type-level mapping from an Avro schema literal (declared `as const`) to the TypeScript type of its
 * values as avsc decodes them (unions unwrapped, longs as numbers, maps as records). This is what
 * lets the schema be the single source of truth: `type PredictionEvent = AvroValue<typeof schema>`.
 *
 * Supported: primitives, record, enum, array, map, unions (e.g. ["null", "double"]). Named-type
 * references by string are not used in driftwatch's schemas, on purpose (every type is inline).
 */

type Primitive = {
  null: null;
  boolean: boolean;
  int: number;
  long: number;
  float: number;
  double: number;
  bytes: Buffer;
  string: string;
};

type Field = { readonly name: string; readonly type: unknown; readonly default?: unknown };

type RecordValue<F extends readonly Field[]> = {
  -readonly [K in F[number] as K extends { default: unknown } ? never : K['name']]: AvroValue<K['type']>;
} & {
  -readonly [K in F[number] as K extends { default: unknown } ? K['name'] : never]?: AvroValue<K['type']>;
};

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type AvroValue<S> = S extends keyof Primitive
  ? Primitive[S]
  : S extends readonly unknown[]
    ? AvroValue<S[number]>
    : S extends { readonly type: 'record'; readonly fields: infer F extends readonly Field[] }
      ? Simplify<RecordValue<F>>
      : S extends { readonly type: 'enum'; readonly symbols: readonly (infer E)[] }
        ? E
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? AvroValue<I>[]
          : S extends { readonly type: 'map'; readonly values: infer V }
            ? Record<string, AvroValue<V>>
            : S extends { readonly type: infer P extends keyof Primitive }
              ? Primitive[P]
              : never;

/** A decoded record with every defaulted field present (what avsc returns after decoding). */
export type AvroDecoded<S> = S extends { readonly type: 'record'; readonly fields: infer F extends readonly Field[] }
  ? Simplify<{ -readonly [K in F[number] as K['name']]: AvroValue<K['type']> }>
  : AvroValue<S>;
