// descent playground — the page. No libraries: the heat map and the charts
// are drawn on canvases by the code below. Everything numeric comes from the
// server, which trains with descent's Trainer and streams snapshots.
'use strict';

const $ = (s, el = document) => el.querySelector(s);
const $$ = (s, el = document) => [...el.querySelectorAll(s)];
const CLASS_COLORS = ['#f28e2b', '#2b7bba', '#3aa361', '#8e5ec8', '#d64550'];
const RUN_COLORS = ['#2563eb', '#d9480f'];
const RUN_NAMES = ['Run A', 'Run B'];

let sid = null;          // this tab's session
let es = null;           // its event stream
let defaults = null;     // the server's default configuration
let cfg = null;          // {seed, data, runs: [A, B], compare}
let active = 0;          // the run the form edits
let plane = { view: 1.25, grid: 50, points: [], nClasses: 2, nTrain: 0, generation: 0 };
let latest = null;       // the newest snapshot received (latest wins here too)
let drawn = null;
let wantRunning = false;
let applyTimer = null;

const clone = (o) => JSON.parse(JSON.stringify(o));

// ---------------------------------------------------------------- messages
function banner(text, kind) {
  const b = $('#banner');
  if (!text) { b.classList.add('hidden'); return; }
  b.textContent = text;
  b.classList.toggle('info', kind === 'info');
  b.classList.remove('hidden');
}

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.ok) return r.status === 204 ? null : r.json();
  let msg = `${r.status} ${r.statusText}`;
  try { const j = await r.json(); msg = j.error || msg; } catch (_) { /* not JSON */ }
  const err = new Error(msg);
  err.status = r.status;
  throw err;
}

// ---------------------------------------------------------------- session
async function openSession() {
  if (es) { es.close(); es = null; }
  try {
    const j = await api('POST', '/api/sessions');
    sid = j.id;
    defaults = j.defaults;
    if (!cfg) {
      cfg = { seed: defaults.seed, data: clone(defaults.data), runs: [clone(defaults.run), clone(defaults.run)], compare: false };
      fillForm();
    }
  } catch (e) {
    banner(`Cannot open a session: ${e.message}`);
    setTimeout(openSession, 3000);
    return;
  }
  es = new EventSource(`/api/sessions/${sid}/events`);
  es.onmessage = (ev) => {
    const s = JSON.parse(ev.data);
    if (s.generation >= plane.generation) latest = s;
  };
  es.onerror = () => {
    if (es && es.readyState === EventSource.CLOSED) {
      banner('The connection to the server was lost; reconnecting…', 'info');
      es = null;
      setTimeout(async () => { await openSession(); }, 1000);
    }
  };
  await apply();
}

function sessionConfig() {
  const nTrain = trainCount();
  const fix = (r, i) => {
    const c = clone(r);
    c.train.batch_size = Math.max(1, Math.min(c.train.batch_size, nTrain));
    if (!c.label) c.label = RUN_NAMES[i];
    return c;
  };
  return {
    seed: cfg.seed, data: cfg.data, run: fix(cfg.runs[0], 0), compare: cfg.compare ? fix(cfg.runs[1], 1) : null,
    epochs_per_sec: Number($('#speed').value),
  };
}

function trainCount() {
  const n = cfg.data.n_points;
  return n - Math.round(n * cfg.data.test_fraction);
}

function scheduleApply() {
  clearTimeout(applyTimer);
  applyTimer = setTimeout(apply, 250);
}

async function apply() {
  if (!sid) return;
  try {
    const r = await api('PUT', `/api/sessions/${sid}/config`, sessionConfig());
    plane = { view: r.view, grid: r.grid, points: r.points, nClasses: r.n_classes, nTrain: r.n_train, generation: r.generation };
    // The configuration's first snapshot may have arrived before this reply.
    if (latest && latest.generation < r.generation) latest = null;
    drawn = null;
    banner(null);
    if (wantRunning) await control('start');
  } catch (e) {
    banner(e.message);
  }
}

