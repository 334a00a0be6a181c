/**
 * Grafana provisioning files as Grafana reads them: the structs of
 * - datasources: grafana `pkg/services/provisioning/datasources/types.go` (configsV1,
 *   upsertDataSourceFromConfigV1) and config_reader.go (one default per org, access proxy|direct);
 * - dashboard providers: `pkg/services/provisioning/dashboards/types.go` (configV1/configs; provider
 *   names unique, dashboard title required);
 * - alerting: `pkg/services/provisioning/alerting/types.go` (AlertingFileV1), `rules_types.go`
 *   (AlertRuleGroupV1, AlertRuleV1, QueryV1 and their MapToModel checks), `contact_point_types.go`
 *   (ContactPointV1, ReceiverV1), `notification_policy_types.go` (a definitions.Route inline);
 * - receiver settings: grafana/alerting `receivers/{webhook,slack,pagerduty,email}` ValidateConfig
 *   (required settings after env interpolation).
 * Every value type that Grafana reads through `values.*Value` accepts a scalar that is interpolated
 * from the environment (see env.ts); ints and bools may therefore be written as strings.
 */
import { parseDuration } from './alerting.js';
import { type Env, interpolateDeep, interpolateValue } from './env.js';
import { S, type Shape, validate } from './shape.js';

const str = S.union(S.string, S.number, S.bool); // values.StringValue: any YAML scalar, read as text
const int64 = S.union(S.int, S.string); // values.Int64Value
const bool = S.union(S.bool, S.string); // values.BoolValue
const json = S.map(S.any); // values.JSONValue
const stringMap = S.map(str); // values.StringMapValue

// ---- datasources ------------------------------------------------------------------------------

export const DATASOURCE_FILE_SHAPE: Shape = S.object({
  apiVersion: S.req(S.int),
  datasources: S.array(
    S.object({
      orgId: int64,
      orgName: str,
      version: int64,
      name: S.req(str),
      type: S.req(str),
      access: S.literal('proxy', 'direct'),
      url: str,
      user: str,
      database: str,
      basicAuth: bool,
      basicAuthUser: str,
      withCredentials: bool,
      isDefault: bool,
      correlations: S.array(json),
      jsonData: json,
      secureJsonData: stringMap,
      editable: bool,
      uid: str,
    }),
  ),
  deleteDatasources: S.array(S.object({ orgId: int64, orgName: str, name: S.req(str) })),
});

export interface ProvisionedDatasource {
  readonly name: string;
  readonly type: string;
  readonly uid: string;
  readonly isDefault: boolean;
  readonly jsonData: Readonly<Record<string, unknown>>;
  readonly secureJsonData: Readonly<Record<string, string>>;
}

/** Validates datasource files (structure + config_reader rules); returns problems and the datasources. */
export function readDatasourceFiles(
  files: ReadonlyArray<{ name: string; doc: unknown }>,
  env: Env,
): { problems: string[]; datasources: ProvisionedDatasource[] } {
  const problems: string[] = [];
  const datasources: ProvisionedDatasource[] = [];
  let defaults = 0;
  for (const { name, doc } of files) {
    problems.push(...validate(doc, DATASOURCE_FILE_SHAPE, name));
    const d = doc as { apiVersion?: number; datasources?: Array<Record<string, unknown>> };
    if (d?.apiVersion !== 1) problems.push(`${name}: apiVersion must be 1`);
    for (const ds of d?.datasources ?? []) {
      const v = interpolateDeep(ds, env) as Record<string, unknown>;
      const isDefault = String(v.isDefault ?? 'false') === 'true';
      if (isDefault) defaults++;
      if (!v.uid)
        problems.push(`${name}: datasource ${String(v.name)} has no uid; Grafana would derive one from the name and panels could not reference it stably`);
      datasources.push({
        name: String(v.name ?? ''),
        type: String(v.type ?? ''),
        uid: String(v.uid ?? ''),
        isDefault,
        jsonData: (v.jsonData ?? {}) as Record<string, unknown>,
        secureJsonData: (v.secureJsonData ?? {}) as Record<string, string>,
      });
    }
  }
  if (defaults > 1) problems.push('datasources: only one datasource per organization can be marked as default');
  const uids = datasources.map((d) => d.uid);
  if (new Set(uids).size !== uids.length) problems.push(`datasources: duplicate uids ${uids.join(', ')}`);
  return { problems, datasources };
}

/**
 * clickhouse-datasource pkg/plugin/settings.go LoadSettings + isValid: host and port are required;
 * port may be a number or a numeric string; protocol 'native' (default) or 'http'.
 */
