import { describe, expect, it } from 'vitest';
import { nextVersion, resolveAssignment, resolveAssignments, type PromotionRow } from '../../../services/scoring/promotions.js';

let t = 0;
const row = (role: PromotionRow['role'], model_version: string, action: PromotionRow['action'], model_name = 'm'): PromotionRow => ({
  model_name,
  role,
  model_version,
  action,
  at_ms: ++t,
  actor: 'test',
  reason: '',
});

describe('resolveAssignment', () => {
  it('has no roles without history', () => {
    expect(resolveAssignment([])).toEqual({ champion: null, challenger: null, previousChampion: null, championStack: [] });
  });

  it('treats the champion history as a stack: promotions push, rollbacks pop', () => {
    const h = [row('champion', '1', 'promote'), row('champion', '2', 'promote'), row('champion', '3', 'promote')];
    expect(resolveAssignment(h)).toMatchObject({ champion: '3', previousChampion: '2' });
    h.push(row('champion', '2', 'rollback'));
    expect(resolveAssignment(h)).toMatchObject({ champion: '2', previousChampion: '1' });
    h.push(row('champion', '1', 'rollback'));
    // A second rollback goes further back, not forward to 3 again.
    expect(resolveAssignment(h)).toMatchObject({ champion: '1', previousChampion: null });
  });

  it('does not push a re-promotion of the current champion twice', () => {
    const a = resolveAssignment([row('champion', '1', 'promote'), row('champion', '1', 'promote')]);
    expect(a.championStack).toEqual(['1']);
  });

  it('applies rows in time order whatever order they arrive in', () => {
    const rows = [row('champion', '1', 'promote'), row('champion', '2', 'promote')];
    expect(resolveAssignment([...rows].reverse()).champion).toBe('2');
  });

  it('tracks the challenger as the latest challenger row; clear removes it; it never equals the champion', () => {
    const h = [row('champion', '1', 'promote'), row('challenger', '2', 'promote')];
    expect(resolveAssignment(h).challenger).toBe('2');
    expect(resolveAssignment([...h, row('challenger', '', 'clear')]).challenger).toBeNull();
    expect(resolveAssignment([...h, row('champion', '2', 'promote')]).challenger).toBeNull();
  });

  it('resolves several models independently', () => {
    const m = resolveAssignments([row('champion', '1', 'promote', 'a'), row('champion', '7', 'promote', 'b')]);
    expect(m.get('a')?.champion).toBe('1');
    expect(m.get('b')?.champion).toBe('7');
  });
});

describe('nextVersion', () => {
  it('is one more than the largest integer version, ignoring named versions', () => {
    expect(nextVersion([])).toBe('1');
    expect(nextVersion(['1', '2', '10', 'canary-b'])).toBe('11');
  });
});
