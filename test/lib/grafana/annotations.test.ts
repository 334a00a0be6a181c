import { describe, expect, it } from 'vitest';
import {
  goFormatFloat,
  goFormatG,
  humanize,
  humanizeDuration,
  humanizePercentage,
  renderAnnotation,
  TemplateRenderError,
} from '../../../lib/grafana/annotations.js';

describe('Go number formatting', () => {
  it('prints float64 like %v (shortest, exponent from 1e6 and below 1e-4)', () => {
    expect([1, 0.5, 2, 123456, 1e6, 1234567, 0.0001, 0.00001, -3.25, 0.1 + 0.2].map(goFormatFloat)).toEqual([
      '1',
      '0.5',
      '2',
      '123456',
      '1e+06',
      '1.234567e+06',
      '0.0001',
      '1e-05',
      '-3.25',
      '0.30000000000000004',
    ]);
  });
  it('prints %.4g', () => {
    expect([0.5, 12.345, 1234.5, 12345, 0.000012345, 100].map((v) => goFormatG(v, 4))).toEqual(['0.5', '12.35', '1234', '1.234e+04', '1.234e-05', '100']);
  });
});

describe('Prometheus template functions', () => {
  it('humanize', () => {
    expect([humanize(1234), humanize(0.005), humanize(0), humanize(999)]).toEqual(['1.234k', '5m', '0', '999']);
  });
  it('humanizePercentage', () => {
    expect([humanizePercentage(0.1234), humanizePercentage(0.5), humanizePercentage(0.05)]).toEqual(['12.34%', '50%', '5%']);
  });
  it('humanizeDuration', () => {
    expect([humanizeDuration(1200), humanizeDuration(93784), humanizeDuration(1.5), humanizeDuration(0.25), humanizeDuration(0)]).toEqual([
      '20m 0s',
      '1d 2h 3m 4s',
      '1.5s',
      '250ms',
      '0s',
    ]);
  });
});

describe('renderAnnotation', () => {
  it('fills labels and values', () => {
    expect(renderAnnotation('{{ $labels.model }}: {{ humanizePercentage $values.B.Value }} ({{ $values.B.Value }})', { model: 'churn' }, { B: 0.125 })).toBe(
      'churn: 12.5% (0.125)',
    );
  });
  it('fails on what it cannot render rather than passing it', () => {
    expect(() => renderAnnotation('{{ $labels.nope }}', {}, {})).toThrow(TemplateRenderError);
    expect(() => renderAnnotation('{{ $values.B.Value }}', {}, {})).toThrow(TemplateRenderError);
    expect(() => renderAnnotation('{{ if $labels.x }}y{{ end }}', { x: '1' }, {})).toThrow(TemplateRenderError);
  });
});