export function clickhouseSettingsProblems(ds: ProvisionedDatasource): string[] {
  const p: string[] = [];
  const j = ds.jsonData;
  if (!j.host || String(j.host).trim() === '') p.push(`${ds.uid}: jsonData.host is empty (ErrorMessageInvalidHost)`);
  const port = typeof j.port === 'string' ? Number.parseInt(j.port, 10) : typeof j.port === 'number' ? j.port : NaN;
  if (!Number.isInteger(port) || port <= 0) p.push(`${ds.uid}: jsonData.port ${JSON.stringify(j.port)} is not a port (ErrorMessageInvalidPort)`);
  if (j.protocol !== 'http' && j.protocol !== 'native') p.push(`${ds.uid}: jsonData.protocol must be 'http' or 'native', got ${JSON.stringify(j.protocol)}`);
  if (j.defaultDatabase !== undefined && String(j.defaultDatabase).trim() === '') p.push(`${ds.uid}: jsonData.defaultDatabase is empty`);
  return p;
}

// ---- dashboard providers ----------------------------------------------------------------------

export const DASHBOARD_PROVIDER_FILE_SHAPE: Shape = S.object({
  apiVersion: S.req(S.int),
  providers: S.req(
    S.array(
      S.object({
        name: S.req(str),
        type: str,
        orgId: int64,
        folder: str,
        folderUid: str,
        editable: bool,
        options: S.req(S.object({ path: S.req(S.string), foldersFromFilesStructure: S.bool })),
        disableDeletion: bool,
        updateIntervalSeconds: int64,
        allowUiUpdates: bool,
      }),
    ),
  ),
});

export function readDashboardProviderFiles(files: ReadonlyArray<{ name: string; doc: unknown }>): { problems: string[]; paths: string[] } {
  const problems: string[] = [];
  const names = new Set<string>();
  const paths: string[] = [];
  for (const { name, doc } of files) {
    problems.push(...validate(doc, DASHBOARD_PROVIDER_FILE_SHAPE, name));
    const d = doc as { apiVersion?: number; providers?: Array<{ name?: string; type?: string; options?: { path?: string } }> };
    if (d?.apiVersion !== 1) problems.push(`${name}: apiVersion must be 1`);
    for (const p of d?.providers ?? []) {
      if (names.has(String(p.name))) problems.push(`${name}: dashboard name "${String(p.name)}" is not unique`);
      names.add(String(p.name));
      if (p.type !== undefined && p.type !== 'file') problems.push(`${name}: provider type must be 'file'`);
      if (p.options?.path) paths.push(p.options.path);
    }
  }
  return { problems, paths };
}

// ---- alerting ---------------------------------------------------------------------------------

const RELATIVE_TIME_RANGE: Shape = S.object({ from: S.req(S.int), to: S.req(S.int) });

export const ALERT_QUERY_SHAPE: Shape = S.object({
  refId: S.req(str),
  queryType: str,
  relativeTimeRange: RELATIVE_TIME_RANGE,
  datasourceUid: S.req(str),
  model: S.req(json),
});

export const ALERT_RULE_SHAPE: Shape = S.object({
  uid: S.req(str),
  title: S.req(str),
  condition: S.req(str),
  data: S.req(S.array(ALERT_QUERY_SHAPE)),
  dasboardUid: str,
  dashboardUid: str,
  panelId: int64,
  noDataState: S.literal('Alerting', 'NoData', 'OK', 'KeepLast'),
  execErrState: S.literal('Alerting', 'Error', 'OK', 'KeepLast'),
  for: str,
  keepFiringFor: str,
  missing_series_evals_to_resolve: int64,
  annotations: stringMap,
  labels: stringMap,
  isPaused: bool,
  notification_settings: S.object({
    receiver: S.req(str),
    group_by: S.array(str),
    group_wait: str,
    group_interval: str,
    repeat_interval: str,
    mute_time_intervals: S.array(str),
    active_time_intervals: S.array(str),
  }),
  record: S.object({ metric: S.req(str), from: S.req(str) }),
});

