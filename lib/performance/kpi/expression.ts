/**
 * The KPI expression language: a small, safe language for per-event expressions over outcome and
 * prediction fields, e.g. `business.converted`, `fallback != null`, `business.revenue * 0.9`,
 * `segment.region == 'eu' && score >= 0.5`.
 *
 * Safety: text is tokenised and parsed by hand (recursive descent) into an AST that is compiled into
 * closures; nothing is ever evaluated as JavaScript (no eval, no Function), field access goes through
 * own-property lookups on a fixed set of roots (so `__proto__` or `constructor` can never be reached),
 * and size is bounded (MAX_EXPRESSION_LENGTH characters, MAX_DEPTH nesting, MAX_NODES nodes).
 *
 * Grammar (lowest precedence first):
 *   expr    := or ('?' expr ':' expr)?
 *   or      := and (('||' | 'or') and)*
 *   and     := not (('&&' | 'and') not)*
 *   not     := ('!' | 'not') not | compare
 *   compare := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | string | true | false | null | path | call | '(' expr ')'
 *   path    := ident ('.' ident | '[' string ']')*          call := ident '(' (expr (',' expr)*)? ')'
 *
 * Values are number | string | boolean | null. Semantics (documented in docs/windows.md):
 *  - null propagates through arithmetic and functions (a missing field gives a missing value);
 *    division by zero and non-finite results give null; booleans count as 1/0 in arithmetic;
 *  - `==`/`!=` compare any values (null == null is true; a number equals a boolean 1/0); ordering
 *    comparisons need two numbers or two strings, otherwise null;
 *  - `&&`, `||`, `!` and `?:` use truthiness: null, false, 0 and '' are false.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';

export type Value = number | string | boolean | null;
export type Context = Readonly<Record<string, unknown>>;

export const MAX_EXPRESSION_LENGTH = 1000;
export const MAX_DEPTH = 32;
export const MAX_NODES = 256;

type Node =
  | { readonly t: 'lit'; readonly v: Value }
  | { readonly t: 'path'; readonly path: readonly string[] }
  | { readonly t: 'neg'; readonly a: Node }
  | { readonly t: 'not'; readonly a: Node }
  | { readonly t: 'bin'; readonly op: BinOp; readonly a: Node; readonly b: Node }
  | { readonly t: 'and' | 'or'; readonly a: Node; readonly b: Node }
  | { readonly t: 'cond'; readonly c: Node; readonly a: Node; readonly b: Node }
  | { readonly t: 'call'; readonly fn: string; readonly args: readonly Node[] };

type BinOp = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=';

interface Token {
  readonly kind: 'num' | 'str' | 'ident' | 'op' | 'end';
  readonly text: string;
  readonly value?: number | string;
  readonly pos: number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const two = ['==', '!=', '<=', '>=', '&&', '||'];
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      i += m[0].length;
      out.push({ kind: 'num', text: m[0], value: Number(m[0]), pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionError('unterminated string', start);
        const d = src[i]!;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) throw new ExpressionError('unterminated string', start);
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        if (d === c) {
          i++;
          break;
        }
        s += d;
        i++;
      }
      out.push({ kind: 'str', text: src.slice(start, i), value: s, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      out.push({ kind: 'ident', text: m[0], pos: start });
      continue;
    }
    const pair = src.slice(i, i + 2);
    if (two.includes(pair)) {
      i += 2;
      out.push({ kind: 'op', text: pair, pos: start });
      continue;
    }
    if ('+-*/%<>!().,[]?:'.includes(c)) {
      i++;
      out.push({ kind: 'op', text: c, pos: start });
      continue;
    }
    throw new ExpressionError(`unexpected character '${c}'`, start);
  }
  out.push({ kind: 'end', text: '<end>', pos: src.length });
  return out;
}

