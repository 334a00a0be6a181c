/**
 * The one error catalogue of driftwatch.
 *
 * Modelled on platformatic/kafka `src/errors.ts` and kafkajs' `retriable` flag: a closed list of
 * codes, one subclass per code with a `static code` and a `retriable` flag. The flag is what the
 * stream adapter looks at: a retriable error pauses the partition and retries with backoff (a broker,
 * registry or ClickHouse outage must never dead-letter good data); a non-retriable error sends the
 * event to the dead-letter topic with its code and reason, and the offset moves on.
 *
 * `docs/errors.md` documents every code; `test/lib/runtime/errors.test.ts` pins the two together.
 */

export const ERROR_PREFIX = 'DW_';

export interface ErrorDetails {
  [key: string]: unknown;
}

export abstract class DriftwatchError extends Error {
  static readonly code: string;
  /** true: transient; retry with backoff, never dead-letter. false: poison; dead-letter and move on. */
  static readonly retriable: boolean;
  /** HTTP status the API's single error handler maps this code to. */
  static readonly httpStatus: number = 500;

  readonly code: string;
  readonly retriable: boolean;
  readonly httpStatus: number;
  readonly details: ErrorDetails;

  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    const ctor = this.constructor as typeof DriftwatchError;
    this.name = ctor.name;
    this.code = ctor.code;
    this.retriable = ctor.retriable;
    this.httpStatus = ctor.httpStatus;
    this.details = details;
  }

  /** Serialises into structured logs (pino calls toJSON) and dead-letter headers. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, retriable: this.retriable, message: this.message, ...this.details };
  }
}

// ---- configuration -------------------------------------------------------------------------------

export class ConfigInvalidError extends DriftwatchError {
  static override readonly code = 'DW_CONFIG_INVALID';
  static override readonly retriable = false;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, {
      problems,
    });
    this.problems = problems;
  }
}

// ---- bad input: dead-lettered ----------------------------------------------------------------------

export class DecodeError extends DriftwatchError {
  static override readonly code = 'DW_DECODE_FAILED';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class WrongMagicByteError extends DriftwatchError {
  static override readonly code = 'DW_WRONG_MAGIC_BYTE';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class UnknownSchemaIdError extends DriftwatchError {
  static override readonly code = 'DW_UNKNOWN_SCHEMA_ID';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class InvalidJsonError extends DriftwatchError {
  static override readonly code = 'DW_INVALID_JSON';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class ContractViolationError extends DriftwatchError {
  static override readonly code = 'DW_CONTRACT_VIOLATION';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class MissingPredictionIdError extends DriftwatchError {
  static override readonly code = 'DW_MISSING_PREDICTION_ID';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class NonFiniteNumberError extends DriftwatchError {
  static override readonly code = 'DW_NON_FINITE_NUMBER';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class FutureTimestampError extends DriftwatchError {
  static override readonly code = 'DW_FUTURE_TIMESTAMP';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class PayloadTooLargeError extends DriftwatchError {
  static override readonly code = 'DW_PAYLOAD_TOO_LARGE';
  static override readonly retriable = false;
  static override readonly httpStatus = 413;
}

// ---- infrastructure: retried, never dead-lettered -----------------------------------------------

export class KafkaUnavailableError extends DriftwatchError {
  static override readonly code = 'DW_KAFKA_UNAVAILABLE';
  static override readonly retriable = true;
  static override readonly httpStatus = 503;
}
export class RegistryUnavailableError extends DriftwatchError {
  static override readonly code = 'DW_REGISTRY_UNAVAILABLE';
  static override readonly retriable = true;
  static override readonly httpStatus = 503;
}
export class ClickHouseUnavailableError extends DriftwatchError {
  static override readonly code = 'DW_CLICKHOUSE_UNAVAILABLE';
  static override readonly retriable = true;
  static override readonly httpStatus = 503;
}
export class ClickHouseQueryError extends DriftwatchError {
  static override readonly code = 'DW_CLICKHOUSE_QUERY_FAILED';
  static override readonly retriable = false;
}
export class MigrationFailedError extends DriftwatchError {
  static override readonly code = 'DW_MIGRATION_FAILED';
  static override readonly retriable = false;
}
export class InfraStartError extends DriftwatchError {
  static override readonly code = 'DW_INFRA_START_FAILED';
  static override readonly retriable = false;
}
export class TopicLayoutError extends DriftwatchError {
  static override readonly code = 'DW_TOPIC_LAYOUT_INVALID';
  static override readonly retriable = false;
}
/** The label-joiner's changelog holds a record it cannot read (a bug, or a foreign writer). */
export class JoinStateCorruptError extends DriftwatchError {
  static override readonly code = 'DW_JOIN_STATE_CORRUPT';
  static override readonly retriable = false;
}