const ROUTE_KEYS = {
  receiver: str,
  group_by: S.array(S.string),
  continue: S.bool,
  object_matchers: S.array(S.array(S.string)),
  matchers: S.array(S.string),
  match: S.map(S.string),
  match_re: S.map(S.string),
  mute_time_intervals: S.array(S.string),
  active_time_intervals: S.array(S.string),
  group_wait: S.string,
  group_interval: S.string,
  repeat_interval: S.string,
};
const ROUTE: Shape = { kind: 'object', props: {}, open: false };
// Recursive: a route's routes are routes.
(ROUTE as { props: Record<string, { shape: Shape }> }).props = {
  ...Object.fromEntries(Object.entries(ROUTE_KEYS).map(([k, v]) => [k, { shape: v }])),
  routes: { shape: S.array(ROUTE) },
};

export const ALERTING_FILE_SHAPE: Shape = S.object({
  apiVersion: S.req(int64),
  groups: S.array(S.object({ orgId: int64, name: S.req(str), folder: S.req(str), interval: S.req(str), rules: S.req(S.array(ALERT_RULE_SHAPE)) })),
  deleteRules: S.array(S.object({ uid: S.req(str), orgId: int64 })),
  contactPoints: S.array(
    S.object({
      orgId: int64,
      name: S.req(str),
      receivers: S.req(S.array(S.object({ uid: S.req(str), type: S.req(str), settings: S.req(json), disableResolveMessage: bool }))),
    }),
  ),
  deleteContactPoints: S.array(S.object({ orgId: int64, uid: S.req(str) })),
  policies: S.array({ kind: 'object', props: { orgId: { shape: int64 }, ...(ROUTE as { props: Record<string, { shape: Shape }> }).props }, open: false }),
  resetPolicies: S.array(int64),
  muteTimes: S.array(S.map(S.any)),
  deleteMuteTimes: S.array(S.map(S.any)),
  templates: S.array(S.object({ orgId: int64, name: S.req(str), template: S.req(str) })),
  deleteTemplates: S.array(S.object({ orgId: int64, name: S.req(str) })),
});

export interface AlertQuery {
  readonly refId: string;
  readonly datasourceUid: string;
  readonly relativeTimeRange?: { readonly from: number; readonly to: number };
  readonly queryType?: string;
  readonly model: Readonly<Record<string, unknown>>;
}

export interface AlertRule {
  readonly uid: string;
  readonly title: string;
  readonly condition: string;
  readonly data: readonly AlertQuery[];
  readonly noDataState?: 'Alerting' | 'NoData' | 'OK' | 'KeepLast';
  readonly execErrState?: 'Alerting' | 'Error' | 'OK' | 'KeepLast';
  readonly for?: string;
  /** Raw (never interpolated by Grafana). */
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly isPaused?: boolean;
}

export interface AlertRuleGroup {
  readonly file: string;
  readonly name: string;
  readonly folder: string;
  readonly interval: string;
  readonly rules: readonly AlertRule[];
}

export interface ContactPoint {
  readonly name: string;
  readonly receivers: ReadonlyArray<{
    readonly uid: string;
    readonly type: string;
    readonly settings: Readonly<Record<string, unknown>>;
    readonly disableResolveMessage?: boolean;
  }>;
}

