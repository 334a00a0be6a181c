/**
 * Alert annotation templates rendered as Grafana renders them for a firing instance, for the subset
 * driftwatch's rules use: `{{ $labels.name }}`, `{{ $values.B.Value }}` and the Prometheus template
 * functions `humanize`, `humanizePercentage`, `humanizeDuration` (prometheus/template/template.go).
 * Numbers print as Go prints a float64: `%v` (strconv 'g', shortest) for `.Value`, `%.4g` inside the
 * humanize functions. Anything else in `{{ }}` is an error, so a template the tests cannot render is
 * caught rather than silently passed.
 */

export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

/**
 * The first `prec` significant digits of |v| rounded as Go's decimal.Round does: half-way cases
 * (exactly ...5 with nothing after it in the exact binary value) round to even, others to nearest.
 * JS toExponential would round half-way cases up (1234.5 -> 1235 where Go prints 1234).
 */
function goRoundDigits(v: number, prec: number): { digits: string; exp: number } {
  // 40 fraction digits is past every digit a half-way double can have at the precisions used here.
  const [m, e] = Math.abs(v).toExponential(40).split('e');
  const all = m!.replace('.', '');
  let exp = Number(e);
  const kept = all.slice(0, prec).split('').map(Number);
  const next = all[prec] ?? '0';
  const rest = all.slice(prec + 1);
  const halfway = next === '5' && /^0*$/.test(rest);
  const up = next > '5' || (next === '5' && !halfway) || (halfway && kept[kept.length - 1]! % 2 === 1);
  if (up) {
    let i = kept.length - 1;
    while (i >= 0) {
      if (kept[i]! < 9) {
        kept[i]!++;
        break;
      }
      kept[i] = 0;
      i--;
    }
    if (i < 0) {
      kept.unshift(1);
      kept.pop();
      exp++;
    }
  }
  return { digits: kept.join(''), exp };
}

/** Go fmt %.<prec>g (strconv.FormatFloat(v, 'g', prec, 64) without trailing zeros). */
export function goFormatG(v: number, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const rounded = goRoundDigits(v, prec);
  const exp = rounded.exp;
  const digits = rounded.digits.replace(/0+$/, '') || '0';
  // eprec = prec, lowered to the digit count when every digit is before the point (ftoa.go).
  let eprec = prec;
  if (eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  // Fixed notation from the rounded digits.
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}${frac ? `.${frac}` : ''}`;
}

/**
 * Go %v of a float64: strconv 'g' with the shortest round-trip digits; "if precision was the
 * shortest possible, use precision 6 for this decision" (strconv/ftoa.go), so 1e6 prints 1e+06.
 */
export function goFormatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  // toExponential() without an argument gives the shortest round-trip digits, as Go does.
  const [m, e] = Math.abs(v).toExponential().split('e');
  const exp = Number(e);
  const sign = v < 0 ? '-' : '';
  const digits = m!.replace('.', '');
  if (exp < -4 || exp >= 6) return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}${frac ? `.${frac}` : ''}`;
}

export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goFormatG(v, 4);
  let x = v;
  let prefix = '';
  if (Math.abs(x) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(x) < 1000) break;
      prefix = p;
      x /= 1000;
    }
  } else {
    for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
      if (Math.abs(x) >= 1) break;
      prefix = p;
      x *= 1000;
    }
  }
  return `${goFormatG(x, 4)}${prefix}`;
}

export function humanizePercentage(v: number): string {
  return `${goFormatG(v * 100, 4)}%`;
}

export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goFormatG(v, 4);
  if (v === 0) return `${goFormatG(v, 4)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const a = Math.abs(v);
    const d = Math.trunc(a);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goFormatG(a, 4)}s`;
  }
  let x = v;
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(x) >= 1) break;
    prefix = p;
    x *= 1000;
  }
  return `${goFormatG(x, 4)}${prefix}s`;
}

const FUNCS: Readonly<Record<string, (v: number) => string>> = { humanize, humanizePercentage, humanizeDuration };

/** Renders an annotation for an instance with `labels` and reduced `values` by refId. */
export function renderAnnotation(template: string, labels: Readonly<Record<string, string>>, values: Readonly<Record<string, number | null>>): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    const parts = expr.split(/\s+/);
    const fn = parts.length === 2 ? parts[0]! : null;
    const ref = parts.length === 2 ? parts[1]! : parts[0]!;
    if (parts.length > 2 || (fn && !(fn in FUNCS))) throw new TemplateRenderError(`unsupported template expression {{ ${expr} }}`);
    let label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(ref);
    if (label) {
      if (fn) throw new TemplateRenderError(`${fn} applied to a label in {{ ${expr} }}`);
      // A missing label renders as "<no value>" in Go templates: treat it as an error here.
      const v = labels[label[1]!];
      if (v === undefined) throw new TemplateRenderError(`{{ ${expr} }}: the instance has no label ${label[1]}`);
      return v;
    }
    label = /^\$values\.([A-Za-z][A-Za-z0-9_]*)\.Value$/.exec(ref);
    if (label) {
      const v = values[label[1]!];
      if (v === undefined || v === null) throw new TemplateRenderError(`{{ ${expr} }}: no value for ${label[1]}`);
      return fn ? FUNCS[fn]!(v) : goFormatFloat(v);
    }
    throw new TemplateRenderError(`unsupported template expression {{ ${expr} }}`);
  });
}
