/**
 * JSON schemas shared by the routes. Every input schema is closed (`additionalProperties: false`) and
 * bounded (lengths, ranges, patterns), so validation rejects anything the handler did not plan for.
 * The same schemas feed the OpenAPI document.
 */
import { InvalidRequestError } from '../../../lib/runtime/errors.js';

/** Identifiers we create or that name stored things (model names, versions, policy ids). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$';
export const nameSchema = { type: 'string', pattern: NAME_PATTERN, minLength: 1, maxLength: 128 } as const;

/** Free-text filter values (feature names, segments 'key=value'): bounded, no control characters. */
export const filterValueSchema = { type: 'string', maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const;

/** An instant: RFC 3339 date-time, or epoch milliseconds. */
export const instantSchema = {
  anyOf: [
    { type: 'string', format: 'date-time', maxLength: 40 },
    { type: 'string', pattern: '^[0-9]{1,15}$' },
  ],
  description: 'RFC 3339 date-time (2024-05-01T00:00:00Z) or epoch milliseconds',
} as const;

/** Parses an instant that passed `instantSchema`. */
export function parseInstant(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^[0-9]+$/.test(value) ? Number(value) : Date.parse(value);
  // Date range ClickHouse DateTime64(3) can hold: 1900-01-01 .. 2299-12-31.
  if (!Number.isFinite(ms) || ms < -2_208_988_800_000 || ms > 10_413_791_999_999) throw new InvalidRequestError(`${field} is not a valid instant`);
  return ms;
}

export function parseRange(q: { from?: string; to?: string }): { from?: number | undefined; to?: number | undefined } {
  const from = parseInstant(q.from, 'from');
  const to = parseInstant(q.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) throw new InvalidRequestError('from must be before to');
  return { from, to };
}

export function pageQueryProperties(maxLimit: number) {
  return {
    limit: { type: 'integer', minimum: 1, maximum: maxLimit, default: Math.min(100, maxLimit), description: `Page size (at most ${maxLimit})` },
    cursor: { type: 'string', maxLength: 4096, pattern: '^[A-Za-z0-9_-]+$', description: 'next_cursor of the previous page' },
    order: { type: 'string', enum: ['desc', 'asc'], default: 'desc', description: 'Time order (newest first by default)' },
  } as const;
}

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        request_id: { type: 'string' },
        problems: { type: 'array', items: { type: 'string' } },
      },
      required: ['code', 'message', 'request_id'],
    },
  },
  required: ['error'],
} as const;

/** Error responses a route can produce, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) out[String(s)] = { description: ERROR_DESCRIPTIONS[s] ?? 'Error', ...errorSchema };
  return out;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (DW_INVALID_REQUEST, DW_POLICY_INVALID)',
  401: 'Missing or invalid bearer token (DW_UNAUTHORIZED)',
  404: 'Not found (DW_NOT_FOUND, DW_MODEL_NOT_FOUND, DW_REFERENCE_PROFILE_MISSING)',
  409: 'Version conflict (DW_VERSION_CONFLICT)',
  413: 'Body larger than API_BODY_LIMIT_BYTES (DW_PAYLOAD_TOO_LARGE)',
  415: 'Unsupported Content-Type (DW_UNSUPPORTED_MEDIA_TYPE)',
  503: 'A dependency is unavailable (DW_CLICKHOUSE_UNAVAILABLE, ...)',
};

export const nullableNumber = { type: 'number', nullable: true } as const;
export const timeString = { type: 'string', description: 'ISO 8601 UTC' } as const;
export const nullableTime = { type: 'string', nullable: true, description: 'ISO 8601 UTC' } as const;
export const anyJson = { description: 'JSON value as stored' } as const;

export function pageSchema(item: Record<string, unknown>) {
  return {
    type: 'object',
    properties: { items: { type: 'array', items: item }, next_cursor: { type: 'string', nullable: true } },
    required: ['items', 'next_cursor'],
  } as const;
}
