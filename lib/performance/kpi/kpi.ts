/**
 * Business KPIs declared in configuration (YAML `kpis:` section), computed per window and segment.
 *
 * A KPI is a per-event expression (./expression.ts) and an aggregation over the window's events:
 *   mean  — mean of the numeric values (booleans as 1/0; null values skipped)
 *   sum   — sum of the numeric values
 *   count — number of events where the expression is truthy
 *   rate  — count / number of events in the window
 *   ratio — Σ expression / Σ denominator, each side summed over the events where it is numeric
 *           (revenue per prediction = sum(business.revenue) / count: expression business.revenue,
 *           denominator 1)
 * The value is null (never a silent 0) when it is undefined: no numeric value for mean/sum, a zero
 * denominator for ratio.
 *
 * Source: a KPI reads either the predictions topic (prediction fields only: score, fallback,
 * latency_ms, features ...; final when the window closes) or the labeled-predictions topic (it may
 * read outcome fields: business.*, label, target_value, label_delay_ms ...; final with the window's
 * performance metrics). The source is inferred from the fields the expression reads, or set with
 * `source:`. Only champion predictions count (shadow predictions are not served, so they have no
 * business effect).
 *
 * Accumulators use exact sums (lib/stats/exactsum.ts): windows split across partitions merge to
 * bit-identical values.
 */
import { exactAdd, exactMerge, exactValue, type ExactSum } from '../../stats/exactsum.js';
import { compileExpression, ExpressionError, truthy, valueToNumber, type CompiledExpression, type Context } from './expression.js';

export const KPI_AGGREGATIONS = ['mean', 'sum', 'count', 'rate', 'ratio'] as const;
export type KpiAggregation = (typeof KPI_AGGREGATIONS)[number];
export type KpiSource = 'predictions' | 'labeled';

/** Fields of a PredictionEvent an expression may read. */
export const PREDICTION_FIELDS = [
  'prediction_id',
  'model_name',
  'model_version',
  'event_time',
  'features',
  'score',
  'probabilities',
  'predicted_label',
  'predicted_value',
  'latency_ms',
  'segment',
  'is_shadow',
  'fallback',
] as const;

/** Fields of a LabeledPrediction an expression may read. */
export const LABELED_FIELDS = [
  'prediction_id',
  'model_name',
  'model_version',
  'prediction_time',
  'features',
  'score',
  'probabilities',
  'predicted_label',
  'predicted_value',
  'segment',
  'is_shadow',
  'status',
  'label',
  'target_value',
  'outcome_time',
  'label_delay_ms',
  'business',
] as const;

const ONLY_PREDICTIONS = new Set<string>(PREDICTION_FIELDS.filter((f) => !(LABELED_FIELDS as readonly string[]).includes(f)));
const ONLY_LABELED = new Set<string>(LABELED_FIELDS.filter((f) => !(PREDICTION_FIELDS as readonly string[]).includes(f)));
const ALL_FIELDS = [...new Set<string>([...PREDICTION_FIELDS, ...LABELED_FIELDS])];

