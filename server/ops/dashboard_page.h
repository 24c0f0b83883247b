// The job dashboard's page and script (server/ops/dashboard.h), embedded in the
// binary. The page holds no job data: the script polls /api/jobs and
// /api/jobs/<id> every second and draws the plots as SVG. Every piece of text
// from the server goes into the document through textContent or
// setAttribute, never as markup, so labels cannot inject HTML.
#ifndef NNFT_SERVER_OPS_DASHBOARD_PAGE_H_
#define NNFT_SERVER_OPS_DASHBOARD_PAGE_H_

namespace nnft::server {

inline constexpr char kDashboardHtml[] = R"nnft_html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nnft jobs</title>
<style>
[hidden] { display: none !important; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 16px 0 4px; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #ddd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.sel { background: #eef4ff; }
#status { color: #a00; min-height: 1.4em; }
#tokenform { float: right; }
.RUNNING { color: #06c; } .SUCCEEDED { color: #080; }
.FAILED { color: #c00; } .CANCELLED { color: #888; } .QUEUED { color: #a60; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
svg { background: #fff; border: 1px solid #ccc; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .grid { stroke: #eee; } svg .axis { stroke: #555; fill: none; }
svg .diag { stroke: #999; stroke-dasharray: 4 3; fill: none; }
svg .fit { stroke: #c60; stroke-width: 1.5; fill: none; }
svg .err { stroke: #579; } svg .bad .err { stroke: #c33; }
svg circle.mark { fill: #06c; } svg .bad circle.mark { fill: #c33; }
svg rect.theory { fill: none; stroke: #080; stroke-width: 1.5; }
.note { color: #666; }
</style>
</head>
<body>
<form id="tokenform">
<input id="token" type="password" autocomplete="off" placeholder="bearer token" size="24">
<button type="submit">Use token</button>
<button type="button" id="forget">Forget</button>
</form>
<h1>nnft jobs</h1>
<div id="status"></div>
<table id="jobs">
<thead><tr><th>job</th><th>label</th><th>state</th><th>progress</th>
<th>networks</th><th>rate /s</th><th>ETA</th></tr></thead>
<tbody></tbody>
</table>
<div id="detail" hidden>
<h2 id="title"></h2>
<div id="summary" class="note"></div>
<div class="plots">
<svg id="parity" viewBox="0 0 560 420" width="560" height="420" role="img"></svg>
<svg id="residual" viewBox="0 0 560 420" width="560" height="420" role="img" hidden></svg>
<svg id="sweep" viewBox="0 0 560 420" width="560" height="420" role="img" hidden></svg>
</div>
<div id="fitnote" class="note"></div>
<table id="entries">
<thead><tr><th>tuple</th><th>mean</th><th>&plusmn; stderr</th><th>theory</th>
<th>z</th><th>verdict</th></tr></thead>
<tbody></tbody>
</table>
<div id="more" class="note"></div>
</div>
<script src="/dashboard.js"></script>
</body>
</html>
)nnft_html";

inline constexpr char kDashboardScript[] = R"nnft_js('use strict';
// nnft job dashboard: polls the JSON API every second and redraws.
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
let selected = decodeURIComponent(location.hash.slice(1));

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function svgEl(parent, tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) {
    const v = attrs[k];
    e.setAttribute(k, typeof v === 'number' ? +v.toFixed(2) : v);
  }
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}
function num(x, digits) {
  if (x === null || x === undefined || !isFinite(x)) return '\u2013';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential((digits || 4) - 1);
  return Number(x.toPrecision(digits || 4)).toString();
}
function count(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + 'G';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return String(n);
}
function duration(s) {
  if (s === null || !isFinite(s)) return '\u2013';
  if (s < 60) return Math.round(s) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem('nnft_token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch(path, {headers: headers, cache: 'no-store'});
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    throw {status: r.status, message: (body && body.error) || r.statusText};
  }
  return body;
}

function renderJobs(list) {
  const tbody = $('jobs').tBodies[0];
  tbody.replaceChildren();
  for (const j of list.jobs) {
    const tr = el('tr');
    if (j.id === selected) tr.className = 'sel';
    const link = el('a', j.id);
    link.href = '#' + j.id;
    const first = el('td');
    first.appendChild(link);
    tr.appendChild(first);
    tr.appendChild(el('td', j.label));
    tr.appendChild(el('td', j.state, j.state));
    const bar = el('progress');
    bar.max = Math.max(1, j.chunks_total);
    bar.value = j.chunks_done;
    const cell = el('td');
    cell.appendChild(bar);
    tr.appendChild(cell);
    tr.appendChild(el('td', count(j.networks_done) + ' / ' + count(j.networks_total), 'num'));
    tr.appendChild(el('td', j.rate === null ? '\u2013' : count(Math.round(j.rate)), 'num'));
    tr.appendChild(el('td', duration(j.eta_s), 'num'));
    tbody.appendChild(tr);
  }
  if (list.jobs.length === 0) {
    const tr = el('tr');
    tr.appendChild(el('td', 'no jobs yet', 'note'));
    tbody.appendChild(tr);
  }
}

function ticks(lo, hi, log) {
  if (log) {
    // 1, 2, 5 per decade; powers of ten alone over many decades.
    const all = [], tens = [];
    for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); ++p) {
      for (const m of [1, 2, 5]) {
        const t = m * Math.pow(10, p);
        if (t >= lo && t <= hi) { all.push(t); if (m === 1) tens.push(t); }
      }
    }
    if (tens.length >= 3 || all.length > 8) return tens;
    return all;
  }
  const span = hi - lo;
  const step0 = Math.pow(10, Math.floor(Math.log10(span / 5)));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

// A scatter plot with vertical error bars. o: {xlabel, ylabel, xlog, ylog,
// equal, diagonal, points: [{x, y, e, bad, title}], theory: [{x, y}],
// line: [[x, y], ...]}.
function plot(svg, o) {
  svg.replaceChildren();
  const W = 560, H = 420, L = 72, R = 16, T = 14, B = 46;
  const ok = (v, log) => isFinite(v) && (!log || v > 0);
  const xs = [], ys = [];
  for (const p of o.points) {
    xs.push(p.x);
    ys.push(p.y);
    if (isFinite(p.e)) { ys.push(p.y - p.e); ys.push(p.y + p.e); }
  }
  for (const p of o.theory || []) { xs.push(p.x); ys.push(p.y); }
  for (const p of o.line || []) { xs.push(p[0]); ys.push(p[1]); }
  const fx = xs.filter((v) => ok(v, o.xlog)), fy = ys.filter((v) => ok(v, o.ylog));
  if (fx.length === 0 || fy.length === 0) {
    svgEl(svg, 'text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'}, 'no data yet');
    return 0;
  }
  const f = (v, log) => (log ? Math.log10(v) : v);
  let x0 = Math.min(...fx.map((v) => f(v, o.xlog))), x1 = Math.max(...fx.map((v) => f(v, o.xlog)));
  let y0 = Math.min(...fy.map((v) => f(v, o.ylog))), y1 = Math.max(...fy.map((v) => f(v, o.ylog)));
  if (o.equal) { x0 = y0 = Math.min(x0, y0); x1 = y1 = Math.max(x1, y1); }
  const pad = (a, b) => { const d = (b - a) || Math.abs(a) || 1; return [a - 0.06 * d, b + 0.06 * d]; };
  [x0, x1] = pad(x0, x1);
  [y0, y1] = pad(y0, y1);
  const sx = (v) => L + (f(v, o.xlog) - x0) / (x1 - x0) * (W - L - R);
  const sy = (v) => H - B - (f(v, o.ylog) - y0) / (y1 - y0) * (H - T - B);
  const inv = (v, log) => (log ? Math.pow(10, v) : v);
  for (const t of ticks(inv(x0, o.xlog), inv(x1, o.xlog), o.xlog)) {
    svgEl(svg, 'line', {x1: sx(t), x2: sx(t), y1: T, y2: H - B, class: 'grid'});
    svgEl(svg, 'text', {x: sx(t), y: H - B + 15, 'text-anchor': 'middle'}, num(t, 3));
  }
  for (const t of ticks(inv(y0, o.ylog), inv(y1, o.ylog), o.ylog)) {
    svgEl(svg, 'line', {x1: L, x2: W - R, y1: sy(t), y2: sy(t), class: 'grid'});
    svgEl(svg, 'text', {x: L - 5, y: sy(t) + 4, 'text-anchor': 'end'}, num(t, 3));
  }
  svgEl(svg, 'rect', {x: L, y: T, width: W - L - R, height: H - T - B, class: 'axis'});
  svgEl(svg, 'text', {x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle'}, o.xlabel);
  svgEl(svg, 'text', {x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle',
    transform: 'rotate(-90 14 ' + (T + H - B) / 2 + ')'}, o.ylabel);
  if (o.zero && y0 < 0 && y1 > 0) {
    svgEl(svg, 'line', {x1: L, x2: W - R, y1: sy(0), y2: sy(0), class: 'diag'});
  }
  if (o.diagonal) {
    const a = inv(Math.max(x0, y0), o.xlog), b = inv(Math.min(x1, y1), o.xlog);
    svgEl(svg, 'line', {x1: sx(a), y1: sy(a), x2: sx(b), y2: sy(b), class: 'diag'});
  }
  if (o.line && o.line.length > 1) {
    const d = o.line.filter((p) => ok(p[0], o.xlog) && ok(p[1], o.ylog))
      .map((p, i) => (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1));
    svgEl(svg, 'path', {d: d.join(' '), class: 'fit'});
  }
  for (const p of o.theory || []) {
    if (!ok(p.x, o.xlog) || !ok(p.y, o.ylog)) continue;
    svgEl(svg, 'rect', {x: sx(p.x) - 4, y: sy(p.y) - 4, width: 8, height: 8, class: 'theory'});
  }
  let drawn = 0;
  for (const p of o.points) {
    if (!ok(p.x, o.xlog) || !ok(p.y, o.ylog)) continue;
    const g = svgEl(svg, 'g', p.bad ? {class: 'bad'} : {});
    if (isFinite(p.e) && p.e > 0) {
      const lo = o.ylog ? Math.max(p.y - p.e, inv(y0, true)) : p.y - p.e;
      const cx = sx(p.x);
      svgEl(g, 'line', {x1: cx, x2: cx, y1: sy(lo), y2: sy(p.y + p.e), class: 'err'});
      svgEl(g, 'line', {x1: cx - 3, x2: cx + 3, y1: sy(p.y + p.e), y2: sy(p.y + p.e), class: 'err'});
      svgEl(g, 'line', {x1: cx - 3, x2: cx + 3, y1: sy(lo), y2: sy(lo), class: 'err'});
    }
    const c = svgEl(g, 'circle', {cx: sx(p.x), cy: sy(p.y), r: 3.5, class: 'mark'});
    if (p.title) svgEl(c, 'title', {}, p.title);
    ++drawn;
  }
  return drawn;
}

function tupleText(t) { return '(' + t.join(',') + ')'; }

function renderParity(d) {
  const withTheory = d.entries.filter((e) => e.theory !== null && e.mean !== null);
  const points = withTheory.map((e) => ({x: e.theory, y: e.mean, e: e.stderr,
    bad: e.z !== null && Math.abs(e.z) > 3,
    title: 'G' + tupleText(e.tuple) + ' = ' + num(e.mean) + ' \u00b1 ' + num(e.stderr) +
      ', theory ' + num(e.theory) + ', z = ' + num(e.z, 2)}));
  $('residual').toggleAttribute('hidden', points.length === 0 || d.sweep !== null);
  if (points.length > 0) {
    plot($('parity'), {points: points, equal: true, diagonal: true,
      xlabel: 'theory (' + d.theory.kind + ')', ylabel: 'Monte Carlo mean \u00b1 stderr'});
    // The same entries as deviations: the error bars shrink as networks come in.
    plot($('residual'), {zero: true, xlabel: 'theory (' + d.theory.kind + ')',
      ylabel: 'Monte Carlo mean \u2212 theory \u00b1 stderr',
      points: points.map((p) => ({x: p.x, y: p.y - p.x, e: p.e, bad: p.bad, title: p.title}))});
    return;
  }
  // No theory for this job: the estimates by entry.
  plot($('parity'), {xlabel: 'entry', ylabel: 'Monte Carlo mean \u00b1 stderr',
    points: d.entries.map((e, i) => ({x: i, y: e.mean, e: e.stderr,
      title: 'G' + tupleText(e.tuple) + ' = ' + num(e.mean) + ' \u00b1 ' + num(e.stderr)}))});
}

function renderSweep(d) {
  const svg = $('sweep');
  const fit = d.sweep && d.sweep.fits.length ? d.sweep.fits[0] : null;
  svg.toggleAttribute('hidden', !fit);
  $('fitnote').textContent = '';
  if (!fit) return;
  const ws = fit.points.map((p) => p.width);
  const line = [];
  if (isFinite(fit.amplitude) && isFinite(fit.exponent) && ws.length) {
    const a = Math.min(...ws), b = Math.max(...ws);
    for (let i = 0; i <= 20; ++i) {
      const w = a * Math.pow(b / a, i / 20);
      line.push([w, fit.amplitude * Math.pow(w, fit.exponent)]);
    }
  }
  plot(svg, {xlog: true, ylog: true, line: line,
    xlabel: 'width N', ylabel: '|G' + fit.order + '_c' + tupleText(fit.tuple) + '| \u00b1 stderr',
    points: fit.points.map((p) => ({x: p.width, y: Math.abs(p.value), e: p.stderr,
      title: 'N = ' + p.width + ': ' + num(p.value) + ' \u00b1 ' + num(p.stderr)})),
    theory: fit.points.filter((p) => p.theory !== null)
      .map((p) => ({x: p.width, y: Math.abs(p.theory)}))});
  $('fitnote').textContent = 'fit |G_c| = A N^s: s = ' + num(fit.exponent) + ' \u00b1 ' +
    num(fit.exponent_stderr) + ' (expected ' + num(fit.expected_exponent) + ', z = ' +
    num(fit.z, 2) + '), A = ' + num(fit.amplitude) + ' \u00b1 ' + num(fit.amplitude_stderr) +
    '; circles: Monte Carlo, squares: exact theory, line: fit' +
    (d.sweep.fits_total > 1 ? '; first of ' + d.sweep.fits_total + ' fits' : '');
}

function renderDetail(d) {
  $('detail').hidden = false;
  const j = d.job;
  $('title').textContent = j.name + (j.label ? ' \u2014 ' + j.label : '') + ' (' + j.state + ')';
  const parts = [];
  if (d.estimate) {
    parts.push(count(d.estimate.networks) + ' networks' +
      (d.estimate.width ? ' at width ' + d.estimate.width : ''));
  }
  parts.push('theory: ' + (d.theory.kind === 'none' ? 'none' : d.theory.method));
  if (d.summary.dof > 0) {
    parts.push('chi2/dof = ' + num(d.summary.chi2_per_dof, 3) + ' over ' + d.summary.dof +
      ' entries, max |z| = ' + num(d.summary.max_abs_z, 3));
  }
  if (d.error) parts.push('error: ' + d.error);
  $('summary').textContent = parts.join('; ');
  renderParity(d);
  renderSweep(d);
  const tbody = $('entries').tBodies[0];
  tbody.replaceChildren();
  const shown = d.entries.slice(0, 50);
  for (const e of shown) {
    const tr = el('tr');
    tr.appendChild(el('td', tupleText(e.tuple)));
    tr.appendChild(el('td', num(e.mean, 6), 'num'));
    tr.appendChild(el('td', num(e.stderr, 3), 'num'));
    tr.appendChild(el('td', num(e.theory, 6), 'num'));
    tr.appendChild(el('td', num(e.z, 3), 'num'));
    tr.appendChild(el('td', e.verdict === null ? '\u2013' : e.verdict));
    tbody.appendChild(tr);
  }
  $('more').textContent = d.entries_total > shown.length
    ? shown.length + ' of ' + d.entries_total + ' entries listed' : '';
}

async function tick() {
  try {
    const list = await api('/api/jobs');
    if (!selected && list.jobs.length) selected = list.jobs[0].id;
    $('status').textContent = '';
    renderJobs(list);
    if (selected) renderDetail(await api('/api/jobs/' + encodeURIComponent(selected)));
  } catch (e) {
    if (e.status === 401) {
      $('status').textContent = 'This server needs a token: enter it above (' + e.message + ').';
      $('jobs').tBodies[0].replaceChildren();
      $('detail').hidden = true;
    } else if (e.status === 404 && selected) {
      $('status').textContent = 'job ' + selected + ': not found';
      $('detail').hidden = true;
    } else {
      $('status').textContent = 'error: ' + (e.message || e);
    }
  }
  setTimeout(tick, 1000);
}

$('tokenform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('nnft_token', $('token').value.trim());
  $('token').value = '';
});
$('forget').addEventListener('click', () => sessionStorage.removeItem('nnft_token'));
window.addEventListener('hashchange', () => {
  selected = decodeURIComponent(location.hash.slice(1));
});
tick();
)nnft_js";

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_DASHBOARD_PAGE_H_
