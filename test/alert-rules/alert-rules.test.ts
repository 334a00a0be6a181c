/**
 * Structural checks of the alerting provisioning (alert-rules/*.yaml) as Grafana reads it: the
 * AlertingFileV1 structs and their MapToModel checks, the rule pipeline (condition refIds,
 * expressions), contact points validated with the environment docker compose gives Grafana, the
 * notification policy and its receivers, dashboards and runbooks the rules point to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/schema';
import { EXPRESSION_DATASOURCE_UID, validateRuleForEvaluation } from '../../lib/grafana/alerting.js';
import { allPanels } from '../../lib/grafana/dashboard.js';
import { envVarsReferenced } from '../../lib/grafana/env.js';
import { macrosUsed, STABLE_MACROS } from '../../lib/grafana/macros.js';
import { policyProblems, readAlertingFiles, readDatasourceFiles, routeAlert } from '../../lib/grafana/provisioning.js';
import { variablesUsed } from '../../lib/grafana/template.js';
import { RUNBOOK_BASE } from '../../dashboards/src/alerting/rules.js';
import { dashboardFiles, grafanaEnv, grafanaMounts, ROOT, yamlFiles } from '../dashboards/support.js';

const files = yamlFiles('alert-rules');
const env = grafanaEnv();
const { problems, provisioning } = readAlertingFiles(files, env);
const rules = provisioning.groups.flatMap((g) => g.rules);
const datasourceUids = new Set(readDatasourceFiles(yamlFiles('dashboards/datasources'), env).datasources.map((d) => d.uid));
const dashboards = new Map(dashboardFiles().map((d) => [String(d.json.uid), d.json as unknown as Dashboard]));

describe('alerting provisioning files', () => {
  it('match Grafana alerting provisioning types (apiVersion 1) and pass its MapToModel checks', () => {
    expect(files.map((f) => f.name)).toEqual(['alert-rules/contact-points.yaml', 'alert-rules/policies.yaml', 'alert-rules/rules.yaml']);
    expect(problems).toEqual([]);
    expect(grafanaMounts().get('alert-rules')).toBe('/etc/grafana/provisioning/alerting');
  });

  it('define the rules the issue asks for', () => {
    expect(rules.map((r) => r.uid).sort()).toEqual(
      [
        'dw-consumer-stalled',
        'dw-dead-letter-spike',
        'dw-drift-critical',
        'dw-drift-warning',
        'dw-estimated-performance-drop',
        'dw-kpi-drop',
        'dw-label-coverage-collapse',
        'dw-pipeline-stalled',
        'dw-realized-performance-drop',
        'dw-scoring-error-rate',
        'dw-scoring-latency',
      ].sort(),
    );
    expect(new Set(rules.map((r) => r.title)).size).toBe(rules.length);
  });
});

describe('each rule', () => {
  for (const r of rules) {
    describe(r.uid, () => {
      it('is a query -> reduce -> threshold pipeline whose condition exists', () => {
        expect(validateRuleForEvaluation(r)).toEqual([]);
        expect(r.data.map((q) => q.refId)).toEqual(['A', 'B', 'C']);
        expect(r.condition).toBe('C');
        expect(r.data[1]!.model.type).toBe('reduce');
        expect(r.data[2]!.model.type).toBe('threshold');
      });

      it('queries a provisioned datasource with stable macros, no variables and no wall clock', () => {
        const a = r.data[0]!;
        expect(datasourceUids.has(a.datasourceUid)).toBe(true);
        expect((a.model.datasource as { uid: string }).uid).toBe(a.datasourceUid);
        for (const q of r.data.slice(1)) expect(q.datasourceUid).toBe(EXPRESSION_DATASOURCE_UID);
        const sql = String(a.model.rawSql);
        expect(macrosUsed(sql).filter((m) => !STABLE_MACROS.includes(m))).toEqual([]);
        expect(macrosUsed(sql)).toContain('timeFilter');
        expect(variablesUsed(sql)).toEqual([]);
        expect(sql).not.toMatch(/\bnow(64)?\(/);
        expect([0, 1]).toContain(a.model.format);
      });

      it('has severity and team labels, a summary and a description with values, and a runbook', () => {
        expect(['warning', 'critical']).toContain(r.labels.severity);
        expect(['ml-platform', 'data-platform']).toContain(r.labels.team);
        expect(r.annotations.summary).toMatch(/\$values\.B\.Value/);
        expect(r.annotations.description).toMatch(/\$values\.B\.Value/);
        for (const text of [r.annotations.summary!, r.annotations.description!]) {
          for (const m of text.matchAll(/\$values\.([A-Z])/g)) expect(['B', 'C']).toContain(m[1]);
        }
        const url = r.annotations.runbook_url!;
        expect(url.startsWith(RUNBOOK_BASE)).toBe(true);
        const file = join(ROOT, 'docs/runbooks', url.slice(RUNBOOK_BASE.length));
        expect(existsSync(file), file).toBe(true);
        const runbook = readFileSync(file, 'utf8');
        expect(runbook).toMatch(/^## What to check$/m);
        expect(runbook).toMatch(/^## What to do$/m);
        expect(runbook).toContain(r.uid);
      });

      it('links to a panel of an existing dashboard', () => {
        const raw = (files.find((f) => f.name.endsWith('rules.yaml'))!.doc as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups
          .flatMap((g) => g.rules)
          .find((x) => x.uid === r.uid)!;
        const d = dashboards.get(String(raw.dashboardUid));
        expect(d, String(raw.dashboardUid)).toBeDefined();
        expect(allPanels(d!).some((p) => p.id === raw.panelId)).toBe(true);
      });

      it('routes to the receivers its severity calls for', () => {
        const receivers = routeAlert(provisioning.policies[0]!, r.labels);
        expect(receivers).toContain('driftwatch-slack');
        if (r.labels.severity === 'critical') expect(receivers).toContain('driftwatch-pagerduty');
        else expect(receivers).not.toContain('driftwatch-pagerduty');
      });
    });
  }
});

describe('contact points and notification policy', () => {
  it('provide webhook, Slack and PagerDuty contact points configured from environment variables', () => {
    expect(provisioning.contactPoints.map((c) => [c.name, c.receivers.map((x) => x.type)])).toEqual([
      ['driftwatch-webhook', ['webhook']],
      ['driftwatch-slack', ['slack']],
      ['driftwatch-pagerduty', ['pagerduty']],
    ]);
    const raw = files.find((f) => f.name.endsWith('contact-points.yaml'))!.doc;
    const vars = envVarsReferenced(raw);
    expect(vars).toEqual(['DRIFTWATCH_ALERT_WEBHOOK_URL', 'DRIFTWATCH_PAGERDUTY_KEY', 'DRIFTWATCH_SLACK_WEBHOOK_URL']);
    // Grafana validates receivers at startup: each variable must be set for the container.
    for (const v of vars) expect(env[v], `docker-compose.yml grafana environment ${v} (empty stops Grafana from starting)`).toBeTruthy();
  });

  it('has one policy tree whose receivers are all provisioned contact points', () => {
    expect(provisioning.policies).toHaveLength(1);
    expect(policyProblems(provisioning.policies, new Set(provisioning.contactPoints.map((c) => c.name)))).toEqual([]);
    expect(routeAlert(provisioning.policies[0]!, { severity: 'warning' })).toEqual(['driftwatch-slack', 'driftwatch-webhook']);
    expect(routeAlert(provisioning.policies[0]!, { severity: 'critical' })).toEqual(['driftwatch-pagerduty', 'driftwatch-slack', 'driftwatch-webhook']);
  });
});