export interface KpiDefinition {
  readonly name: string;
  readonly expression: CompiledExpression;
  readonly aggregation: KpiAggregation;
  readonly denominator: CompiledExpression | null;
  readonly source: KpiSource;
  /** Models the KPI applies to; empty = every model. */
  readonly models: readonly string[];
  readonly description: string;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Validates the `kpis:` section. Returns the definitions and every problem found (the caller turns
 * problems into one ConfigInvalidError together with the rest of the monitoring configuration).
 */
export function parseKpiDefinitions(section: unknown, where = 'kpis'): { kpis: KpiDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const kpis: KpiDefinition[] = [];
  if (section === undefined || section === null) return { kpis, problems };
  if (!Array.isArray(section)) return { kpis, problems: [`${where}: expected a list of KPI definitions`] };
  const seen = new Set<string>();
  section.forEach((raw, i) => {
    const at = `${where}[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: expected a mapping with name, expression, aggregation`);
      return;
    }
    const r = raw as Record<string, unknown>;
    const known = new Set(['name', 'expression', 'aggregation', 'denominator', 'source', 'models', 'description']);
    for (const k of Object.keys(r)) if (!known.has(k)) problems.push(`${at}: unknown key '${k}' (known: ${[...known].join(', ')})`);
    const name = r.name;
    if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}.name: expected a snake_case name (a-z, 0-9, _), got ${JSON.stringify(name)}`);
    else if (seen.has(name)) problems.push(`${at}.name: duplicate KPI '${name}'`);
    else seen.add(name);
    const agg = r.aggregation;
    if (typeof agg !== 'string' || !(KPI_AGGREGATIONS as readonly string[]).includes(agg)) {
      problems.push(`${at}.aggregation: expected one of ${KPI_AGGREGATIONS.join(', ')}, got ${JSON.stringify(agg)}`);
    }
    const compile = (field: string, src: unknown): CompiledExpression | null => {
      if (typeof src !== 'string' && typeof src !== 'number') {
        problems.push(`${at}.${field}: expected an expression string`);
        return null;
      }
      try {
        return compileExpression(String(src), ALL_FIELDS);
      } catch (err) {
        if (err instanceof ExpressionError) {
          problems.push(`${at}.${field}: ${err.message} (at character ${err.pos} of ${JSON.stringify(String(src))})`);
          return null;
        }
        throw err;
      }
    };
    const expression = r.expression === undefined && agg === 'count' ? compileExpression('true', ALL_FIELDS) : compile('expression', r.expression);
    let denominator: CompiledExpression | null = null;
    if (agg === 'ratio') denominator = compile('denominator', r.denominator ?? '1');
    else if (r.denominator !== undefined) problems.push(`${at}.denominator: only a 'ratio' KPI has a denominator`);
    const roots = new Set([...(expression?.roots ?? []), ...(denominator?.roots ?? [])]);
    const needsLabeled = [...roots].filter((x) => ONLY_LABELED.has(x));
    const needsPredictions = [...roots].filter((x) => ONLY_PREDICTIONS.has(x));
    let source: KpiSource = needsLabeled.length > 0 ? 'labeled' : 'predictions';
    if (needsLabeled.length > 0 && needsPredictions.length > 0) {
      problems.push(
        `${at}: reads outcome fields (${needsLabeled.join(', ')}) and prediction-only fields (${needsPredictions.join(', ')}); no single topic carries both`,
      );
    }
    if (r.source !== undefined) {
      if (r.source !== 'predictions' && r.source !== 'labeled') problems.push(`${at}.source: expected predictions or labeled, got ${JSON.stringify(r.source)}`);
      else {
        const wrong = r.source === 'predictions' ? needsLabeled : needsPredictions;
        if (wrong.length > 0) problems.push(`${at}.source: '${r.source}' events do not carry ${wrong.join(', ')}`);
        source = r.source;
      }
    }
    let models: string[] = [];
    if (r.models !== undefined) {
      if (!Array.isArray(r.models) || r.models.some((m) => typeof m !== 'string')) problems.push(`${at}.models: expected a list of model names`);
      else models = [...(r.models as string[])];
    }
    if (expression && typeof name === 'string' && typeof agg === 'string') {
      kpis.push({
        name,
        expression,
        aggregation: agg as KpiAggregation,
        denominator,
        source,
        models,
        description: typeof r.description === 'string' ? r.description : '',
      });
    }
  });
  return { kpis, problems };
}

export function kpiAppliesTo(k: KpiDefinition, model: string): boolean {
  return k.models.length === 0 || k.models.includes(model);
}

/** Mergeable per-window state of one KPI. */
export interface KpiAccumulator {
  /** Events seen. */
  n: number;
  /** Events with a numeric value. */
  nValue: number;
  sum: ExactSum;
  /** Events where the expression is truthy. */
  nTrue: number;
  /** ratio: Σ denominator over events where it is numeric. */
  denSum: ExactSum;
}

export function createKpiAccumulator(): KpiAccumulator {
  return { n: 0, nValue: 0, sum: [], nTrue: 0, denSum: [] };
}

export function addKpi(acc: KpiAccumulator, k: KpiDefinition, ctx: Context): void {
  const v = k.expression.evaluate(ctx);
  acc.n++;
  if (truthy(v)) acc.nTrue++;
  const x = valueToNumber(v);
  if (x !== null) {
    acc.nValue++;
    exactAdd(acc.sum, x);
  }
  if (k.denominator) {
    const d = valueToNumber(k.denominator.evaluate(ctx));
    if (d !== null) exactAdd(acc.denSum, d);
  }
}

export function mergeKpi(a: KpiAccumulator, b: KpiAccumulator): KpiAccumulator {
  return {
    n: a.n + b.n,
    nValue: a.nValue + b.nValue,
    sum: exactMerge(a.sum, b.sum),
    nTrue: a.nTrue + b.nTrue,
    denSum: exactMerge(a.denSum, b.denSum),
  };
}

/** The KPI value of a window; null when undefined (see the module comment). */
export function kpiValue(acc: KpiAccumulator, aggregation: KpiAggregation): number | null {
  switch (aggregation) {
    case 'mean':
      return acc.nValue > 0 ? exactValue(acc.sum) / acc.nValue : null;
    case 'sum':
      return acc.nValue > 0 ? exactValue(acc.sum) : null;
    case 'count':
      return acc.nTrue;
    case 'rate':
      return acc.n > 0 ? acc.nTrue / acc.n : null;
    case 'ratio': {
      const den = exactValue(acc.denSum);
      return den !== 0 && acc.nValue > 0 ? exactValue(acc.sum) / den : null;
    }
  }
}

/** Evaluates a KPI over a batch of contexts (reference baselines). */
export function kpiOverRows(k: KpiDefinition, rows: Iterable<Context>): { value: number | null; n: number; nValue: number } {
  const acc = createKpiAccumulator();
  for (const r of rows) addKpi(acc, k, r);
  return { value: kpiValue(acc, k.aggregation), n: acc.n, nValue: acc.nValue };
}