/** Function table: name -> [min args, max args, implementation]. Every function propagates null unless noted. */
const FUNCTIONS: Readonly<Record<string, readonly [number, number, (args: Value[]) => Value]>> = {
  abs: [1, 1, ([x]) => num1(x, Math.abs)],
  round: [1, 1, ([x]) => num1(x, Math.round)],
  floor: [1, 1, ([x]) => num1(x, Math.floor)],
  ceil: [1, 1, ([x]) => num1(x, Math.ceil)],
  sqrt: [1, 1, ([x]) => num1(x, Math.sqrt)],
  log: [1, 1, ([x]) => num1(x, Math.log)],
  exp: [1, 1, ([x]) => num1(x, Math.exp)],
  min: [1, 16, (xs) => numN(xs, (a) => Math.min(...a))],
  max: [1, 16, (xs) => numN(xs, (a) => Math.max(...a))],
  /** First non-null argument (does not propagate null). */
  coalesce: [1, 16, (xs) => xs.find((x) => x !== null) ?? null],
  /** if(condition, then, else) by truthiness. */
  if: [3, 3, ([c, a, b]) => (truthy(c!) ? a! : b!)],
  /** true when the argument is null (does not propagate null). */
  is_null: [1, 1, ([x]) => x === null],
  lower: [1, 1, ([x]) => (typeof x === 'string' ? x.toLowerCase() : null)],
  upper: [1, 1, ([x]) => (typeof x === 'string' ? x.toUpperCase() : null)],
  /** A number from a number, a boolean (1/0) or a numeric string; otherwise null. */
  number: [1, 1, ([x]) => (typeof x === 'string' ? finite(x.trim() === '' ? NaN : Number(x)) : toNum(x!))],
};

export const FUNCTION_NAMES = Object.keys(FUNCTIONS).sort();

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
function toNum(v: Value): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}
function num1(x: Value | undefined, f: (n: number) => number): Value {
  const n = toNum(x ?? null);
  return n === null ? null : finite(f(n));
}
function numN(xs: Value[], f: (n: number[]) => number): Value {
  const ns: number[] = [];
  for (const x of xs) {
    const n = toNum(x);
    if (n === null) return null;
    ns.push(n);
  }
  return finite(f(ns));
}

export function truthy(v: Value): boolean {
  return !(v === null || v === false || v === 0 || v === '' || (typeof v === 'number' && Number.isNaN(v)));
}

function equals(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === typeof b) return a === b;
  const na = typeof a === 'string' ? null : toNum(a);
  const nb = typeof b === 'string' ? null : toNum(b);
  return na !== null && nb !== null && na === nb;
}

