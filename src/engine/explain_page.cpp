// The explain page: one self-contained HTML file. The C++ side writes the text and the exact
// states as JSON; the script draws them (SVG, no libraries, no network). Coordinates in the JSON are
// doubles for drawing only; every number a reader may rely on is also there exactly (as text).
#include "interpcert/explain.hpp"

#include <cmath>
#include <cstdio>

namespace interpcert {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char ch : s) o += ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : ch == '&' ? "&amp;" : ch == '"' ? "&quot;" : std::string(1, ch);
  return o;
}

// A JSON string literal that is also safe inside <script> ("<" escaped).
void js(std::string& o, const std::string& s) {
  o += '"';
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\', o += static_cast<char>(ch);
    else if (ch == '\n') o += "\\n";
    else if (ch == '<') o += "\\u003c";
    else if (ch < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", ch);
      o += b;
    } else o += static_cast<char>(ch);
  }
  o += '"';
}

void jd(std::string& o, double v) {
  if (!std::isfinite(v)) v = v > 0 ? 1e300 : v < 0 ? -1e300 : 0;
  char b[32];
  std::snprintf(b, sizeof b, "%.12g", v);
  o += b;
}

template <class T, class F>
void jarr(std::string& o, const std::vector<T>& v, F each) {
  o += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) o += ',';
    each(v[i]);
  }
  o += ']';
}

std::string page_json(const Explanation& ex, const std::string& name) {
  const ExplainDrawing& d = ex.drawing;
  std::string o = "{\"name\":";
  js(o, name);
  o += ",\"xLabel\":", js(o, d.x_label);
  o += ",\"yLabel\":", js(o, d.y_label);
  o += ",\"contextsTotal\":" + std::to_string(d.contexts_total) + ",\"contexts\":";
  jarr(o, d.sequences_of_context, [&](const auto& s) { jarr(o, s, [&](std::size_t j) { o += std::to_string(j); }); });
  o += ",\"tokens\":";
  jarr(o, d.tokens, [&](const auto& t) {
    o += "{\"c\":" + std::to_string(t.context) + ",\"s\":" + std::to_string(t.sequence) + ",\"p\":" + std::to_string(t.position) +
         ",\"label\":";
    js(o, t.label);
    o += ",\"target\":";
    js(o, t.target);
    o += '}';
  });
  o += ",\"frames\":";
  jarr(o, d.frames, [&](const auto& f) {
    o += "{\"label\":";
    js(o, f.label);
    o += ",\"x\":";
    jarr(o, f.x, [&](double v) { jd(o, v); });
    o += ",\"y\":";
    jarr(o, f.y, [&](double v) { jd(o, v); });
    o += ",\"z\":";
    jarr(o, f.z, [&](const std::string& z) { js(o, z); });
    o += '}';
  });
  o += ",\"steps\":";
  jarr(o, ex.steps, [&](const ExplainStep& s) {
    o += "{\"id\":", js(o, s.id);
    o += ",\"title\":", js(o, s.title);
    o += ",\"lemma\":", js(o, s.lemma);
    o += ",\"plan\":", js(o, s.plan);
    o += ",\"here\":", js(o, s.here);
    o += ",\"check\":", js(o, s.check);
    o += ",\"checkKind\":", js(o, s.check_kind);
    o += std::string(",\"hasCheck\":") + (s.has_check ? "true" : "false") + ",\"holds\":" + (s.check_holds ? "true" : "false");
    const StepFigure& f = s.figure;
    o += ",\"from\":" + std::to_string(f.frame_from) + ",\"to\":" + std::to_string(f.frame_to) + ",\"focus\":";
    jarr(o, f.focus, [&](std::size_t i) { o += std::to_string(i); });
    o += ",\"att\":";
    jarr(o, f.attention, [&](const auto& a) {
      o += '[';
      o += std::to_string(a.first);  // appended piece by piece: GCC 12 warns (-Wrestrict) on "[" + ...
      o += ',';
      o += std::to_string(a.second);
      o += ']';
    });
    o += ",\"bands\":";
    jarr(o, f.bands, [&](const auto& b) {
      o += "{\"a\":", jd(o, b.a), o += ",\"b\":", jd(o, b.b), o += ",\"lo\":", jd(o, b.lo), o += ",\"hi\":", jd(o, b.hi);
      o += ",\"label\":", js(o, b.label);
      o += ",\"px\":", jd(o, b.px), o += ",\"py\":", jd(o, b.py);
      if (b.has_setter) o += ",\"sx\":", jd(o, b.sx), o += ",\"sy\":", jd(o, b.sy);
      o += '}';
    });
    o += ",\"marks\":";
    jarr(o, f.marks, [&](const auto& m) {
      o += "{\"x\":", jd(o, m.x), o += ",\"y\":", jd(o, m.y), o += ",\"label\":", js(o, m.label), o += '}';
    });
    o += '}';
  });
  o += '}';
  return o;
}