// ---- domain ------------------------------------------------------------------------------------

export class UnknownDriftMethodError extends DriftwatchError {
  static override readonly code = 'DW_UNKNOWN_DRIFT_METHOD';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class ReferenceProfileMissingError extends DriftwatchError {
  static override readonly code = 'DW_REFERENCE_PROFILE_MISSING';
  static override readonly retriable = false;
  static override readonly httpStatus = 404;
}
export class ReferenceDataInvalidError extends DriftwatchError {
  static override readonly code = 'DW_REFERENCE_DATA_INVALID';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class ModelNotFoundError extends DriftwatchError {
  static override readonly code = 'DW_MODEL_NOT_FOUND';
  static override readonly retriable = false;
  static override readonly httpStatus = 404;
}
export class ModelLoadError extends DriftwatchError {
  static override readonly code = 'DW_MODEL_LOAD_FAILED';
  static override readonly retriable = false;
  static override readonly httpStatus = 500;
}
export class ModelInvalidError extends DriftwatchError {
  static override readonly code = 'DW_MODEL_INVALID';
  static override readonly retriable = false;
  static override readonly httpStatus = 422;
}
export class ModelVersionExistsError extends DriftwatchError {
  static override readonly code = 'DW_MODEL_VERSION_EXISTS';
  static override readonly retriable = false;
  static override readonly httpStatus = 409;
}
export class InferenceError extends DriftwatchError {
  static override readonly code = 'DW_INFERENCE_FAILED';
  static override readonly retriable = false;
  static override readonly httpStatus = 500;
}
/** The retrain worker could not train a new version (too few labeled rows, a degenerate label set). */
export class TrainingFailedError extends DriftwatchError {
  static override readonly code = 'DW_TRAINING_FAILED';
  static override readonly retriable = false;
  static override readonly httpStatus = 422;
}
export class InvalidRequestError extends DriftwatchError {
  static override readonly code = 'DW_INVALID_REQUEST';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class UnauthorizedError extends DriftwatchError {
  static override readonly code = 'DW_UNAUTHORIZED';
  static override readonly retriable = false;
  static override readonly httpStatus = 401;
}
export class NotFoundError extends DriftwatchError {
  static override readonly code = 'DW_NOT_FOUND';
  static override readonly retriable = false;
  static override readonly httpStatus = 404;
}
export class PolicyInvalidError extends DriftwatchError {
  static override readonly code = 'DW_POLICY_INVALID';
  static override readonly retriable = false;
  static override readonly httpStatus = 400;
}
export class UnsupportedMediaTypeError extends DriftwatchError {
  static override readonly code = 'DW_UNSUPPORTED_MEDIA_TYPE';
  static override readonly retriable = false;
  static override readonly httpStatus = 415;
}
export class VersionConflictError extends DriftwatchError {
  static override readonly code = 'DW_VERSION_CONFLICT';
  static override readonly retriable = false;
  static override readonly httpStatus = 409;
}
export class InternalError extends DriftwatchError {
  static override readonly code = 'DW_INTERNAL';
  static override readonly retriable = false;
  static override readonly httpStatus = 500;
}

/** The closed catalogue, in documentation order. */
export const ERROR_CATALOGUE = [
  ConfigInvalidError,
  DecodeError,
  WrongMagicByteError,
  UnknownSchemaIdError,
  InvalidJsonError,
  ContractViolationError,
  MissingPredictionIdError,
  NonFiniteNumberError,
  FutureTimestampError,
  PayloadTooLargeError,
  KafkaUnavailableError,
  RegistryUnavailableError,
  ClickHouseUnavailableError,
  ClickHouseQueryError,
  MigrationFailedError,
  InfraStartError,
  TopicLayoutError,
  JoinStateCorruptError,
  UnknownDriftMethodError,
  ReferenceProfileMissingError,
  ReferenceDataInvalidError,
  ModelNotFoundError,
  ModelLoadError,
  ModelInvalidError,
  ModelVersionExistsError,
  InferenceError,
  TrainingFailedError,
  InvalidRequestError,
  UnauthorizedError,
  NotFoundError,
  PolicyInvalidError,
  UnsupportedMediaTypeError,
  VersionConflictError,
  InternalError,
] as const;

export type ErrorCode = (typeof ERROR_CATALOGUE)[number]['code'];

export function isDriftwatchError(err: unknown): err is DriftwatchError {
  return err instanceof DriftwatchError;
}

/**
 * Decides retry versus dead-letter for an arbitrary thrown value. Unknown errors (a bug, a
 * TypeError) are treated as retriable: dead-lettering on a bug would silently drop good data,
 * whereas retrying surfaces the bug as a stalled, alerting partition.
 */
export function isRetriable(err: unknown): boolean {
  if (isDriftwatchError(err)) return err.retriable;
  return true;
}
