import { describe, expect, it } from 'vitest';
import {
  clickhouseSettingsProblems,
  policyProblems,
  readAlertingFiles,
  readDashboardProviderFiles,
  readDatasourceFiles,
  receiverSettingsProblems,
  routeAlert,
  uidProblem,
  type Route,
} from '../../../lib/grafana/provisioning.js';

const query = { refId: 'A', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: 'ds', model: { rawSql: 'SELECT 1' } };
const goodRule = {
  uid: 'r1',
  title: 'Rule',
  condition: 'A',
  data: [query],
  for: '5m',
  noDataState: 'OK',
  execErrState: 'Error',
  annotations: { summary: 's' },
  labels: { severity: 'warning' },
};

describe('readAlertingFiles (AlertingFileV1 + MapToModel)', () => {
  it('accepts a well-formed file and reads the rule', () => {
    const { problems, provisioning } = readAlertingFiles(
      [{ name: 'f', doc: { apiVersion: 1, groups: [{ orgId: 1, name: 'g', folder: 'f', interval: '1m', rules: [goodRule] }] } }],
      {},
    );
    expect(problems).toEqual([]);
    expect(provisioning.groups[0]!.rules[0]!.uid).toBe('r1');
  });

  it('reports what Grafana would refuse or silently ignore', () => {
    const doc = {
      apiVersion: 1,
      groups: [
        {
          name: 'g',
          folder: '',
          interval: '15s',
          rules: [
            { ...goodRule, uid: '', noDataSate: 'OK' },
            { ...goodRule, uid: 'x'.repeat(41), for: 'five minutes', noDataState: 'Maybe', data: [] },
          ],
        },
      ],
    };
    const { problems } = readAlertingFiles([{ name: 'f', doc }], {});
    const text = problems.join('\n');
    expect(text).toMatch(/noDataSate: unknown key/);
    expect(text).toMatch(/rule group has no folder set/);
    expect(text).toMatch(/multiple of the scheduler's 10s base interval/);
    expect(text).toMatch(/no UID set/);
    expect(text).toMatch(/longer than 40 characters/);
    expect(text).toMatch(/not a duration/);
    expect(text).toMatch(/expected one of "Alerting", "NoData", "OK", "KeepLast"/);
    expect(text).toMatch(/no data set/);
  });

  it('interpolates receiver settings from the environment and validates them per type', () => {
    const doc = { apiVersion: 1, contactPoints: [{ name: 'cp', receivers: [{ uid: 'w', type: 'webhook', settings: { url: '${HOOK}' } }] }] };
    expect(readAlertingFiles([{ name: 'f', doc }], { HOOK: 'http://api:8080/hook' }).problems).toEqual([]);
    expect(readAlertingFiles([{ name: 'f', doc }], {}).problems.join('\n')).toMatch(/required field 'url' is not specified/);
  });
});

describe('receiverSettingsProblems (grafana/alerting receivers)', () => {
  it('mirrors the required settings', () => {
    expect(receiverSettingsProblems('slack', { url: '' })).toEqual([
      'recipient must be specified when using the Slack chat API',
      'token must be specified when using the Slack chat API',
    ]);
    expect(receiverSettingsProblems('slack', { url: 'https://hooks.slack.com/services/x' })).toEqual([]);
    expect(receiverSettingsProblems('pagerduty', { integrationKey: '' })).toEqual(['could not find integration key property in settings']);
    expect(receiverSettingsProblems('webhook', { url: 'not a url' })).toHaveLength(1);
  });
});

describe('notification policies', () => {
  const root: Route = {
    receiver: 'hook',
    group_wait: '30s',
    routes: [
      { receiver: 'pd', object_matchers: [['severity', '=', 'critical']], continue: true },
      { receiver: 'slack', object_matchers: [['severity', '=~', 'warning|critical']] },
      { receiver: 'never', object_matchers: [['severity', '=', 'warning']] },
    ],
  };
  it('routes like Alertmanager: first match wins unless continue', () => {
    expect(routeAlert(root, { severity: 'critical' })).toEqual(['pd', 'slack']);
    expect(routeAlert(root, { severity: 'warning' })).toEqual(['slack']);
    expect(routeAlert(root, { severity: 'info' })).toEqual(['hook']);
  });
  it('finds receivers that are not contact points and bad matchers', () => {
    const p = policyProblems([{ ...root, routes: [...root.routes!, { receiver: 'x', object_matchers: [['a', '~', 'b']] }] }], new Set(['hook', 'pd', 'slack']));
    expect(p.join('\n')).toMatch(/receiver 'never' is not a provisioned contact point/);
    expect(p.join('\n')).toMatch(/object matcher/);
    expect(policyProblems([{ routes: [] }], new Set()).join()).toMatch(/default receiver/);
  });
});

describe('datasources and dashboard providers', () => {
  const ds = {
    apiVersion: 1,
    datasources: [
      { name: 'ch', uid: 'ch', type: 'grafana-clickhouse-datasource', isDefault: true, jsonData: { host: '${H}', port: '${P}', protocol: 'http' } },
    ],
  };
  it('interpolates and checks the ClickHouse plugin settings', () => {
    const ok = readDatasourceFiles([{ name: 'd', doc: ds }], { H: 'clickhouse', P: '8123' });
    expect(ok.problems).toEqual([]);
    expect(clickhouseSettingsProblems(ok.datasources[0]!)).toEqual([]);
    const bad = readDatasourceFiles([{ name: 'd', doc: ds }], {});
    expect(clickhouseSettingsProblems(bad.datasources[0]!).join()).toMatch(/host is empty.*port/);
  });
  it('allows one default datasource', () => {
    expect(
      readDatasourceFiles(
        [
          { name: 'a', doc: ds },
          { name: 'b', doc: { ...ds, datasources: [{ ...ds.datasources[0], uid: 'other' }] } },
        ],
        { H: 'h', P: '1' },
      ).problems.join(),
    ).toMatch(/only one datasource/);
  });
  it('requires unique provider names and a path', () => {
    const p = {
      apiVersion: 1,
      providers: [
        { name: 'a', options: { path: '/x' } },
        { name: 'a', options: {} },
      ],
    };
    const text = readDashboardProviderFiles([{ name: 'p', doc: p }]).problems.join('\n');
    expect(text).toMatch(/dashboard name "a" is not unique/);
    expect(text).toMatch(/options\.path: required/);
  });
  it('validates uids like util.ValidateUID', () => {
    expect(uidProblem('dw-overview')).toBeNull();
    expect(uidProblem('has space')).not.toBeNull();
  });
});