function order(op: BinOp, a: Value, b: Value): Value {
  let x: number | string;
  let y: number | string;
  if (typeof a === 'string' && typeof b === 'string') {
    x = a;
    y = b;
  } else {
    const na = typeof a === 'string' ? null : toNum(a);
    const nb = typeof b === 'string' ? null : toNum(b);
    if (na === null || nb === null) return null;
    x = na;
    y = nb;
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function arith(op: BinOp, a: Value, b: Value): Value {
  const x = toNum(a);
  const y = toNum(b);
  if (x === null || y === null) return null;
  switch (op) {
    case '+':
      return finite(x + y);
    case '-':
      return finite(x - y);
    case '*':
      return finite(x * y);
    case '/':
      return y === 0 ? null : finite(x / y);
    default:
      return y === 0 ? null : finite(x % y);
  }
}

class Parser {
  private i = 0;
  private nodes = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly roots: ReadonlySet<string>,
  ) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === text;
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== text) throw new ExpressionError(`expected '${text}' but found '${t.text}'`, t.pos);
  }
  private node<N extends Node>(n: N, depth: number): N {
    if (++this.nodes > MAX_NODES) throw new ExpressionError(`expression has more than ${MAX_NODES} nodes`, this.peek().pos);
    if (depth > MAX_DEPTH) throw new ExpressionError(`expression nests deeper than ${MAX_DEPTH}`, this.peek().pos);
    return n;
  }

  parse(): Node {
    const n = this.expr(0);
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`unexpected '${t.text}'`, t.pos);
    return n;
  }

  private expr(d: number): Node {
    const c = this.or(d + 1);
    if (this.isOp('?')) {
      this.next();
      const a = this.expr(d + 1);
      this.expect(':');
      const b = this.expr(d + 1);
      return this.node({ t: 'cond', c, a, b }, d);
    }
    return c;
  }
  private or(d: number): Node {
    let a = this.and(d + 1);
    while (this.isOp('||') || this.isWord('or')) {
      this.next();
      a = this.node({ t: 'or', a, b: this.and(d + 1) }, d);
    }
    return a;
  }
  private and(d: number): Node {
    let a = this.not(d + 1);
    while (this.isOp('&&') || this.isWord('and')) {
      this.next();
      a = this.node({ t: 'and', a, b: this.not(d + 1) }, d);
    }
    return a;
  }
  private not(d: number): Node {
    if (this.isOp('!') || this.isWord('not')) {
      this.next();
      return this.node({ t: 'not', a: this.not(d + 1) }, d);
    }
    return this.compare(d + 1);
  }
  private compare(d: number): Node {
    const a = this.sum(d + 1);
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      return this.node({ t: 'bin', op: t.text as BinOp, a, b: this.sum(d + 1) }, d);
    }
    return a;
  }
  private sum(d: number): Node {
    let a = this.product(d + 1);
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text as BinOp;
      a = this.node({ t: 'bin', op, a, b: this.product(d + 1) }, d);
    }
    return a;
  }
  private product(d: number): Node {
    let a = this.unary(d + 1);
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next().text as BinOp;
      a = this.node({ t: 'bin', op, a, b: this.unary(d + 1) }, d);
    }
    return a;
  }
  private unary(d: number): Node {
    if (this.isOp('-')) {
      this.next();
      return this.node({ t: 'neg', a: this.unary(d + 1) }, d);
    }
    return this.primary(d + 1);
  }
  private primary(d: number): Node {
    const t = this.next();
    if (t.kind === 'num') return this.node({ t: 'lit', v: t.value as number }, d);
    if (t.kind === 'str') return this.node({ t: 'lit', v: t.value as string }, d);
    if (t.kind === 'op' && t.text === '(') {
      const e = this.expr(d + 1);
      this.expect(')');
      return e;
    }
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') return this.node({ t: 'lit', v: t.text === 'true' }, d);
      if (t.text === 'null') return this.node({ t: 'lit', v: null }, d);
      if (this.isOp('(')) {
        this.next();
        const spec = FUNCTIONS[t.text];
        if (!spec || !Object.hasOwn(FUNCTIONS, t.text))
          throw new ExpressionError(`unknown function '${t.text}'; functions: ${FUNCTION_NAMES.join(', ')}`, t.pos);
        const args: Node[] = [];
        if (!this.isOp(')')) {
          args.push(this.expr(d + 1));
          while (this.isOp(',')) {
            this.next();
            args.push(this.expr(d + 1));
          }
        }
        this.expect(')');
        if (args.length < spec[0] || args.length > spec[1]) {
          throw new ExpressionError(`${t.text}() takes ${spec[0] === spec[1] ? spec[0] : `${spec[0]} to ${spec[1]}`} argument(s), got ${args.length}`, t.pos);
        }
        return this.node({ t: 'call', fn: t.text, args }, d);
      }
      if (!this.roots.has(t.text)) throw new ExpressionError(`unknown field '${t.text}'; fields: ${[...this.roots].sort().join(', ')}`, t.pos);
      const path = [t.text];
      for (;;) {
        if (this.isOp('.')) {
          this.next();
          const k = this.next();
          if (k.kind !== 'ident') throw new ExpressionError(`expected a field name after '.' but found '${k.text}'`, k.pos);
          path.push(k.text);
        } else if (this.isOp('[')) {
          this.next();
          const k = this.next();
          if (k.kind !== 'str') throw new ExpressionError(`expected a quoted key inside [] but found '${k.text}'`, k.pos);
          this.expect(']');
          path.push(k.value as string);
        } else break;
      }
      for (const seg of path) if (FORBIDDEN_KEYS.has(seg)) throw new ExpressionError(`field name '${seg}' is not allowed`, t.pos);
      return this.node({ t: 'path', path }, d);
    }
    throw new ExpressionError(`unexpected '${t.text}'`, t.pos);
  }
}