export interface Route {
  readonly receiver?: string;
  readonly group_by?: readonly string[];
  readonly continue?: boolean;
  readonly object_matchers?: ReadonlyArray<readonly string[]>;
  readonly routes?: readonly Route[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
}

export interface AlertingProvisioning {
  readonly groups: readonly AlertRuleGroup[];
  readonly contactPoints: readonly ContactPoint[];
  readonly policies: readonly Route[];
}

/** util.ValidateUID: at most 40 characters of [a-zA-Z0-9_-]. */
export function uidProblem(uid: string): string | null {
  if (uid.length > 40) return `uid ${uid} is longer than 40 characters`;
  if (!/^[a-zA-Z0-9\-_]+$/.test(uid)) return `uid ${uid} has characters outside [a-zA-Z0-9-_]`;
  return null;
}

function durationProblem(what: string, v: unknown, allowEmpty: boolean): string | null {
  if (v === undefined || (allowEmpty && v === '')) return null;
  try {
    parseDuration(String(v));
    return null;
  } catch {
    return `${what}: ${JSON.stringify(v)} is not a duration (model.ParseDuration)`;
  }
}

/** Reads alerting files: structure, then the MapToModel checks of each type. */
export function readAlertingFiles(files: ReadonlyArray<{ name: string; doc: unknown }>, env: Env): { problems: string[]; provisioning: AlertingProvisioning } {
  const problems: string[] = [];
  const groups: AlertRuleGroup[] = [];
  const contactPoints: ContactPoint[] = [];
  const policies: Route[] = [];
  for (const { name, doc } of files) {
    problems.push(...validate(doc, ALERTING_FILE_SHAPE, name));
    const d = (doc ?? {}) as Record<string, unknown>;
    if (String(d.apiVersion) !== '1') problems.push(`${name}: apiVersion must be 1`);
    for (const [gi, g] of ((d.groups as Array<Record<string, unknown>>) ?? []).entries()) {
      const where = `${name}: groups[${gi}]`;
      const gname = interpolateValue(String(g.name ?? ''), env).trim();
      if (!gname) problems.push(`${where}: rule group has no name set`);
      const folder = interpolateValue(String(g.folder ?? ''), env).trim();
      if (!folder) problems.push(`${where}: rule group has no folder set`);
      const interval = interpolateValue(String(g.interval ?? ''), env);
      const ip = durationProblem(`${where}.interval`, interval, false);
      if (ip) problems.push(ip);
      else if (parseDuration(interval) % 10_000 !== 0 || parseDuration(interval) === 0)
        problems.push(`${where}.interval: ${interval} must be a positive multiple of the scheduler's 10s base interval`);
      const rules: AlertRule[] = [];
      for (const [ri, r] of ((g.rules as Array<Record<string, unknown>>) ?? []).entries()) {
        const rw = `${where}.rules[${ri}]`;
        const title = interpolateValue(String(r.title ?? ''), env);
        if (!title) problems.push(`${rw}: rule has no title set`);
        const uid = interpolateValue(String(r.uid ?? ''), env);
        if (!uid) problems.push(`${rw}: rule '${title}' failed to parse: no UID set`);
        else {
          const up = uidProblem(uid);
          if (up) problems.push(`${rw}: ${up}`);
        }
        const fp = durationProblem(`${rw}.for`, r.for, true);
        if (fp) problems.push(fp);
        const condition = interpolateValue(String(r.condition ?? ''), env);
        if (!condition) problems.push(`${rw}: rule '${title}' failed to parse: no condition set`);
        const data = ((r.data as Array<Record<string, unknown>>) ?? []).map((q) => ({
          refId: interpolateValue(String(q.refId ?? ''), env),
          datasourceUid: interpolateValue(String(q.datasourceUid ?? ''), env),
          queryType: q.queryType === undefined ? undefined : String(q.queryType),
          relativeTimeRange: q.relativeTimeRange as { from: number; to: number } | undefined,
          // QueryV1.mapToModel marshals Model.Raw: no interpolation.
          model: (q.model ?? {}) as Record<string, unknown>,
        }));
        if (data.length === 0) problems.push(`${rw}: rule '${title}' failed to parse: no data set`);
        const labels = Object.fromEntries(Object.entries((r.labels as Record<string, string>) ?? {}).map(([k, v]) => [k, interpolateValue(String(v), env)]));
        rules.push({
          uid,
          title,
          condition,
          data,
          noDataState: r.noDataState as AlertRule['noDataState'],
          execErrState: r.execErrState as AlertRule['execErrState'],
          for: r.for === undefined ? undefined : String(r.for),
          annotations: Object.fromEntries(Object.entries((r.annotations as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)])),
          labels,
          isPaused: r.isPaused === undefined ? undefined : String(r.isPaused) === 'true',
        });
      }
      groups.push({ file: name, name: gname, folder, interval, rules });
    }
    for (const [ci, c] of ((d.contactPoints as Array<Record<string, unknown>>) ?? []).entries()) {
      const cw = `${name}: contactPoints[${ci}]`;
      const cname = interpolateValue(String(c.name ?? ''), env).trim();
      if (!cname) problems.push(`${cw}: no name is set`);
      const receivers = ((c.receivers as Array<Record<string, unknown>>) ?? []).map((rc, i) => {
        const uid = interpolateValue(String(rc.uid ?? ''), env).trim();
        const type = interpolateValue(String(rc.type ?? ''), env).trim();
        const settings = interpolateDeep(rc.settings ?? {}, env) as Record<string, unknown>;
        if (!uid) problems.push(`${cw}.receivers[${i}]: ${cname}: no uid is set`);
        else {
          const up = uidProblem(uid);
          if (up) problems.push(`${cw}.receivers[${i}]: ${up}`);
        }
        if (!type) problems.push(`${cw}.receivers[${i}]: ${cname}: no type is set`);
        if (Object.keys(settings).length === 0) problems.push(`${cw}.receivers[${i}]: ${cname}: no settings are set`);
        else problems.push(...receiverSettingsProblems(type, settings).map((p) => `${cw}.receivers[${i}] (${type}): ${p}`));
        return { uid, type, settings, disableResolveMessage: rc.disableResolveMessage === undefined ? undefined : String(rc.disableResolveMessage) === 'true' };
      });
      contactPoints.push({ name: cname, receivers });
    }
    for (const p of (d.policies as Array<Record<string, unknown>>) ?? []) {
      const { orgId: _orgId, ...route } = interpolateDeep(p, env) as Record<string, unknown>;
      policies.push(route as Route);
    }
  }
  return { problems, provisioning: { groups, contactPoints, policies } };
}

