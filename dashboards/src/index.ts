/** Every driftwatch dashboard and alert rule, as built from the sources in this folder. */
import type { Panel, RowPanel } from '@grafana/schema';
import { type BuiltDashboard } from './kit.js';
import { kpis } from './kpis.js';
import { modelDrift } from './model-drift.js';
import { overview } from './overview.js';
import { performance } from './performance.js';
import { pipeline } from './pipeline.js';
import { ALERT_FOLDER, RULE_GROUPS, ruleToProvisioning } from './alerting/rules.js';

export const DASHBOARDS: readonly BuiltDashboard[] = [overview, modelDrift, performance, kpis, pipeline];

/** The id of the panel titled `title` on dashboard `uid` (alert rules link to it). */
export function panelIdOf(uid: string, title: string): number {
  const d = DASHBOARDS.find((x) => x.dashboard.uid === uid);
  if (!d) throw new Error(`no dashboard ${uid}`);
  const panels = (d.dashboard.panels ?? []).flatMap((p) => (p.type === 'row' ? [p, ...((p as RowPanel).panels ?? [])] : [p as Panel]));
  const p = panels.find((x) => x.title === title);
  if (!p?.id) throw new Error(`no panel titled ${JSON.stringify(title)} on ${uid}`);
  return p.id;
}

/** The alerting provisioning document of the rules (AlertingFileV1). */
export function alertRulesDocument(): Record<string, unknown> {
  return {
    apiVersion: 1,
    groups: RULE_GROUPS.map((g) => ({
      orgId: 1,
      name: g.name,
      folder: ALERT_FOLDER,
      interval: g.interval,
      rules: g.rules.map((r) => ruleToProvisioning(r, panelIdOf(r.dashboard.uid, r.dashboard.panelTitle))),
    })),
  };
}