const char* kStyle = R"CSS(
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:0 12px 2em;max-width:1400px;line-height:1.4;color:#222}
h1{font-size:1.35em;margin:.6em 0 .3em;overflow-wrap:anywhere}
h2{font-size:1.15em;margin:.2em 0}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.82em;margin:.4em 0}
.ok{color:#1b7f1b;font-weight:bold}.bad{color:#b00;font-weight:bold}
#controls{position:sticky;top:0;background:#fff;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:.4em;
  padding:.4em 0;border-bottom:1px solid #ddd}
#controls input[type=range]{flex:1 1 200px;min-width:120px}
#controls button{font-size:1em;padding:.2em .7em}
#stepname{font-weight:bold;min-width:12em}
#layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1em;margin-top:.6em}
@media (max-width:900px){#layout{grid-template-columns:minmax(0,1fr)}}
#fig{width:100%;height:auto;display:block;border:1px solid #ccc;background:#fcfcfc;touch-action:pan-y}
#caption{font-size:.85em;color:#444;margin:.3em 0}
#legend{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.8em;margin:.3em 0}
#legend span.sw{display:inline-block;width:.9em;height:.9em;border-radius:50%;vertical-align:-.1em;margin-right:.25em}
.lemma{font-style:italic}.plan{color:#345}
table{border-collapse:collapse;font-size:.82em;width:100%}
td,th{border-bottom:1px solid #eee;padding:.15em .4em;text-align:left;font-family:ui-monospace,monospace}
tr.row:hover,tr.row.hl{background:#ffe9a8;cursor:default}
g.pt.hl circle.body{stroke:#000;stroke-width:3}
g.pt.dim{opacity:.35}
g.hidden{display:none}
nav#steps{font-size:.8em;display:flex;flex-wrap:wrap;gap:.25em;margin:.3em 0}
nav#steps a{padding:.05em .45em;border:1px solid #ccc;border-radius:.8em;text-decoration:none;color:#234}
nav#steps a.cur{background:#234;color:#fff}
)CSS";

const char* kScript = R"JS(
(function(){
const D = JSON.parse(document.getElementById('data').textContent);
const svg = document.getElementById('fig'), slider = document.getElementById('slider');
const NS = 'http://www.w3.org/2000/svg';
const PAL = ['#1f77b4','#d62728','#2ca02c','#9467bd','#ff7f0e','#17becf','#8c564b','#e377c2','#7f7f7f','#bcbd22'];
function color(c){ return D.contextsTotal <= 10 ? PAL[c % 10] : 'hsl(' + Math.round((c * 137.508) % 360) + ',65%,42%)'; }
function el(tag, attrs, parent, text){
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(v){
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(+v.toPrecision(4));
}
function ticks(lo, hi){
  const span = hi - lo, raw = span / 5, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * p).find(s => span / s <= 6) || 10 * p;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Math.abs(t) < 1e-12 * step ? 0 : t);
  return out;
}
function clip(poly, a, b, c){  // keep a x + b y >= c
  const out = [];
  for (let i = 0; i < poly.length; ++i){
    const p = poly[i], q = poly[(i + 1) % poly.length];
    const fp = a * p[0] + b * p[1] - c, fq = a * q[0] + b * q[1] - c;
    if (fp >= 0) out.push(p);
    if ((fp >= 0) !== (fq >= 0)){ const t = fp / (fp - fq); out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]); }
  }
  return out;
}
let cur = 0, hot = -1;
function draw(){
  const S = D.steps[cur], F = D.frames, T = D.tokens, kind = S.id.split(':')[0];
  // The state drawn: the end of the step, except for the hats: their windows are about the state
  // before them (the trails then lead to the targets).
  const shown = kind === 'hats' ? S.from : S.to, fin = F[shown];
  const W = Math.max(320, Math.round(svg.getBoundingClientRect().width || 640)), H = Math.round(Math.max(300, Math.min(W * 0.75, 620)));
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('height', H);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const defs = el('defs', {}, svg);
  const mk = el('marker', {id: 'head', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse'}, defs);
  el('path', {d: 'M0 0L10 5L0 10z', fill: '#555'}, mk);
  const cp = el('clipPath', {id: 'plot'}, defs);
  if (!T.length){ el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 14}, svg, 'no figure: the construction was not attempted'); return; }
  // What to zoom on (what the step is about): a code layer, the state after it (classes, leaders);
  // promotions, the promoted points before and after; hats, the requirement positions and their
  // windows before they move; the counting step, the whole journey with the targets.
  const all = T.map((_, i) => i);
  let zoom = all, zf = S.from, zt = S.to, why = '';
  if (kind === 'code') { zf = S.to; why = 'Zoomed to the state after the layer (the trails come from below: each token moved by lambda (k.leader) w).'; }
  else if (kind === 'promote' && S.focus.length) { zoom = S.focus; why = 'Zoomed to the promoted points.'; }
  else if (kind === 'hats' && S.focus.length && S.from < S.to) { zoom = S.focus; zt = S.from; why = 'Zoomed to the requirement positions and their windows; the trails leave towards the targets (whole journey: step count).'; }
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const grow = (x, y) => { if (isFinite(x) && isFinite(y)){ x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); } };
  for (const i of zoom) for (let f = zf; f <= zt; ++f) grow(F[f].x[i], F[f].y[i]);
  if (zt === S.to) for (const m of S.marks) grow(m.x, m.y);
  if (zoom !== all)  // each window's width where its point sits, so that the window shows around it
    for (const b of S.bands) {
      if (b.a !== 0) { grow((b.lo - b.b * b.py) / b.a, b.py); grow((b.hi - b.b * b.py) / b.a, b.py); }
      if (b.sx !== undefined && S.bands.length <= 6) grow(b.sx, b.sy);  // the point that sets delta
    }
  // The axes scale independently; a degenerate range (all points on one line) gets a small width.
  if (!(x0 <= x1)) { x0 = -1; x1 = 1; }
  if (!(y0 <= y1)) { y0 = -1; y1 = 1; }
  let dx = x1 - x0, dy = y1 - y0;
  const thin = (lo, hi) => { const e = Math.max(0.5, 0.05 * Math.max(Math.abs(lo), Math.abs(hi))); return [lo - e, hi + e]; };
  if (dx < 1e-9 * Math.max(1, Math.abs(x0))) [x0, x1] = thin(x0, x1);
  if (dy < 1e-9 * Math.max(1, Math.abs(y0))) [y0, y1] = thin(y0, y1);
  dx = x1 - x0; dy = y1 - y0;
  x0 -= 0.1 * dx; x1 += 0.1 * dx; y0 -= 0.12 * dy; y1 += 0.12 * dy;
  const L = 58, R = 14, Tp = 14, B = 46;
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - R), Y = y => H - B - (y - y0) / (y1 - y0) * (H - B - Tp);
  const inside = (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
  el('rect', {x: L, y: Tp, width: W - L - R, height: H - B - Tp}, cp);
  // Axes, ticks, grid.
  const ax = el('g', {class: 'axes', 'font-size': 11, fill: '#333'}, svg);
  for (const t of ticks(x0, x1)){
    el('line', {x1: X(t), x2: X(t), y1: Tp, y2: H - B, stroke: '#eee'}, ax);
    el('line', {x1: X(t), x2: X(t), y1: H - B, y2: H - B + 4, stroke: '#333'}, ax);
    el('text', {x: X(t), y: H - B + 16, 'text-anchor': 'middle', class: 'tick'}, ax, fmt(t));
  }
  for (const t of ticks(y0, y1)){
    el('line', {x1: L, x2: W - R, y1: Y(t), y2: Y(t), stroke: '#eee'}, ax);
    el('line', {x1: L - 4, x2: L, y1: Y(t), y2: Y(t), stroke: '#333'}, ax);
    el('text', {x: L - 6, y: Y(t) + 4, 'text-anchor': 'end', class: 'tick'}, ax, fmt(t));
  }
  el('rect', {x: L, y: Tp, width: W - L - R, height: H - B - Tp, fill: 'none', stroke: '#999'}, ax);
  el('text', {x: L + (W - L - R) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-label', 'font-size': 12}, ax, D.xLabel);
  el('text', {x: 13, y: Tp + (H - B - Tp) / 2, 'text-anchor': 'middle', class: 'axis-label', 'font-size': 12,
              transform: 'rotate(-90 13 ' + (Tp + (H - B - Tp) / 2) + ')'}, ax, D.yLabel);
  // Hat windows. Many windows would hide everything: then each shows when its point is hovered.
  const many = S.bands.length > 6;
  const bands = el('g', {class: 'bands', 'clip-path': 'url(#plot)'}, svg);
  S.bands.forEach((b, k) => {
    const box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    const p = clip(clip(box, b.a, b.b, b.lo), -b.a, -b.b, -b.hi);
    if (p.length < 3) return;
    const g = el('g', {class: 'band' + (many ? ' hidden' : ''), 'data-k': k, 'data-px': b.px, 'data-py': b.py}, bands);
    el('title', {}, g, b.label);
    el('polygon', {points: p.map(q => X(q[0]) + ',' + Y(q[1])).join(' '), fill: '#ffd54f', 'fill-opacity': 0.22, stroke: '#e0a800'}, g);
    const lx = X(b.px) - 12 - 50 < L ? X(b.px) + 12 + 50 : X(b.px) - 12;  // left of the point, or right near the edge
    if (S.bands.length <= 12 && inside(b.px, b.py))  // the label beside the point the window moves
      el('text', {x: lx, y: Y(b.py) + 4, 'font-size': 10, fill: '#7a5d00', 'text-anchor': 'end', class: 'band-label',
                  stroke: '#fff', 'stroke-width': 2.5, 'paint-order': 'stroke'}, g, 'window ' + (k + 1));
  });
  // The points that set the windows' deltas, drawn over everything else (below).
  const setters = () => {
    const sg = el('g', {class: 'setters'}, svg);
    S.bands.forEach((b, k) => {
      if (b.sx === undefined || !inside(b.sx, b.sy)) return;
      const sx = X(b.sx), sy = Y(b.sy), g = el('g', {class: 'setter' + (many ? ' hidden' : ''), 'data-k': k}, sg);
      el('title', {}, g, 'this point sets the delta of window ' + (k + 1) + ' (the nearest other point)');
      el('path', {d: 'M' + sx + ' ' + (sy - 11) + 'L' + (sx + 11) + ' ' + sy + 'L' + sx + ' ' + (sy + 11) + 'L' + (sx - 11) + ' ' + sy + 'z',
                  fill: 'none', stroke: '#7a5d00', 'stroke-width': 1.5, 'stroke-dasharray': '3 2'}, g);
    });
  };
  // Trails: every token that moved during the step, through every layer boundary.
  const trails = el('g', {class: 'trails', fill: 'none', 'clip-path': 'url(#plot)'}, svg);
  T.forEach((t, i) => {
    let moved = false;
    for (let f = S.from + 1; f <= S.to; ++f) moved = moved || F[f].z[i] !== F[f - 1].z[i];
    if (!moved) return;
    const pts = [];
    for (let f = S.from; f <= S.to; ++f) if (!pts.length || F[f].z[i] !== F[f - 1].z[i]) pts.push(X(F[f].x[i]) + ',' + Y(F[f].y[i]));
    el('polyline', {points: pts.join(' '), stroke: color(t.c), 'stroke-width': 1.3, 'stroke-dasharray': '4 3', 'stroke-opacity': 0.7, 'marker-end': 'url(#head)'}, trails);
    if (shown !== S.from) el('circle', {cx: X(F[S.from].x[i]), cy: Y(F[S.from].y[i]), r: 3.5, fill: '#fff', stroke: color(t.c), class: 'start'}, trails);
  });
  // Attention: leader -> token (code layers), on the state after the layer.
  const att = el('g', {class: 'attention', 'clip-path': 'url(#plot)'}, svg);
  S.att.slice(0, 400).forEach(([a, b]) => {
    if (fin.z[a] === fin.z[b]) return;
    const ax0 = X(fin.x[a]), ay0 = Y(fin.y[a]), bx = X(fin.x[b]), by = Y(fin.y[b]);
    const len = Math.hypot(bx - ax0, by - ay0); if (len < 12) return;
    const sh = 7 / len;
    el('line', {x1: ax0 + (bx - ax0) * sh, y1: ay0 + (by - ay0) * sh, x2: bx - (bx - ax0) * sh, y2: by - (by - ay0) * sh,
                stroke: color(T[a].c), 'stroke-width': 1, 'stroke-opacity': 0.45, 'marker-end': 'url(#head)', class: 'att'}, att);
  });
  // Targets.
  const marks = el('g', {class: 'marks'}, svg);
  for (const m of S.marks){
    if (!inside(m.x, m.y)) continue;
    const g = el('g', {class: 'target'}, marks); el('title', {}, g, m.label);
    const cx = X(m.x), cy = Y(m.y);
    el('path', {d: 'M' + (cx - 5) + ' ' + (cy - 5) + 'L' + (cx + 5) + ' ' + (cy + 5) + 'M' + (cx - 5) + ' ' + (cy + 5) + 'L' + (cx + 5) + ' ' + (cy - 5), stroke: '#000', 'stroke-width': 2}, g);
  }
  // Tokens, grouped by exact position: a shared point is split among its tokens' colours, with a badge.
  const groups = new Map();
  T.forEach((t, i) => { const k = fin.z[i]; if (!groups.has(k)) groups.set(k, []); groups.get(k).push(i); });
  const focus = new Set(S.focus), pts = el('g', {class: 'points'}, svg);
  let labels = 0;
  const placed = [], badges = [];
  // Groups the step is about first, so that their labels win the space.
  const order = [...groups].sort((a, b) => b[1].some(i => focus.has(i)) - a[1].some(i => focus.has(i)));
  for (const [z, ids] of order){
    const i0 = ids[0], cx = X(fin.x[i0]), cy = Y(fin.y[i0]);
    if (!inside(fin.x[i0], fin.y[i0])) continue;
    const g = el('g', {class: 'pt', 'data-tokens': ids.join(','), 'data-z': z}, pts);
    el('title', {}, g, ids.map(i => 'context ' + T[i].c + ' (sequence ' + T[i].s + '), token ' + T[i].label + ': now at ' + z +
        (T[i].target ? ' (output; target ' + T[i].target + ')' : '')).join('\n'));
    const cs = [...new Set(ids.map(i => T[i].c))], r = ids.length > 1 ? 7 : 5.5;
    if (cs.length === 1) el('circle', {cx, cy, r, fill: color(cs[0]), class: 'body', 'fill-opacity': 0.85}, g);
    else {
      el('circle', {cx, cy, r, fill: '#fff', class: 'body'}, g);
      const k = Math.min(cs.length, 12);
      for (let j = 0; j < k; ++j){
        const a0 = 2 * Math.PI * j / k - Math.PI / 2, a1 = 2 * Math.PI * (j + 1) / k - Math.PI / 2;
        el('path', {d: 'M' + cx + ' ' + cy + 'L' + (cx + r * Math.cos(a0)) + ' ' + (cy + r * Math.sin(a0)) + 'A' + r + ' ' + r + ' 0 0 1 ' +
                    (cx + r * Math.cos(a1)) + ' ' + (cy + r * Math.sin(a1)) + 'z', fill: color(cs[j])}, g);
      }
    }
    if (ids.some(i => focus.has(i))) el('circle', {cx, cy, r: r + 4, fill: 'none', stroke: '#000', 'stroke-width': 1.5, class: 'ring'}, g);
    const bw = 12 + 7 * String(ids.length).length, bbox = [cx + 4, cy - r - 13, cx + 4 + bw, cy - r + 1];
    if (ids.length > 1 && !badges.some(b => b[0] < bbox[2] && bbox[0] < b[2] && b[1] < bbox[3] && bbox[1] < b[3])){
      badges.push(bbox);
      el('rect', {x: cx + 4, y: cy - r - 13, width: bw, height: 14, rx: 7, fill: '#222', class: 'badge'}, g);
      el('text', {x: cx + 4 + bw / 2, y: cy - r - 2.5, 'font-size': 10, 'font-weight': 'bold', fill: '#fff', 'text-anchor': 'middle'}, g, '\u00d7' + ids.length);
    }
    if (labels < 40){  // focus first (sorted), then any that fit
      const names = [...new Set(ids.map(i => T[i].label))];
      const text = names.slice(0, 2).join(' / ') + (names.length > 2 ? ' \u2026' : '');
      const w = 6.2 * text.length, left = cx + 8 + w > W - R;  // near the right edge: label on the left
      const box = left ? [cx - 8 - w, cy + 3, cx - 8, cy + 16] : [cx + 8, cy + 3, cx + 8 + w, cy + 16];
      if (!placed.some(b => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])){
        placed.push(box); ++labels;
        el('text', {x: box[0], y: cy + 14, 'font-size': 11, class: 'label', fill: '#111', stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke'}, g, text);
      }
    }
    g.addEventListener('mouseenter', () => light(ids, true));
    g.addEventListener('mouseleave', () => light(ids, false));
  }
  setters();
  document.getElementById('caption').textContent = 'Figure: ' + (S.from === S.to ? 'the state ' + F[S.to].label :
    'from the state ' + F[S.from].label + ' to the state ' + F[S.to].label + '; the points show the state ' + F[shown].label) +
    (S.bands.some(b => b.sx !== undefined) ? '; a dashed diamond marks the point that sets a window\u2019s delta' : '') +
    (many ? '; ' + S.bands.length + ' windows: hover a point or a requirement row to see its window' : '') + '. Horizontal: ' + D.xLabel + '; vertical: ' + D.yLabel +
    '. ' + (D.contexts.length < D.contextsTotal ? 'Drawn: the first ' + D.contexts.length + ' of ' + D.contextsTotal + ' contexts. ' : '') + why;
  if (hot >= 0) light([hot], true);
  // For the browser test: does the page fit its window (no sideways scrolling)?
  document.body.dataset.scrollWidth = document.documentElement.scrollWidth;
  document.body.dataset.viewWidth = document.documentElement.clientWidth;
}
function light(ids, on){
  const set = new Set(ids.map(String)), fin = D.frames[D.steps[cur].id.startsWith('hats') ? D.steps[cur].from : D.steps[cur].to];
  for (const b of svg.querySelectorAll('g.band.hidden, g.band.shown')){
    const mine = ids.some(i => i >= 0 && +b.dataset.px === fin.x[i] && +b.dataset.py === fin.y[i]);
    if (!mine) continue;
    b.classList.toggle('hidden', !on); b.classList.toggle('shown', on);
    for (const st of svg.querySelectorAll('g.setter[data-k="' + b.dataset.k + '"]')) st.classList.toggle('hidden', !on);
  }
  for (const g of svg.querySelectorAll('g.pt')) if (g.dataset.tokens.split(',').some(i => set.has(i))) g.classList.toggle('hl', on);
  for (const r of document.querySelectorAll('tr.row')) if (set.has(r.dataset.tok)) r.classList.toggle('hl', on);
}
function legend(){
  const lg = document.getElementById('legend');
  let h = '';
  D.contexts.slice(0, 12).forEach((s, c) => { h += '<span class="ctx"><span class="sw" style="background:' + color(c) + '"></span>context ' + c +
    ' (seq ' + s.slice(0, 3).join(',') + (s.length > 3 ? ',\u2026' : '') + ')</span>'; });
  if (D.contextsTotal > 12) h += '<span>\u2026 ' + (D.contextsTotal - 12) + ' more contexts</span>';
  h += '<span>\u25cb start of the step, - - \u25b8 trail</span><span>\u25ef ring: the tokens the step is about</span>' +
       '<span>\u2192 attention: leader to token</span><span>\u2715 target</span><span style="background:#ffd54f66">band: hat window</span>' +
       '<span>\u25c7 (dashed): the point that sets a window\u2019s delta</span>' +
       '<span>\u00d7n badge / split dot: n tokens share the point</span>';
  lg.innerHTML = h;
}
function show(i){
  cur = Math.max(0, Math.min(D.steps.length - 1, i));
  slider.value = cur;
  const S = D.steps[cur];
  document.getElementById('stepname').textContent = (cur + 1) + '/' + D.steps.length + ': ' + S.id;
  document.getElementById('title').textContent = 'Step ' + (cur + 1) + '. ' + S.title;
  document.getElementById('lemma').textContent = S.lemma;
  document.getElementById('plan').textContent = S.plan ? 'In the paper\u2019s plan: ' + S.plan : '';
  document.getElementById('here').textContent = S.here;
  const ck = document.getElementById('check');
  ck.innerHTML = '';
  if (S.hasCheck){
    const b = document.createElement('span'); b.className = S.holds ? 'ok' : 'bad'; b.textContent = S.holds ? 'HOLDS' : 'FAILS';
    ck.append('Check (' + S.checkKind + '): ', b, ' \u2014 ' + S.check);
  }
  for (const a of document.querySelectorAll('nav#steps a')) a.classList.toggle('cur', +a.dataset.i === cur);
  if (history.replaceState) history.replaceState(null, '', '#step=' + S.id);
  draw();
}
slider.max = D.steps.length - 1;
slider.addEventListener('input', () => show(+slider.value));
document.getElementById('prev').addEventListener('click', () => show(cur - 1));
document.getElementById('next').addEventListener('click', () => show(cur + 1));
document.addEventListener('keydown', e => {
  if (e.target === slider) return;  // the slider moves itself
  if (e.key === 'ArrowRight') { show(cur + 1); e.preventDefault(); }
  if (e.key === 'ArrowLeft') { show(cur - 1); e.preventDefault(); }
});
const nav = document.getElementById('steps');
D.steps.forEach((s, i) => { const a = document.createElement('a'); a.href = '#step=' + s.id; a.dataset.i = i; a.textContent = s.id;
  a.addEventListener('click', e => { e.preventDefault(); show(i); }); nav.appendChild(a); });
for (const r of document.querySelectorAll('tr.row')){
  r.addEventListener('mouseenter', () => { hot = +r.dataset.tok; light([r.dataset.tok], true); });
  r.addEventListener('mouseleave', () => { hot = -1; light([r.dataset.tok], false); });
}
window.addEventListener('resize', draw);
legend();
const want = decodeURIComponent((location.hash.match(/step=([^&]*)/) || [])[1] || '');
const at = D.steps.findIndex(s => s.id === want);
show(at >= 0 ? at : 0);
})();
)JS";

}  // namespace

std::string explanation_html(const Explanation& ex, const std::string& name) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>interpcert explain: " +
                  esc(name) + "</title>\n<style>" + kStyle + "</style></head><body>\n";
  h += "<h1>Why a transformer interpolates <code>" + esc(name) + "</code> exactly</h1>\n";
  h += "<details><summary>The theorem, your dataset, the paper's plan</summary><pre>" + esc(ex.header) + "</pre></details>\n";
  h += "<div id=\"controls\"><button id=\"prev\" aria-label=\"previous step\">&#9664;</button>"
       "<input type=\"range\" id=\"slider\" min=\"0\" max=\"0\" value=\"0\" step=\"1\" aria-label=\"step\">"
       "<button id=\"next\" aria-label=\"next step\">&#9654;</button><span id=\"stepname\"></span></div>\n"
       "<nav id=\"steps\" aria-label=\"steps\"></nav>\n";
  h += "<div id=\"layout\"><div id=\"figcol\"><svg id=\"fig\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 480\" "
       "role=\"img\" aria-label=\"the tokens in the plane (k.z, w.z)\"></svg>\n<p id=\"caption\"></p><div id=\"legend\"></div>\n";
  // The requirement table, linked to the figure.
  h += "<h3>Requirements (hover a row: its token lights up)</h3>\n<table id=\"req\"><thead><tr><th>seq</th><th>pos</th>"
       "<th>input token</th><th></th><th>target</th></tr></thead><tbody>\n";
  const auto& rows = ex.drawing.rows;
  for (std::size_t i = 0; i < rows.size() && i < 400; ++i) {
    const auto& r = rows[i];
    h += "<tr class=\"row\" data-tok=\"" + (r.token == SIZE_MAX ? std::string("-1") : std::to_string(r.token)) + "\"><td>" +
         std::to_string(r.sequence) + "</td><td>" + std::to_string(r.position) + "</td><td>" + esc(r.input) +
         "</td><td>&rarr;</td><td>" + esc(r.target) + "</td></tr>\n";
  }
  if (rows.size() > 400) h += "<tr><td colspan=\"5\">... (" + std::to_string(rows.size() - 400) + " more rows)</td></tr>\n";
  h += "</tbody></table></div>\n<div id=\"textcol\"><h2 id=\"title\"></h2><p id=\"lemma\" class=\"lemma\"></p>"
       "<p id=\"plan\" class=\"plan\"></p><pre id=\"here\"></pre><p id=\"check\"></p></div></div>\n";
  h += "<p><strong>" + esc(ex.conclusion) + "</strong></p>\n";
  h += "<noscript><p>The figure and the step viewer need JavaScript; the full text follows.</p>";
  for (std::size_t i = 0; i < ex.steps.size(); ++i) h += "<pre>" + esc(step_text(ex.steps[i], i + 1)) + "</pre>";
  h += "</noscript>\n<script type=\"application/json\" id=\"data\">" + page_json(ex, name) + "</script>\n<script>" + kScript +
       "</script>\n</body></html>\n";
  return h;
}

}  // namespace interpcert