/**
 * Required settings per receiver type, after interpolation (grafana/alerting receivers/*: webhook
 * "required field 'url' is not specified"; slack: without a webhook url the chat API needs recipient
 * and token; pagerduty "could not find integration key property in settings"; email "could not find
 * addresses in settings").
 */
export function receiverSettingsProblems(type: string, s: Readonly<Record<string, unknown>>): string[] {
  const nonEmpty = (k: string) => typeof s[k] === 'string' && (s[k] as string).trim() !== '';
  const validUrl = (k: string) => {
    try {
      const u = new URL(String(s[k]));
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  };
  switch (type) {
    case 'webhook':
      if (!nonEmpty('url')) return ["required field 'url' is not specified"];
      return validUrl('url') ? [] : [`url ${JSON.stringify(s.url)} is not an http(s) URL`];
    case 'slack':
      if (nonEmpty('url')) return validUrl('url') ? [] : [`url ${JSON.stringify(s.url)} is not an http(s) URL`];
      return [
        ...(nonEmpty('recipient') ? [] : ['recipient must be specified when using the Slack chat API']),
        ...(nonEmpty('token') ? [] : ['token must be specified when using the Slack chat API']),
      ];
    case 'pagerduty':
      return nonEmpty('integrationKey') ? [] : ['could not find integration key property in settings'];
    case 'email':
      return nonEmpty('addresses') ? [] : ['could not find addresses in settings'];
    default:
      return [`receiver type ${type} is not one driftwatch validates (webhook, slack, pagerduty, email)`];
  }
}

/** Notification policy checks (definitions.Route.Validate + receivers exist). */
export function policyProblems(policies: readonly Route[], contactPointNames: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  if (policies.length > 1) problems.push('policies: one notification policy tree per organization');
  const visit = (r: Route, path: string, root: boolean): void => {
    if (root && !r.receiver) problems.push(`${path}: root route must specify a default receiver`);
    if (root && r.object_matchers?.length) problems.push(`${path}: root route must not have any matchers`);
    if (r.receiver && !contactPointNames.has(r.receiver)) problems.push(`${path}: receiver '${r.receiver}' is not a provisioned contact point`);
    for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) {
      const dp = durationProblem(`${path}.${k}`, r[k], false);
      if (dp) problems.push(dp);
    }
    for (const m of r.object_matchers ?? []) {
      if (m.length !== 3 || !['=', '!=', '=~', '!~'].includes(m[1]!))
        problems.push(`${path}: object matcher ${JSON.stringify(m)} must be [label, =|!=|=~|!~, value]`);
    }
    (r.routes ?? []).forEach((c, i) => visit(c, `${path}.routes[${i}]`, false));
  };
  policies.forEach((p, i) => visit(p, `policies[${i}]`, true));
  return problems;
}

/**
 * Which receivers an alert with `labels` reaches, following Alertmanager routing: depth-first, the
 * first matching child wins unless it has `continue: true`; no matching child -> the node's own
 * receiver (inherited from the parent when unset).
 */
export function routeAlert(root: Route, labels: Readonly<Record<string, string>>): string[] {
  const matches = (r: Route) =>
    (r.object_matchers ?? []).every(([name, op, value]) => {
      const v = labels[name!] ?? '';
      switch (op) {
        case '=':
          return v === value;
        case '!=':
          return v !== value;
        case '=~':
          return new RegExp(`^(?:${value})$`).test(v);
        case '!~':
          return !new RegExp(`^(?:${value})$`).test(v);
        default:
          return false;
      }
    });
  const walk = (r: Route, inherited: string): string[] => {
    const receiver = r.receiver ?? inherited;
    const out: string[] = [];
    for (const child of r.routes ?? []) {
      if (!matches(child)) continue;
      out.push(...walk(child, receiver));
      if (!child.continue) break;
    }
    return out.length ? out : [receiver];
  };
  return [...new Set(walk(root, root.receiver ?? ''))];
}
