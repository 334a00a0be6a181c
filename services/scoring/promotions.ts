/**
 * Promotion history -> current roles. Pure, so the promotion, rollback and fallback semantics are
 * tested on plain arrays (docs/scoring.md states them).
 *
 * `model_promotions` is append-only: each row is (role, version, action, at). The champion follows
 * a stack: `promote` pushes a version, `rollback` pops back to the version below. So after
 * v1 -> v2 -> v3, a rollback gives v2 and a second rollback v1 (not v3 again). The version under the
 * top of the stack is the "previous version" the fallback serves when the champion cannot load or
 * infer. The challenger is simply the latest challenger row (`clear` removes it).
 */

export const ROLES = ['champion', 'challenger'] as const;
export type Role = (typeof ROLES)[number];
export const ACTIONS = ['promote', 'rollback', 'clear'] as const;
export type Action = (typeof ACTIONS)[number];

export interface PromotionRow {
  readonly model_name: string;
  readonly role: Role;
  readonly model_version: string;
  readonly action: Action;
  /** Epoch ms; rows are applied in this order (the registry writes strictly increasing times per model). */
  readonly at_ms: number;
  readonly actor: string;
  readonly reason: string;
}

export interface Assignment {
  readonly champion: string | null;
  readonly challenger: string | null;
  /** The champion before the current one on the stack: the `previous_version` fallback and the rollback target. */
  readonly previousChampion: string | null;
  readonly championStack: readonly string[];
}

export const EMPTY_ASSIGNMENT: Assignment = Object.freeze({
  champion: null,
  challenger: null,
  previousChampion: null,
  championStack: Object.freeze([]) as readonly string[],
});

export function resolveAssignment(rows: readonly PromotionRow[]): Assignment {
  const ordered = [...rows].sort((a, b) => a.at_ms - b.at_ms);
  const stack: string[] = [];
  let challenger: string | null = null;
  for (const r of ordered) {
    if (r.role === 'champion') {
      if (r.action === 'promote') {
        if (stack[stack.length - 1] !== r.model_version) stack.push(r.model_version);
      } else if (r.action === 'rollback') {
        stack.pop();
        // The row names the version rolled back to; trust it if the stack disagrees (e.g. history trimmed).
        if (stack[stack.length - 1] !== r.model_version) stack.push(r.model_version);
      } else if (r.action === 'clear') stack.length = 0;
    } else {
      challenger = r.action === 'clear' ? null : r.model_version;
    }
  }
  const champion = stack[stack.length - 1] ?? null;
  return {
    champion,
    challenger: challenger === champion ? null : challenger,
    previousChampion: stack.length >= 2 ? stack[stack.length - 2]! : null,
    championStack: stack,
  };
}

/** Groups rows of many models and resolves each. */
export function resolveAssignments(rows: readonly PromotionRow[]): Map<string, Assignment> {
  const byModel = new Map<string, PromotionRow[]>();
  for (const r of rows) {
    const list = byModel.get(r.model_name) ?? [];
    list.push(r);
    byModel.set(r.model_name, list);
  }
  return new Map([...byModel].map(([name, rs]) => [name, resolveAssignment(rs)]));
}

/** The next automatic version: one more than the largest integer version (1 for the first). */
export function nextVersion(existing: readonly string[]): string {
  let max = 0;
  for (const v of existing) if (/^\d+$/.test(v)) max = Math.max(max, Number(v));
  return String(max + 1);
}
