/**
 * The status page: plain HTML, CSS and one script, no framework and no build step. The script reads
 * the same query endpoints any client uses (/v1/models, /v1/drift, /v1/performance, /v1/kpis,
 * /v1/alerts, /v1/retrains) and renders, per model, the latest drift per feature, performance, KPIs,
 * recent alerts and retrain events.
 *
 * Stable hooks for browser tests (do not rename without updating them):
 *   #dw-status[data-state=loading|ready|error|unauthorized]   page state; #dw-error holds the message
 *   #dw-models > section.dw-model[data-model=<name>]           one per model
 *   table[data-panel=drift|performance|kpis|alerts|retrains]   in each model section
 *   tr[data-feature][data-drift=true|false]                    drift rows (whole population, latest window)
 *   tr[data-metric][data-kind]  tr[data-kpi]  tr[data-alert-id][data-severity][data-status]  tr[data-retrain-key]
 *   td[data-empty]                                             the row shown when a panel has no data
 *   #dw-token, #dw-token-save                                  bearer token for reads (kept in sessionStorage)
 *
 * Everything rendered from data goes through textContent (never innerHTML), so a model or feature
 * name cannot inject markup; the page is served with a CSP that forbids inline script.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>driftwatch status</title>
<link rel="stylesheet" href="/status/app.css">
</head>
<body>
<header>
  <h1>driftwatch status</h1>
  <form id="dw-token-form" autocomplete="off">
    <label for="dw-token">Read token</label>
    <input id="dw-token" type="password" placeholder="only if API_READ_TOKENS is set">
    <button id="dw-token-save" type="submit">Use token</button>
  </form>
</header>
<main id="dw-status" data-state="loading">
  <p id="dw-error" hidden></p>
  <p>Updated <time id="dw-updated-at">never</time></p>
  <div id="dw-models"></div>
</main>
<script src="/status/app.js" defer></script>
</body>
</html>
`;

export const STATUS_CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;background:#24292f;color:#fff}
header h1{font-size:1.1rem;margin:0}
main{padding:1rem}
section.dw-model{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin-bottom:1rem;padding:.5rem 1rem}
section.dw-model h2{font-size:1rem}
table{border-collapse:collapse;margin:.25rem 0 .75rem;min-width:30rem}
th,td{border-bottom:1px solid #eaeef2;padding:.2rem .6rem;text-align:left;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
tr[data-drift="true"] td{background:#ffebe9}
tr[data-severity="critical"] td{color:#a40e26}
#dw-error{color:#a40e26;font-weight:600}
`;

export const STATUS_JS = `'use strict';
(function () {
  var TOKEN_KEY = 'driftwatch.readToken';
  var root = document.getElementById('dw-status');
  var modelsEl = document.getElementById('dw-models');
  var errorEl = document.getElementById('dw-error');

  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } }

  function api(path) {
    var headers = { accept: 'application/json' };
    var t = token();
    if (t) headers.authorization = 'Bearer ' + t;
    return fetch(path, { headers: headers }).then(function (res) {
      if (res.status === 401) { var e = new Error('a read token is required'); e.unauthorized = true; throw e; }
      if (!res.ok) throw new Error(path.split('?')[0] + ' answered ' + res.status);
      return res.json();
    });
  }

  function q(params) {
    return Object.keys(params).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'number') return Math.abs(v) >= 1000 || v === Math.round(v) ? String(v) : v.toPrecision(4);
    return String(v);
  }

  function table(panel, caption, columns, rows, rowAttrs) {
    var t = el('table', { 'data-panel': panel });
    t.appendChild(el('caption', {}, caption));
    var head = el('tr');
    columns.forEach(function (c) { head.appendChild(el('th', { scope: 'col' }, c[0])); });
    t.appendChild(el('thead')).appendChild(head);
    var body = t.appendChild(el('tbody'));
    if (rows.length === 0) {
      var empty = el('tr');
      empty.appendChild(el('td', { colspan: String(columns.length), 'data-empty': '' }, 'no data'));
      body.appendChild(empty);
    }
    rows.forEach(function (r) {
      var tr = el('tr', rowAttrs(r));
      columns.forEach(function (c) { tr.appendChild(el('td', { 'data-col': c[1] }, fmt(r[c[1]]))); });
      body.appendChild(tr);
    });
    return t;
  }

  /** Keeps the first (newest) row per key: the pages are ordered newest first. */
  function latestBy(items, key) {
    var seen = {};
    return items.filter(function (r) { var k = key(r); if (seen[k]) return false; seen[k] = true; return true; });
  }

  function renderModel(m) {
    var whole = { model: m.name, segment: '', limit: 500 };
    return Promise.all([
      api('/v1/drift?' + q(whole)),
      api('/v1/performance?' + q({ model: m.name, segment: '', shadow: false, limit: 500 })),
      api('/v1/kpis?' + q(whole)),
      api('/v1/alerts?' + q({ model: m.name, limit: 20 })),
      api('/v1/retrains?' + q({ model: m.name, limit: 10 }))
    ]).then(function (r) {
      var section = el('section', { class: 'dw-model', 'data-model': m.name });
      var title = m.name + (m.champion ? ' (champion ' + m.champion + (m.challenger ? ', challenger ' + m.challenger : '') + ')' : '');
      section.appendChild(el('h2', {}, title));
      var drift = latestBy(r[0].items, function (x) { return x.feature; });
      section.appendChild(table('drift', 'Drift per feature (latest window)', [['Feature', 'feature'], ['Method', 'method'], ['Score', 'score'], ['p-value', 'p_value'], ['Threshold', 'threshold'], ['Drift', 'drift'], ['Window', 'window_start']], drift,
        function (x) { return { 'data-feature': x.feature, 'data-drift': String(!!x.drift) }; }));
      var perf = latestBy(r[1].items, function (x) { return x.metric + '|' + x.kind; });
      section.appendChild(table('performance', 'Performance (latest window)', [['Metric', 'metric'], ['Kind', 'kind'], ['Value', 'value'], ['Labeled', 'n_labeled'], ['Window', 'window_start']], perf,
        function (x) { return { 'data-metric': x.metric, 'data-kind': x.kind }; }));
      var kpis = latestBy(r[2].items, function (x) { return x.kpi; });
      section.appendChild(table('kpis', 'KPIs (latest window)', [['KPI', 'kpi'], ['Value', 'value'], ['Baseline', 'baseline'], ['Window', 'window_start']], kpis,
        function (x) { return { 'data-kpi': x.kpi }; }));
      section.appendChild(table('alerts', 'Recent alerts', [['Time', 'created_at'], ['Rule', 'rule'], ['Severity', 'severity'], ['Status', 'status'], ['Message', 'message']], r[3].items,
        function (x) { return { 'data-alert-id': x.alert_id, 'data-severity': x.severity, 'data-status': x.status }; }));
      section.appendChild(table('retrains', 'Retrain events', [['Time', 'created_at'], ['Policy', 'policy_id'], ['Version', 'model_version'], ['Reason', 'reason']], r[4].items,
        function (x) { return { 'data-retrain-key': x.idempotency_key }; }));
      return section;
    });
  }

  function load() {
    root.setAttribute('data-state', 'loading');
    errorEl.hidden = true;
    return api('/v1/models?limit=100').then(function (page) {
      return Promise.all(page.items.map(renderModel));
    }).then(function (sections) {
      modelsEl.replaceChildren.apply(modelsEl, sections);
      if (sections.length === 0) modelsEl.appendChild(el('p', { 'data-empty': '' }, 'No models yet.'));
      document.getElementById('dw-updated-at').textContent = new Date().toISOString();
      root.setAttribute('data-state', 'ready');
    }).catch(function (err) {
      root.setAttribute('data-state', err.unauthorized ? 'unauthorized' : 'error');
      errorEl.textContent = err.message;
      errorEl.hidden = false;
    });
  }

  document.getElementById('dw-token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, document.getElementById('dw-token').value); } catch (e) { /* storage disabled */ }
    load();
  });
  window.driftwatchStatus = { reload: load };
  load();
  setInterval(load, 30000);
})();
`;