type Fn = (ctx: Context) => Value;

function lookup(ctx: Context, path: readonly string[]): Value {
  let cur: unknown = ctx;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return null;
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return null;
  if (typeof cur === 'number') return Number.isFinite(cur) ? cur : null;
  if (typeof cur === 'string' || typeof cur === 'boolean') return cur;
  return null; // objects/arrays are not values
}

function compileNode(n: Node): Fn {
  switch (n.t) {
    case 'lit': {
      const v = n.v;
      return () => v;
    }
    case 'path': {
      const p = n.path;
      return (ctx) => lookup(ctx, p);
    }
    case 'neg': {
      const a = compileNode(n.a);
      return (ctx) => {
        const x = toNum(a(ctx));
        return x === null ? null : -x;
      };
    }
    case 'not': {
      const a = compileNode(n.a);
      return (ctx) => !truthy(a(ctx));
    }
    case 'and': {
      const a = compileNode(n.a);
      const b = compileNode(n.b);
      return (ctx) => truthy(a(ctx)) && truthy(b(ctx));
    }
    case 'or': {
      const a = compileNode(n.a);
      const b = compileNode(n.b);
      return (ctx) => truthy(a(ctx)) || truthy(b(ctx));
    }
    case 'cond': {
      const c = compileNode(n.c);
      const a = compileNode(n.a);
      const b = compileNode(n.b);
      return (ctx) => (truthy(c(ctx)) ? a(ctx) : b(ctx));
    }
    case 'call': {
      const impl = FUNCTIONS[n.fn]![2];
      const args = n.args.map(compileNode);
      return (ctx) => impl(args.map((f) => f(ctx)));
    }
    case 'bin': {
      const a = compileNode(n.a);
      const b = compileNode(n.b);
      const op = n.op;
      if (op === '==') return (ctx) => equals(a(ctx), b(ctx));
      if (op === '!=') return (ctx) => !equals(a(ctx), b(ctx));
      if (op === '<' || op === '<=' || op === '>' || op === '>=') return (ctx) => order(op, a(ctx), b(ctx));
      return (ctx) => arith(op, a(ctx), b(ctx));
    }
  }
}

function collectRoots(n: Node, out: Set<string>): void {
  switch (n.t) {
    case 'path':
      out.add(n.path[0]!);
      return;
    case 'lit':
      return;
    case 'neg':
    case 'not':
      collectRoots(n.a, out);
      return;
    case 'call':
      for (const a of n.args) collectRoots(a, out);
      return;
    case 'cond':
      collectRoots(n.c, out);
      collectRoots(n.a, out);
      collectRoots(n.b, out);
      return;
    default:
      collectRoots(n.a, out);
      collectRoots(n.b, out);
  }
}

export interface CompiledExpression {
  readonly source: string;
  /** Root fields the expression reads (e.g. 'business', 'fallback'). */
  readonly roots: readonly string[];
  evaluate(ctx: Context): Value;
}

/** Parses and compiles; throws ExpressionError (with a character position) on bad input. */
export function compileExpression(source: string, allowedRoots: Iterable<string>): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw new ExpressionError('expression is empty', 0);
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  const ast = new Parser(tokenize(source), new Set(allowedRoots)).parse();
  const roots = new Set<string>();
  collectRoots(ast, roots);
  const fn = compileNode(ast);
  return { source, roots: [...roots].sort(), evaluate: fn };
}

/** Convenience for configuration validation: the problem as one line, or null. */
export function expressionProblem(source: unknown, allowedRoots: Iterable<string>): string | null {
  try {
    compileExpression(String(source ?? ''), allowedRoots);
    return null;
  } catch (err) {
    if (err instanceof ExpressionError) return `${err.message} (at character ${err.pos})`;
    if (err instanceof ConfigInvalidError) return err.message;
    throw err;
  }
}

/** A value as a number for aggregation: numbers, booleans as 1/0; anything else null. */
export function valueToNumber(v: Value): number | null {
  return toNum(v);
}