async function control(action) {
  if (!sid) return;
  try {
    await api('POST', `/api/sessions/${sid}/control`, { action });
  } catch (e) {
    banner(e.message);
  }
}

// ---------------------------------------------------------------- the form
function target(path) {
  const parts = path.split('.');
  let o = cfg;
  let i = 0;
  if (parts[0] === 'run') { o = cfg.runs[active]; i = 1; }
  for (; i < parts.length - 1; i++) o = o[parts[i]];
  return [o, parts[parts.length - 1]];
}

function fmt(v) {
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? String(v) : String(+v.toFixed(3));
}

function showValue(el, v) {
  if (el.type === 'checkbox') el.checked = !!v;
  else if (el.tagName === 'SELECT') {
    const s = String(v);
    if (![...el.options].some((o) => (o.value || o.textContent) === s)) {
      const o = document.createElement('option');
      o.textContent = s;
      el.appendChild(o);
    }
    el.value = s;
  } else el.value = v;
  const out = $(`output[data-for="${el.dataset.path}"]`);
  if (out) out.textContent = fmt(v);
}

function readValue(el) {
  if (el.type === 'checkbox') return el.checked;
  if (el.type === 'range' || el.type === 'number' || el.hasAttribute('data-number')) return Number(el.value);
  return el.value;
}

function fillForm() {
  for (const el of $$('[data-path]')) {
    const [o, k] = target(el.dataset.path);
    showValue(el, o[k]);
  }
  const batch = $('input[data-path="run.train.batch_size"]');
  batch.max = String(trainCount());
  for (const b of $$('#datasets button')) b.classList.toggle('on', b.dataset.kind === cfg.data.kind);
  $('#compare').checked = cfg.compare;
  $('#tabs').classList.toggle('hidden', !cfg.compare);
  for (const b of $$('#tabs button')) b.classList.toggle('on', Number(b.dataset.run) === active);
  $('#editing').textContent = cfg.compare ? `· ${RUN_NAMES[active]}` : '';
  renderLayers();
  const r = cfg.runs[active];
  const kind = r.optim.kind;
  const toggle = (sel, on) => $$(sel).forEach((e) => e.classList.toggle('hidden', !on));
  toggle('.when-momentum', ['momentum', 'nesterov', 'rmsprop'].includes(kind));
  toggle('.when-batch', kind !== 'gd');
  toggle('.when-step', r.optim.schedule === 'step');
  toggle('.when-warmup', r.optim.schedule === 'warmup_cosine');
  toggle('.when-cosine', ['cosine', 'warmup_cosine'].includes(r.optim.schedule));
  toggle('.when-classes', ['spirals', 'blobs'].includes(cfg.data.kind));
}

function renderLayers() {
  const box = $('#layers');
  box.innerHTML = '';
  cfg.runs[active].net.hidden.forEach((w, i) => {
    const l = document.createElement('label');
    l.textContent = `layer ${i + 1}`;
    const inp = document.createElement('input');
    inp.type = 'number'; inp.min = '1'; inp.max = '64'; inp.value = w;
    inp.addEventListener('change', () => {
      cfg.runs[active].net.hidden[i] = Number(inp.value);
      changed();
    });
    l.appendChild(inp);
    box.appendChild(l);
  });
}

function changed() {
  fillForm();
  scheduleApply();
}

