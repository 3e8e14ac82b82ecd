// apiguard NOC dashboard: polls the REST API of the server that served it.
// Authentication: open the page once as /?token=TOKEN; the token is kept in
// sessionStorage (this tab only) and removed from the address bar. Without
// a tokens file on the server (loopback-only mode) no token is needed.
'use strict';

const TACTICS = ['reconnaissance', 'resource-development', 'initial-access', 'execution',
  'persistence', 'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery',
  'lateral-movement', 'collection', 'command-and-control', 'exfiltration', 'impact'];
const POLL_MS = 2000;
const LAYER_MS = 10000;
const ENDPOINTS_MS = 5000;

(function takeToken() {
  const u = new URL(window.location.href);
  const t = u.searchParams.get('token');
  if (t) {
    sessionStorage.setItem('apiguard.token', t);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + u.search + u.hash);
  }
})();

const $ = (id) => document.getElementById(id);
const fmt = (n) => (n === undefined || n === null || isNaN(n)) ? '–' :
  n >= 1e9 ? (n / 1e9).toFixed(2) + 'G' : n >= 1e6 ? (n / 1e6).toFixed(2) + 'M' :
  n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : (Math.round(n * 10) / 10).toString();

async function api(path) {
  const headers = {};
  const t = sessionStorage.getItem('apiguard.token');
  if (t) headers.Authorization = 'Bearer ' + t;
  const r = await fetch(path, { headers, cache: 'no-store' });
  if (r.status === 401 || r.status === 403) {
    throw new Error('not authorised (' + r.status + '): open this page as /?token=YOUR_TOKEN');
  }
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'style') e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => el('tr', {}, ...cells.map((c) =>
    c instanceof Node ? el('td', {}, c) : el('td', {}, c)))));
}

let prev = null;   // previous stats sample
let cursor = 0;    // alert cursor
const latest = []; // newest first

function rate(now, before, dt, get) {
  if (!before || dt <= 0) return undefined;
  return Math.max(0, (get(now) - get(before)) / dt);
}

function sum(arr, key) { return (arr || []).reduce((a, o) => a + (o[key] || 0), 0); }

function topList(ol, counts) {
  const items = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]).slice(0, 8);
  const max = items.length ? items[0][1] : 1;
  ol.replaceChildren(...items.map(([k, n]) => el('li', {}, el('span', {}, k),
    el('span', { class: 'bar', style: 'width:' + Math.max(2, 100 * n / max) + '%' }),
    el('span', { class: 'n' }, fmt(n)))));
  if (!items.length) ol.replaceChildren(el('li', { class: 'muted' }, 'none yet'));
}

function showStats(s) {
  const now = performance.now() / 1000;
  const dt = prev ? now - prev.t : 0;
  const t = s.total || {};
  const ports = s.ports || [];
  const dropsOf = (x) => (x.total.drop_verdict || 0) + (x.total.drop_flow || 0) + (x.total.drop_policy || 0) +
    sum(x.ports, 'rx_missed') + sum(x.ports, 'rx_nombuf');
  $('pps').textContent = fmt(rate(s, prev && prev.s, dt, (x) => sum(x.ports, 'rx_packets')));
  const bps = rate(s, prev && prev.s, dt, (x) => sum(x.ports, 'rx_bytes'));
  $('mbps').textContent = bps === undefined ? '–' : fmt(bps * 8 / 1e6);
  $('rps').textContent = fmt(rate(s, prev && prev.s, dt, (x) => x.total.http_requests || 0));
  $('aps').textContent = fmt(rate(s, prev && prev.s, dt, (x) => (x.alerts && x.alerts.alerts) || 0));
  $('dps').textContent = fmt(rate(s, prev && prev.s, dt, dropsOf));
  $('rx-total').textContent = fmt(sum(ports, 'rx_packets'));
  $('alerts-total').textContent = fmt((s.alerts && s.alerts.alerts) || 0);
  fill($('ports').tBodies[0], ports.map((p, i) => {
    const q = prev && prev.s.ports && prev.s.ports[i];
    return [p.name, fmt(q && dt > 0 ? (p.rx_packets - q.rx_packets) / dt : undefined),
      fmt(q && dt > 0 ? (p.tx_packets - q.tx_packets) / dt : undefined),
      fmt(p.rx_packets), fmt(p.rx_missed), fmt(p.rx_nombuf), fmt((p.rx_errors || 0) + (p.tx_errors || 0))];
  }));
  fill($('workers').tBodies[0], (s.workers || []).map((w, i) => {
    const q = prev && prev.s.workers && prev.s.workers[i];
    return [w.id, fmt(q && dt > 0 ? (w.rx_packets - q.rx_packets) / dt : undefined),
      fmt(w.flow_active !== undefined ? w.flow_active : w.flow_created), fmt(w.http_requests),
      fmt((w.drop_verdict || 0) + (w.drop_flow || 0)), fmt(w.alerts)];
  }));
  topList($('top-techniques'), s.alerts && s.alerts.mitre_technique_id);
  topList($('top-owasp'), s.alerts && s.alerts.owasp_api);
  prev = { s, t: now };
}

