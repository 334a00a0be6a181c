/**
 * Serialisation of partial window state for the ClickHouse checkpoint (table window_state, migration
 * 031). Compact on purpose: a partial is rewritten on every batch that touches it.
 *  - drift summaries leave out what the reference profile already holds (fine bin edges, category
 *    lists) and store numeric histograms sparsely and in binary (only non-empty bins: base64 of
 *    float64 count/min/max and uint32 bin index, little-endian as every supported platform); decoding
 *    re-attaches the profile of the partial's `profileVersion`. Binary doubles round-trip exactly and
 *    encode an order of magnitude faster than JSON number formatting. Checkpoints written by the
 *    earlier JSON layout (`bins` as arrays) still decode;
 *  - everything else is plain JSON (exact sums are arrays of doubles; JSON round-trips doubles exactly).
 * decode(encode(p)) deep-equals p; a test pins it.
 */
import type { ProfileEntry } from '../../lib/reference/types.js';
import type { CategoricalFeatureSummary, FeatureSummary, NumericFeatureSummary, ReferenceProfile, WindowSummary } from '../../lib/stats/profile/types.js';
import type { LabeledPartial, Partial, PredictionPartial, PredictionSegment } from './state.js';

interface EncodedNumeric extends Omit<NumericFeatureSummary, 'edges' | 'counts' | 'binMin' | 'binMax'> {
  /** Non-empty bins: base64 of [count × k float64][min × k float64][max × k float64][bin × k uint32]. */
  bins: string | Array<[number, number, number, number]>;
  /** k, the number of non-empty bins. */
  nBins?: number;
}

function packBins(counts: readonly number[], binMin: readonly number[], binMax: readonly number[]): { bins: string; nBins: number } {
  let k = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) k++;
  const ab = new ArrayBuffer(k * 28);
  const f = new Float64Array(ab, 0, 3 * k);
  const idx = new Uint32Array(ab, 24 * k, k);
  let j = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! === 0) continue;
    f[j] = counts[i]!;
    f[k + j] = binMin[i]!;
    f[2 * k + j] = binMax[i]!;
    idx[j] = i;
    j++;
  }
  return { bins: Buffer.from(ab).toString('base64'), nBins: k };
}

function unpackBins(bins: EncodedNumeric['bins'], nBins: number | undefined, counts: number[], binMin: number[], binMax: number[]): void {
  if (Array.isArray(bins)) {
    for (const [i, c, lo, hi] of bins) {
      counts[i] = c;
      binMin[i] = lo;
      binMax[i] = hi;
    }
    return;
  }
  const k = nBins ?? 0;
  const buf = Buffer.from(bins, 'base64');
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  const f = new Float64Array(ab, 0, 3 * k);
  const idx = new Uint32Array(ab, 24 * k, k);
  for (let j = 0; j < k; j++) {
    const i = idx[j]!;
    counts[i] = f[j]!;
    binMin[i] = f[k + j]!;
    binMax[i] = f[2 * k + j]!;
  }
}
type EncodedCategorical = Omit<CategoricalFeatureSummary, 'categories'>;
type EncodedSummary = Omit<WindowSummary, 'features'> & { features: Record<string, EncodedNumeric | EncodedCategorical> };

function encodeSummary(s: WindowSummary): EncodedSummary {
  const features: EncodedSummary['features'] = {};
  for (const [name, f] of Object.entries(s.features)) {
    if (f.kind === 'numeric') {
      const { edges: _e, counts, binMin, binMax, ...rest } = f;
      features[name] = { ...rest, ...packBins(counts, binMin, binMax) };
    } else {
      const { categories: _c, ...rest } = f;
      features[name] = rest;
    }
  }
  return { ...s, features };
}

function decodeSummary(e: EncodedSummary, profile: ReferenceProfile): WindowSummary {
  if (e.profileId !== profile.id) throw new Error(`checkpointed summary was built for profile ${e.profileId}, the stored profile is ${profile.id}`);
  const features: Record<string, FeatureSummary> = {};
  for (const [name, f] of Object.entries(e.features)) {
    const pf = profile.features[name];
    if (!pf) throw new Error(`checkpointed feature ${name} is not in profile ${profile.id}`);
    if (f.kind === 'numeric' && pf.kind === 'numeric') {
      const { bins, nBins, ...rest } = f as EncodedNumeric;
      const k = pf.edges.length + 1;
      const counts = new Array<number>(k).fill(0);
      const binMin = new Array<number>(k).fill(0);
      const binMax = new Array<number>(k).fill(0);
      unpackBins(bins, nBins, counts, binMin, binMax);
      features[name] = { ...rest, kind: 'numeric', edges: pf.edges, counts, binMin, binMax };
    } else if (f.kind === 'categorical' && pf.kind === 'categorical') {
      features[name] = { ...(f as EncodedCategorical), kind: 'categorical', categories: pf.categories };
    } else throw new Error(`checkpointed feature ${name} has kind ${f.kind}, profile says ${pf.kind}`);
  }
  return { ...e, features };
}

type EncodedPredictionSegment = Omit<PredictionSegment, 'drift' | 'prediction'> & { drift: EncodedSummary | null; prediction: EncodedSummary | null };

export function encodePartial(p: Partial): string {
  if (p.source === 'labeled') return JSON.stringify(p);
  const segments: Record<string, EncodedPredictionSegment> = {};
  for (const [k, s] of Object.entries(p.segments)) {
    segments[k] = { ...s, drift: s.drift ? encodeSummary(s.drift) : null, prediction: s.prediction ? encodeSummary(s.prediction) : null };
  }
  return JSON.stringify({ ...p, segments });
}

/**
 * @param profileOf the stored profile of the partial's (model, version, profileVersion); needed only
 *   for prediction partials built with a profile.
 */
export function decodePartial(json: string, profileOf: (model: string, version: string, profileVersion: number) => ProfileEntry | null): Partial {
  const raw = JSON.parse(json) as LabeledPartial | (Omit<PredictionPartial, 'segments'> & { segments: Record<string, EncodedPredictionSegment> });
  if (raw.source === 'labeled') return raw;
  const profile = raw.profileVersion > 0 ? profileOf(raw.model, raw.version, raw.profileVersion) : null;
  if (raw.profileVersion > 0 && !profile)
    throw new Error(`reference profile ${raw.model}/${raw.version} v${raw.profileVersion} is not available to restore a checkpoint`);
  const segments: Record<string, PredictionSegment> = {};
  for (const [k, s] of Object.entries(raw.segments)) {
    segments[k] = {
      ...s,
      drift: s.drift && profile ? decodeSummary(s.drift, profile.features) : null,
      prediction: s.prediction && profile?.prediction ? decodeSummary(s.prediction, profile.prediction) : null,
    };
  }
  return { ...raw, segments };
}