function bindForm() {
  for (const el of $$('[data-path]')) {
    el.addEventListener('input', () => {
      const out = $(`output[data-for="${el.dataset.path}"]`);
      if (out) out.textContent = fmt(readValue(el));
    });
    el.addEventListener('change', () => {
      const [o, k] = target(el.dataset.path);
      o[k] = readValue(el);
      changed();
    });
  }
  for (const b of $$('#datasets button')) {
    b.addEventListener('click', () => { cfg.data.kind = b.dataset.kind; changed(); });
  }
  $('#add-layer').addEventListener('click', () => {
    const h = cfg.runs[active].net.hidden;
    h.push(h.length ? h[h.length - 1] : 8);
    changed();
  });
  $('#remove-layer').addEventListener('click', () => {
    cfg.runs[active].net.hidden.pop();
    changed();
  });
  $('#compare').addEventListener('change', (e) => {
    cfg.compare = e.target.checked;
    if (!cfg.compare) active = 0;
    changed();
  });
  for (const b of $$('#tabs button')) {
    b.addEventListener('click', () => { active = Number(b.dataset.run); fillForm(); });
  }
  $('#preset').addEventListener('change', (e) => {
    const p = PRESETS[e.target.value];
    if (!p) return;
    p();
    cfg.compare = true;
    active = 0;
    e.target.value = '';
    changed();
  });
  $('#btn-run').addEventListener('click', async () => {
    const running = latest && latest.phase === 'running';
    wantRunning = !running;
    await control(running ? 'pause' : 'start');
  });
  $('#btn-step').addEventListener('click', async () => { wantRunning = false; await control('step'); });
  $('#btn-reset').addEventListener('click', async () => { await control('reset'); });
  $('#logscale').addEventListener('change', () => { drawn = null; });
  $('#speed').value = '30';
  $('#speed').addEventListener('change', scheduleApply);
  window.addEventListener('resize', () => { drawn = null; });
}

// The compare presets: each sets runs A and B (and may adjust the data).
const PRESETS = {
  'adam-l2-vs-adamw': () => {
    const a = clone(cfg.runs[0]);
    a.optim.kind = 'adam'; a.optim.lr = 0.01; a.optim.schedule = 'constant';
    a.train.l1 = 0; a.train.weight_decay = 0;
    const b = clone(a);
    a.train.l2 = 0.001; a.label = 'Adam + L2 (λ = 0.001)';
    b.optim.kind = 'adamw'; b.train.l2 = 0; b.train.weight_decay = 0.001; b.label = 'AdamW (decoupled λ = 0.001)';
    cfg.runs = [a, b];
  },
  dropout: () => {
    cfg.data.n_points = 200; cfg.data.noise = 0.3; cfg.data.label_noise = 0.1;
    const a = clone(cfg.runs[0]);
    a.net.hidden = [32, 32]; a.net.activation = 'relu';
    a.optim.kind = 'adam'; a.optim.lr = 0.01; a.optim.schedule = 'constant';
    a.train.batch_size = 10; a.train.l1 = 0; a.train.l2 = 0; a.train.weight_decay = 0;
    const b = clone(a);
    a.net.dropout = 0; a.label = 'Without dropout';
    b.net.dropout = 0.3; b.label = 'With dropout (p = 0.3)';
    cfg.runs = [a, b];
  },
  batch: () => {
    const a = clone(cfg.runs[0]);
    a.optim.kind = 'sgd'; a.optim.lr = 0.1; a.optim.schedule = 'constant';
    const b = clone(a);
    a.train.batch_size = 4; a.label = 'Small batch (4)';
    b.train.batch_size = trainCount(); b.label = `Full batch (${trainCount()})`;
    cfg.runs = [a, b];
  },
};

// ---------------------------------------------------------------- drawing
function hexRgb(h) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const CLASS_RGB = CLASS_COLORS.map(hexRgb);