function showStatus(st) {
  $('version').textContent = 'v' + st.version;
  $('uptime').textContent = Math.floor(st.uptime_s) + ' s';
  $('rules').textContent = st.rules.count;
  $('generation').textContent = st.rules.generation;
  $('distribution').textContent = st.distribution + ', ' + st.workers + ' worker(s)';
  const s = $('state');
  s.textContent = st.ready ? 'running' : 'starting';
  s.className = 'pill ' + (st.ready ? 'ok' : '');
}

function showAlerts(r) {
  for (const a of r.alerts) latest.unshift(a);
  latest.length = Math.min(latest.length, 25);
  cursor = r.next;
  fill($('alerts').tBodies[0], latest.map((a) => {
    const md = (a.alert && a.alert.metadata) || {};
    const act = el('span', { class: a.alert.action === 'blocked' ? 'blocked' : '' }, a.alert.action);
    const req = el('span', {}, ((a.http && a.http.http_method) || '') + ' ' + ((a.http && a.http.url) || '').slice(0, 80));
    return [a.timestamp.slice(11, 19), act, a.alert.signature_id, a.alert.signature,
      a.src_ip + ':' + a.src_port, req, (md.mitre_technique_id || []).join(', '), (md.owasp_api || []).join(', ')];
  }));
}

function showHeatmap(coverage, observed) {
  const byTactic = new Map(TACTICS.map((t) => [t, new Map()]));
  const add = (t, f) => {
    const tac = t.tactic || 'unplaced';
    if (!byTactic.has(tac)) byTactic.set(tac, new Map());
    const m = byTactic.get(tac);
    const c = m.get(t.techniqueID) || { covered: false, score: 0 };
    f(c, t);
    m.set(t.techniqueID, c);
  };
  for (const t of coverage.techniques) add(t, (c) => { c.covered = true; });
  for (const t of observed.techniques) add(t, (c, x) => { c.score = x.score; });
  const max = Math.max(1, ...observed.techniques.map((t) => t.score));
  const cols = [];
  for (const [tac, m] of byTactic) {
    if (!m.size) continue;
    const cells = [...m.entries()].sort((a, b) => b[1].score - a[1].score || a[0].localeCompare(b[0]))
      .map(([id, c]) => el('div', {
        class: 'cell' + (c.covered ? ' covered' : ''), title: id + ': ' + c.score + ' alert(s)',
        style: c.score ? 'background: rgba(224,60,49,' + (0.25 + 0.75 * c.score / max).toFixed(2) + ')' : '',
      }, id + (c.score ? ' · ' + fmt(c.score) : '')));
    cols.push(el('div', { class: 'tactic' }, el('h3', {}, tac.replace(/-/g, ' ')), ...cells));
  }
  $('heatmap').replaceChildren(...(cols.length ? cols : [el('span', { class: 'muted' }, 'no techniques')]));
}

function showEndpoints(inv) {
  const eps = (inv.endpoints || []).slice().sort((a, b) => b.requests - a.requests);
  $('endpoints-total').textContent = fmt(eps.length);
  const rows = eps.slice(0, 50).map((e) => {
    const st = e.status || {};
    const total = (e.authenticated || 0) + (e.unauthenticated || 0);
    const last = e.last_seen ? new Date(e.last_seen * 1000).toISOString().slice(11, 19) : '–';
    return [e.method, e.host, el('code', {}, e.template), fmt(e.requests), fmt(st['2xx'] || 0),
      fmt(st['4xx'] || 0), fmt(st['5xx'] || 0),
      total ? Math.round(100 * (e.authenticated || 0) / total) + '%' : '–',
      el('span', { class: (e.sensitive || []).length ? 'blocked' : '' }, (e.sensitive || []).join(', ')),
      e.source, last];
  });
  fill($('endpoints').tBodies[0], rows);
  if (!rows.length) {
    $('endpoints').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '11', class: 'muted' },
      'no API traffic seen yet')));
  }
}

