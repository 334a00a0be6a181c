/**
 * POST /v1/predict: synchronous scoring through the same scorer as the stream (same champion,
 * shadow and fallback semantics). The request is validated by JSON schema (shape, sizes), then
 * against the model's metadata (feature types: a wrong type is a 400 here, where the stream would
 * impute). Predictions are published to the predictions topic (SCORING_HTTP_PUBLISH) before the
 * response, so synchronous traffic is monitored like streamed traffic; shadow predictions are
 * published but not returned.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { FeatureEvent, PredictionEvent } from '../../../../lib/contracts/schemas.js';
import type { AuthGuards, ScoringAppOptions } from '../app.js';

export interface PredictRequest {
  readonly model: string;
  readonly instances: ReadonlyArray<{
    readonly features: Record<string, number | string | boolean | null>;
    readonly segment?: Record<string, string>;
    readonly event_id?: string;
    readonly prediction_id?: string;
    readonly entity_id?: string;
    readonly event_time?: number;
  }>;
}

export function predictBodySchema(maxInstances: number) {
  const id = { type: 'string', minLength: 1, maxLength: 256 } as const;
  return {
    type: 'object',
    required: ['model', 'instances'],
    additionalProperties: false,
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9._-]*$' },
      instances: {
        type: 'array',
        minItems: 1,
        maxItems: maxInstances,
        items: {
          type: 'object',
          required: ['features'],
          additionalProperties: false,
          properties: {
            features: { type: 'object', maxProperties: 1000, additionalProperties: { type: ['number', 'string', 'boolean', 'null'] } },
            segment: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string' } },
            event_id: id,
            prediction_id: id,
            entity_id: id,
            event_time: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  } as const;
}

export interface PredictResponseItem {
  readonly prediction_id: string;
  readonly event_id: string;
  readonly model_version: string;
  readonly score: number | null;
  readonly probabilities: Record<string, number>;
  readonly predicted_label: string | null;
  readonly predicted_value: number | null;
  readonly fallback: string | null;
  readonly latency_ms: number | null;
}

export async function predictRoutes(app: FastifyInstance, opts: ScoringAppOptions & { guards: AuthGuards }): Promise<void> {
  app.post<{ Body: PredictRequest }>('/v1/predict', { schema: { body: predictBodySchema(opts.maxInstances) } }, async (req) => {
    opts.guards.requireRead(req);
    const now = Date.now();
    const events: FeatureEvent[] = req.body.instances.map((inst) => {
      const eventId = inst.event_id ?? randomUUID();
      return {
        event_id: eventId,
        model_name: req.body.model,
        entity_id: inst.entity_id ?? eventId,
        prediction_id: inst.prediction_id ?? null,
        event_time: inst.event_time ?? now,
        features: inst.features,
        segment: inst.segment ?? {},
      };
    });
    const outcomes = await opts.scorer.scoreEvents(events, { strict: true });
    const failed = outcomes.find((o) => o.error);
    if (failed?.error) throw failed.error;
    const all: PredictionEvent[] = outcomes.flatMap((o) => o.predictions ?? []);
    if (opts.publisher) await opts.publisher.publish(all);
    const served = all.filter((p) => !p.is_shadow);
    return {
      model: req.body.model,
      predictions: served.map((p): PredictResponseItem => ({
        prediction_id: p.prediction_id,
        event_id: p.event_id,
        model_version: p.model_version,
        score: p.score,
        probabilities: p.probabilities,
        predicted_label: p.predicted_label,
        predicted_value: p.predicted_value,
        fallback: p.fallback,
        latency_ms: p.latency_ms,
      })),
    };
  });
}