function drawHeatmap(canvas, run) {
  const dpr = window.devicePixelRatio || 1;
  const size = Math.round(canvas.clientWidth * dpr) || 320;
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext('2d');
  const n = plane.grid;
  const k = plane.nClasses;
  const off = document.createElement('canvas');
  off.width = n; off.height = n;
  const octx = off.getContext('2d');
  const img = octx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const c = run.grid_class[i] || 0;
    const p = (run.grid_confidence[i] || 0) / 255;
    const t = Math.max(0, (p - 1 / k) / (1 - 1 / k));
    const a = 0.12 + 0.6 * t;
    const rgb = CLASS_RGB[c % CLASS_RGB.length];
    img.data[4 * i] = Math.round(255 + (rgb[0] - 255) * a);
    img.data[4 * i + 1] = Math.round(255 + (rgb[1] - 255) * a);
    img.data[4 * i + 2] = Math.round(255 + (rgb[2] - 255) * a);
    img.data[4 * i + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(off, 0, 0, size, size);
  // axes through the origin
  ctx.strokeStyle = 'rgba(0,0,0,0.12)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(size / 2, 0); ctx.lineTo(size / 2, size);
  ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2);
  ctx.stroke();
  const v = plane.view;
  const px = (x) => ((x + v) / (2 * v)) * size;
  const py = (y) => ((v - y) / (2 * v)) * size;
  const r = Math.max(2.5, size / 110);
  for (const pt of plane.points) {
    ctx.beginPath();
    ctx.arc(px(pt.x), py(pt.y), r, 0, 2 * Math.PI);
    ctx.fillStyle = CLASS_COLORS[pt.label % CLASS_COLORS.length];
    ctx.fill();
    ctx.lineWidth = pt.test ? 1.2 * dpr : 1 * dpr;
    ctx.strokeStyle = pt.test ? '#1d2433' : '#fff';
    ctx.stroke();
  }
}

function niceTicks(lo, hi, count) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function fmtTick(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

// series: [{x: [], y: [], color, dash}]
function drawChart(canvas, series, log) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * dpr) || canvas.width;
  const h = Math.round(w * (canvas.getAttribute('height') / canvas.getAttribute('width')));
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const W = canvas.width, H = canvas.height;
  const m = { l: 48 * dpr, r: 10 * dpr, t: 8 * dpr, b: 22 * dpr };
  let xmax = 1, ylo = Infinity, yhi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !isFinite(y) || (log && y <= 0)) continue;
      xmax = Math.max(xmax, s.x[i]);
      ylo = Math.min(ylo, y); yhi = Math.max(yhi, y);
    }
  }
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  ctx.fillStyle = '#6b7385';
  if (!isFinite(ylo)) { ctx.fillText('no data yet', m.l, H / 2); return; }
  const f = log ? Math.log10 : (y) => y;
  let lo = f(ylo), hi = f(yhi);
  if (hi - lo < 1e-9) { lo -= log ? 0.5 : Math.abs(lo) * 0.1 + 1e-3; hi += log ? 0.5 : Math.abs(hi) * 0.1 + 1e-3; }
  const pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  const X = (x) => m.l + (x / xmax) * (W - m.l - m.r);
  const Y = (y) => m.t + (1 - (f(y) - lo) / (hi - lo)) * (H - m.t - m.b);
  ctx.strokeStyle = '#eceff4'; ctx.lineWidth = 1;
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  let ytick;
  if (log) {
    const decades = niceTicks(Math.floor(lo), Math.ceil(hi), 4).filter((t) => Number.isInteger(t) && t >= lo && t <= hi);
    ytick = decades.length >= 2
      ? decades.map((t) => Math.pow(10, t))
      : niceTicks(Math.pow(10, lo), Math.pow(10, hi), 4).filter((t) => t > 0);
  } else {
    ytick = niceTicks(lo, hi, 4);
  }
  for (const t of ytick) {
    const yy = Y(t);
    ctx.beginPath(); ctx.moveTo(m.l, yy); ctx.lineTo(W - m.r, yy); ctx.stroke();
    ctx.fillText(fmtTick(t), m.l - 6 * dpr, yy);
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  for (const t of niceTicks(0, xmax, 5)) {
    const xx = X(t);
    ctx.beginPath(); ctx.moveTo(xx, m.t); ctx.lineTo(xx, H - m.b); ctx.stroke();
    ctx.fillText(fmtTick(t), xx, H - m.b + 4 * dpr);
  }
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2 * dpr;
    ctx.setLineDash(s.dash ? [6 * dpr, 4 * dpr] : []);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !isFinite(y) || (log && y <= 0)) { pen = false; continue; }
      const xx = X(s.x[i]), yy = Y(y);
      if (pen) ctx.lineTo(xx, yy); else ctx.moveTo(xx, yy);
      pen = true;
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