async function endpoints() {
  // The inventory is optional: without the analytics stage (503) the rest
  // of the page still works.
  try {
    const [inv, bl] = await Promise.all([api('/api/v1/endpoints'), api('/api/v1/blocklist')]);
    showEndpoints(inv);
    const kinds = (bl.entries || []).reduce((a, x) => { a[x.kind] = (a[x.kind] || 0) + 1; return a; }, {});
    $('blocked-total').textContent = fmt(kinds.client || 0) + ', ' + fmt(kinds.identity || 0);
    document.body.dataset.endpoints = '1';
  } catch (e) {
    $('endpoints').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '11', class: 'muted' },
      'inventory unavailable: ' + String(e.message || e))));
  }
}

async function exportOpenapi() {
  try {
    const doc = await api('/api/v1/endpoints?format=openapi');
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
    const a = el('a', { href: url, download: 'apiguard-inventory.openapi.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    problem(e);
  }
}

// Campaigns: the open ones in a table; clicking a row shows its timeline
// (GET /campaigns/{id}). Optional like the inventory (503 without the engine).
let campaignShown = 0;

function campaignTimeline(c) {
  const box = $('campaign-timeline');
  const rows = (c.alerts || []).map((a) => el('li', {},
    el('span', { class: 'muted' }, (a.timestamp || '').slice(11, 23) + ' '),
    el('b', {}, String(a.signature_id)), ' ', a.signature || '', ' ',
    el('span', { class: 'muted' }, (a.client || '') + ' ' + (a.url || '') + ' '),
    (a.new_tactics || []).length ? el('span', { class: 'pill' }, '+ ' + a.new_tactics.join(', ')) : ''));
  box.replaceChildren(el('h3', {}, 'campaign ' + c.id + ': ' + c.stage + ' ',
    el('a', { href: '/api/v1/campaigns/' + c.id + '/layer', download: 'campaign-' + c.id + '-layer.json' },
      'Navigator layer')), el('ol', {}, ...rows));
}

async function showCampaign(id) {
  try {
    campaignShown = id;
    campaignTimeline(await api('/api/v1/campaigns/' + id));
  } catch (e) {
    problem(e);
  }
}

async function campaigns() {
  try {
    const r = await api('/api/v1/campaigns?open=1&limit=20');
    const rows = (r.campaigns || []).map((c) => {
      const a = c.actor || {};
      const actor = (a.clients || []).join(', ') +
        ((a.identities || []).length ? ' + ' + a.identities.length + ' identit' + (a.identities.length > 1 ? 'ies' : 'y') : '') +
        ((a.blocked || []).length ? ' (blocked)' : '');
      return [String(c.id), el('b', {}, c.stage), (c.tactics || []).join(' → '), actor,
        fmt(c.alert_count), fmt(c.objects), fmt(c.bytes), (c.first_seen || '').slice(11, 19),
        (c.last_seen || '').slice(11, 19)];
    });
    fill($('campaigns').tBodies[0], rows);
    Array.from($('campaigns').tBodies[0].rows).forEach((tr, i) => {
      tr.style.cursor = 'pointer';
      tr.addEventListener('click', () => showCampaign(r.campaigns[i].id));
    });
    if (!rows.length) {
      $('campaigns').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '9', class: 'muted' },
        'no open campaign')));
    } else if (!campaignShown) {
      showCampaign(r.campaigns[0].id);
    }
    document.body.dataset.campaigns = '1';
  } catch (e) {
    $('campaigns').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '9', class: 'muted' },
      'campaigns unavailable: ' + String(e.message || e))));
  }
}

function problem(e) {
  const b = $('banner');
  b.hidden = false;
  b.textContent = String(e.message || e);
  $('state').textContent = 'error';
  $('state').className = 'pill bad';
}

async function tick() {
  try {
    const [st, s, al] = await Promise.all([api('/api/v1/status'), api('/api/v1/stats'),
      api('/api/v1/alerts?since=' + cursor + '&limit=200')]);
    showStatus(st);
    showStats(s);
    showAlerts(al);
    $('banner').hidden = true;
    document.body.dataset.ready = '1';
  } catch (e) {
    problem(e);
  }
}

async function layers() {
  try {
    const [c, o] = await Promise.all([api('/api/v1/attack/layer?kind=coverage'),
      api('/api/v1/attack/layer?kind=observed')]);
    showHeatmap(c, o);
    document.body.dataset.heatmap = '1';
  } catch (e) {
    problem(e);
  }
}

$('export-openapi').addEventListener('click', exportOpenapi);
tick();
layers();
endpoints();
campaigns();
setInterval(tick, POLL_MS);
setInterval(layers, LAYER_MS);
setInterval(endpoints, ENDPOINTS_MS);
setInterval(campaigns, ENDPOINTS_MS);