// A run's curve with its newest values appended (the curve is thinned on the server).
function series(run, key, now) {
  const x = run.curve.epoch.slice();
  const y = run.curve[key].slice();
  if (x.length === 0 || x[x.length - 1] < run.epoch) { x.push(run.epoch); y.push(now); }
  return { x, y };
}

function num(v, digits = 4) {
  return v === null || v === undefined || !isFinite(v) ? '–' : (+v).toFixed(digits);
}

function ensureBoards(n) {
  const box = $('#boards');
  while (box.children.length > n) box.lastChild.remove();
  while (box.children.length < n) box.appendChild($('#board-template').content.firstElementChild.cloneNode(true));
}

function render() {
  requestAnimationFrame(render);
  const s = latest;
  if (!s || s === drawn) return;
  drawn = s;
  document.body.dataset.phase = s.phase;
  $('#btn-run').textContent = s.phase === 'running' ? '❚❚ Pause' : '▶ Train';
  $('#rate').textContent = s.phase === 'running' && s.steps_per_sec > 0 ? Math.round(s.steps_per_sec).toLocaleString() : '–';
  $('#rate').title = s.train_steps_per_sec > 0 ? `${Math.round(s.train_steps_per_sec).toLocaleString()} steps per second of training time` : '';
  if (s.error) banner(s.error);
  const runs = s.runs || [];
  $('#epoch').textContent = runs.length ? Math.max(...runs.map((r) => r.epoch)) : 0;
  ensureBoards(runs.length);
  const boards = $$('#boards .board');
  const compare = runs.length > 1;
  const loss = [], lr = [], norm = [];
  runs.forEach((r, i) => {
    const b = boards[i];
    b.dataset.epoch = r.epoch;
    b.dataset.testLoss = r.test_loss;
    $('.run-title', b).textContent = r.label || RUN_NAMES[i];
    $('.ended', b).textContent = r.ended || '';
    $('.train-loss', b).textContent = num(r.train_loss);
    $('.test-loss', b).textContent = num(r.test_loss);
    $('.train-acc', b).textContent = isFinite(r.train_accuracy) && r.train_accuracy !== null ? `${(100 * r.train_accuracy).toFixed(1)}%` : '–';
    $('.test-acc', b).textContent = isFinite(r.test_accuracy) && r.test_accuracy !== null ? `${(100 * r.test_accuracy).toFixed(1)}%` : '–';
    $('.lr', b).textContent = r.lr === null ? '–' : (+r.lr).toPrecision(3);
    $('.wnorm', b).textContent = num(r.weight_norm, 3);
    $('.step', b).textContent = r.step;
    drawHeatmap($('.heatmap', b), r);
    const trainColor = compare ? RUN_COLORS[i] : '#2563eb';
    const testColor = compare ? RUN_COLORS[i] : '#d9480f';
    loss.push({ ...series(r, 'train_loss', r.train_loss), color: trainColor, dash: false });
    loss.push({ ...series(r, 'test_loss', r.test_loss), color: testColor, dash: compare });
    lr.push({ ...series(r, 'lr', r.lr), color: RUN_COLORS[i], dash: false });
    norm.push({ ...series(r, 'weight_norm', r.weight_norm), color: RUN_COLORS[i], dash: false });
  });
  const log = $('#logscale').checked;
  drawChart($('#chart-loss'), loss, log);
  drawChart($('#chart-lr'), lr, false);
  drawChart($('#chart-norm'), norm, false);
  $('#legend').innerHTML = compare
    ? runs.map((r, i) => `<i style="color:${RUN_COLORS[i]}"></i>${escapeHtml(r.label || RUN_NAMES[i])}`).join('') + '<i></i>train <i class="dash"></i>test'
    : '<i style="color:#2563eb"></i>train <i class="dash" style="color:#d9480f;border-top-style:solid"></i>test';
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

bindForm();
requestAnimationFrame(render);
openSession();
