// The lab page: it keeps the settings and faults the user chose, asks the
// server to run them (POST api/run: the real engine in the simulator),
// and shows the result. Nothing is computed here but the page itself.
'use strict';

const WORDS = {
  en: {
    tagline: 'Every TCP connection, drawn. Pick a scenario, then click any arrow to lose it and see what TCP does.',
    language: 'Language', settings: 'Settings', scenario: 'Scenario', build: 'Build your own',
    custom: 'custom — build your own', open: 'Who connects', openClient: 'the client (the server listens)',
    openBoth: 'both at once (simultaneous open)', close: 'Who closes first', closeClient: 'the client',
    closeServer: 'the server', closeBoth: 'both at once (simultaneous close)', closeAbort: 'the client aborts (RST)',
    closeNone: 'nobody', closeAt: 'Close at (ms)', data: 'Client sends (bytes)', reply: 'Server replies (bytes)',
    delay: 'Link delay, one way (ms)', loss: 'Random loss (%)', msl: 'MSL (s); TIME_WAIT lasts 2×MSL', seed: 'Seed',
    absolute: 'Absolute sequence numbers', faults: 'Faults', noFaults: 'None yet: click an arrow in the diagram.',
    addBySelector: 'Add a fault by selector', action: 'Action', selector: 'Selector', delayBy: 'Delay', add: 'Add',
    download: 'Download this run', text: 'Text', diagram: 'Sequence diagram',
    clickHint: 'Click an arrow, or Tab to it and press Enter, to drop, delay, duplicate or corrupt that segment.',
    drop: 'Drop it', delayIt: 'Delay it by', delayMs: 'Delay (ms)', dup: 'Duplicate it', corrupt: 'Corrupt it',
    undo: 'Remove that fault', cancel: 'Cancel', states: "Both sides' states", machine: 'RFC 9293 state machine',
    steps: 'What happened, and why', remove: 'Remove', own: "(the scenario's own)", running: 'Running…',
    ran: (n, k) => `Ran in the simulator: ${n} events, ${k} segments.`, network: 'network',
    dupNote: 'This is a copy the network made. Faults act on segments as they are sent: pick the original.',
    droppedNote: f => `Already dropped by “${f}”.`, noSelector: 'No fault can pick this segment.',
    fateWords: {delivered: 'delivered', lost: 'lost', corrupted: 'corrupted', 'in flight': 'never arrived'},
    unreachable: 'The lab server did not answer: ',
    client: 'client', server: 'server',
    selectorHelp: '[SIDE:]KIND[@STATE][#COUNT] — KIND: any, syn, syn-ack, ack, data, fin, rst',
    badDelay: 'Give a positive number of milliseconds',
    randomLost: (n, p) => n === 0
      ? ` The ${p}% random loss lost no segment with this seed: try another seed to see it.`
      : ` The ${p}% random loss lost ${n} of them.`,
  },
  zh: {
    tagline: '每一条 TCP 连接，都画出来。选一个场景，点任意一个箭头让它丢失，看看 TCP 怎么应对。',
    language: '语言', settings: '设置', scenario: '场景', build: '自己搭一个', custom: '自定义——自己搭一个',
    open: '谁发起连接', openClient: '客户端（服务器监听）', openBoth: '双方同时（同时打开）', close: '谁先关闭',
    closeClient: '客户端', closeServer: '服务器', closeBoth: '双方同时（同时关闭）', closeAbort: '客户端中止（RST）',
    closeNone: '都不关闭', closeAt: '关闭时刻（毫秒）', data: '客户端发送（字节）', reply: '服务器回复（字节）',
    delay: '单向链路延迟（毫秒）', loss: '随机丢包率（%）', msl: 'MSL（秒）；TIME_WAIT 持续 2×MSL', seed: '随机种子',
    absolute: '显示绝对序号', faults: '故障', noFaults: '还没有：点一下图中的箭头。', addBySelector: '用选择器添加故障',
    action: '动作', selector: '选择器', delayBy: '延迟', add: '添加', download: '下载本次运行', text: '文本',
    diagram: '时序图',
    clickHint: '点击一个箭头（或用 Tab 键选中后按回车），即可丢弃、延迟、复制或损坏这个报文段。',
    drop: '丢弃', delayIt: '延迟', delayMs: '延迟（毫秒）', dup: '复制', corrupt: '损坏', undo: '撤销那个故障',
    cancel: '取消', states: '双方的状态', machine: 'RFC 9293 状态机', steps: '发生了什么，为什么', remove: '删除',
    own: '（场景自带）', running: '正在运行……', ran: (n, k) => `已在模拟器中运行：${n} 个事件，${k} 个报文段。`,
    network: '网络', dupNote: '这是网络复制出的副本。故障作用于发送时的报文段：请选原始的那一个。',
    droppedNote: f => `已被“${f}”丢弃。`, noSelector: '没有故障能选中这个报文段。',
    fateWords: {delivered: '送达', lost: '丢失', corrupted: '损坏', 'in flight': '未到达'},
    unreachable: '实验室服务器没有响应：',
    client: '客户端', server: '服务器',
    selectorHelp: '[方向:]类型[@状态][#序号]——方向：client 或 server；类型：any、syn、syn-ack、ack、data、fin、rst',
    badDelay: '请输入正的毫秒数',
    randomLost: (n, p) => n === 0
      ? ` 在这个随机种子下，${p}% 的随机丢包没有丢掉任何报文段：换一个种子再看看。`
      : ` 其中 ${n} 个被 ${p}% 的随机丢包丢掉。`,
  },
};

// settings is everything a run depends on; it is also kept in the URL's
// fragment, so that a run can be bookmarked or shared.
const settings = {
  scenario: 'lost-final-ack',
  custom: {open: 'client', close: 'client', closeAt: '200', data: 100, reply: 0, delay: '10', loss: 0},
  msl: '30', seed: 1, absolute: false, lang: 'en', faults: [],
};

let lastRun = null;       // the latest successful run
let runSeq = 0;           // to ignore answers to superseded requests
let selected = null;      // the segment whose menu is open
let lastFocus = null;     // where focus goes back when the menu closes

const $ = id => document.getElementById(id);
const w = key => WORDS[settings.lang][key] ?? WORDS.en[key];

// hostName names the simulator's hosts in the page's language.
const hostName = h => (h === 'client' || h === 'server') ? w(h) : h;

function request() {
  const r = {
    scenario: settings.scenario, seed: Number(settings.seed) || 0, msl: durationOf(settings.msl, 's'),
    faults: settings.faults, lang: settings.lang, absolute: settings.absolute,
  };
  if (settings.scenario === 'custom') {
    const c = settings.custom;
    r.custom = {
      open: c.open, close: c.close, closeAt: durationOf(c.closeAt, 'ms'), data: Number(c.data) || 0,
      reply: Number(c.reply) || 0, delay: durationOf(c.delay, 'ms'), loss: Number(c.loss) || 0,
    };
  }
  return r;
}

// durationOf turns what a number box holds into a Go duration ("30s");
// anything else is sent as typed, for the server to judge.
function durationOf(v, unit) {
  const s = String(v).trim();
  return /^-?[0-9]*\.?[0-9]+$/.test(s) ? s + unit : s;
}

// Errors are shown next to the control that caused them.
const FIELD_ERRORS = {
  msl: 'err-msl', seed: 'err-seed', scenario: 'err-scenario', lang: 'err-scenario', faults: 'err-faults',
  'custom.open': 'err-custom-open', 'custom.close': 'err-custom-close', 'custom.closeAt': 'err-custom-closeAt',
  'custom.data': 'err-custom-data', 'custom.reply': 'err-custom-reply', 'custom.delay': 'err-custom-delay',
  'custom.loss': 'err-custom-loss',
};

function clearErrors() {
  for (const el of document.querySelectorAll('.error')) { el.hidden = true; el.textContent = ''; }
  for (const el of document.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function showError(id, message) {
  const el = $(id) || $('err-scenario');
  el.textContent = message;
  el.hidden = false;
  const control = document.querySelector(`[aria-describedby~="${el.id}"]`);
  if (control) control.setAttribute('aria-invalid', 'true');
}

// errorPlace finds where a server error goes; pending names the control a
// just-added fault came from.
function errorPlace(field, pending) {
  const m = /^faults\.(\d+)$/.exec(field || '');
  if (m) {
    const i = Number(m[1]);
    if (pending && i === settings.faults.length - 1) return pending;
    return `err-fault-${i}`;
  }
  return FIELD_ERRORS[field] || 'err-scenario';
}

// run asks the server to run the settings and shows the result. With
// pending (an error element's id), the last fault is new: if the server
// rejects it, it is taken back and the error shown there.
async function run(pending) {
  const seq = ++runSeq;
  clearErrors();
  setStatus(w('running'));
  let resp, body;
  try {
    resp = await fetch('api/run', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(request()),
    });
    body = await resp.json();
  } catch (e) {
    if (seq === runSeq) { showError('err-scenario', w('unreachable') + e.message); setStatus(''); }
    return false;
  }
  if (seq !== runSeq) return false;
  if (!resp.ok) {
    const place = errorPlace(body.field, pending);
    if (pending && /^faults\./.test(body.field || '')) settings.faults.pop();
    renderFaults();
    showError(place, body.error);
    setStatus('');
    return false;
  }
  lastRun = body;
  render(body);
  saveHash();
  return true;
}

function setStatus(text, warn) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('warn', !!warn);
}

function render(r) {
  $('summary').textContent = r.summary;
  const diagram = $('diagram');
  // The drawings are SVG made by the server from the run, with every
  // text escaped there.
  diagram.innerHTML = r.svg;
  diagram.dataset.run = String(runSeq);
  for (const g of diagram.querySelectorAll('.sq-seg')) {
    const id = Number(g.dataset.id);
    const seg = segment(id);
    if (seg && seg.droppedBy && userFaultIndex(seg.droppedBy) >= 0) g.classList.add('faulted');
    g.addEventListener('click', () => openMenu(id, g));
    // Opened on the key's release, as a native button is: opened on the
    // press, the menu would take focus and the same key's later events
    // would press its first button.
    g.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); g.dataset.armed = '1'; }
    });
    g.addEventListener('keyup', e => {
      if ((e.key === 'Enter' || e.key === ' ') && g.dataset.armed) { delete g.dataset.armed; openMenu(id, g); }
    });
  }
  $('machine').innerHTML = r.machine;
  renderStates(r);
  renderSteps(r);
  renderFaults();
  renderDownloads();
  closeMenu(false);
  const loss = r.randomLoss ? w('randomLost')(r.randomLost, r.randomLoss) : '';
  setStatus(r.warning ? r.warning : w('ran')(r.eventCount, r.segments.length) + loss, !!r.warning);
  document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
}

function segment(id) {
  return lastRun && lastRun.segments.find(s => s.id === id);
}

function renderStates(r) {
  const box = $('states');
  box.textContent = '';
  for (const host of [r.client, r.server]) {
    const div = document.createElement('div');
    const h = document.createElement('h3');
    h.textContent = hostName(host);
    const ol = document.createElement('ol');
    ol.setAttribute('aria-label', hostName(host));
    for (const s of r.states[host] || []) {
      const li = document.createElement('li');
      li.textContent = s.state + ' ';
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = s.at.toFixed(3);
      li.append(t);
      ol.append(li);
    }
    div.append(h, ol);
    box.append(div);
  }
}

function renderSteps(r) {
  const ol = $('steps');
  ol.textContent = '';
  for (const s of r.steps) {
    const li = document.createElement('li');
    const t = document.createElement('span');
    t.className = 't';
    t.textContent = s.at.toFixed(3) + ' ';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = (s.who || s.host || w('network')) + ' ';
    li.append(t, who, document.createTextNode(s.text));
    if (s.id) {
      li.dataset.seg = String(s.id);
      li.addEventListener('mouseenter', () => highlight(s.id, li, true));
      li.addEventListener('mouseleave', () => highlight(s.id, li, false));
      li.addEventListener('click', () => {
        const g = document.querySelector(`#diagram .sq-seg[data-id="${s.id}"]`);
        if (g) { g.scrollIntoView({block: 'center', inline: 'nearest'}); g.focus(); }
      });
    }
    ol.append(li);
  }
}

function highlight(id, li, on) {
  const g = document.querySelector(`#diagram .sq-seg[data-id="${id}"]`);
  if (g) g.classList.toggle('hl', on);
  li.classList.toggle('hl', on);
}

function userFaultIndex(text) {
  return settings.faults.findIndex(f => faultText(f) === text);
}

function faultText(f) {
  return f.action === 'delay' ? `delay ${f.selector}=${f.delay}` : `${f.action} ${f.selector}`;
}

function renderFaults() {
  const ul = $('faults');
  ul.textContent = '';
  const all = (lastRun && lastRun.faults) || [];
  const own = all.slice(0, Math.max(0, all.length - settings.faults.length));
  for (const f of own) {
    const li = document.createElement('li');
    const span = document.createElement('span');
    span.textContent = f;
    const note = document.createElement('span');
    note.className = 'own';
    note.textContent = w('own');
    li.append(span, note);
    ul.append(li);
  }
  settings.faults.forEach((f, i) => {
    const li = document.createElement('li');
    const span = document.createElement('span');
    span.textContent = faultText(f);
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = w('remove');
    b.setAttribute('aria-label', `${w('remove')} ${faultText(f)}`);
    b.addEventListener('click', () => { settings.faults.splice(i, 1); run(); });
    const err = document.createElement('p');
    err.className = 'error';
    err.id = `err-fault-${i}`;
    err.setAttribute('role', 'alert');
    err.hidden = true;
    li.append(span, b, err);
    ul.append(li);
  });
  $('no-faults').hidden = own.length + settings.faults.length > 0;
}

function renderDownloads() {
  const q = encodeURIComponent(JSON.stringify(request()));
  const name = settings.scenario === 'custom' ? 'custom' : settings.scenario;
  for (const [id, format, ext] of [['dl-svg', 'svg', 'svg'], ['dl-html', 'html', 'html'], ['dl-mermaid', 'mermaid', 'mmd'], ['dl-text', 'text', 'txt'], ['dl-pcap', 'pcap', 'pcap']]) {
    const a = $(id);
    a.href = `api/export?format=${format}&run=${q}`;
    a.setAttribute('download', `seqack-${name}.${ext}`);
  }
}

// The segment menu: what to do to the segment clicked.
function openMenu(id, g) {
  const seg = segment(id);
  if (!seg) return;
  for (const el of document.querySelectorAll('#diagram .sq-seg.selected')) el.classList.remove('selected');
  g.classList.add('selected');
  selected = seg;
  lastFocus = g;
  clearErrors();
  const fate = w('fateWords')[seg.fate.replace(/ \(.*/, '')] || seg.fate;
  $('segmenu-title').textContent = `#${seg.id} ${hostName(seg.from)} → ${hostName(seg.to)}: ${seg.label} (${fate}, ${seg.sent.toFixed(3)} s)`;
  let note = '';
  if (seg.dup) note = w('dupNote');
  else if (seg.droppedBy) note = w('droppedNote')(seg.droppedBy);
  else if (!seg.selector) note = w('noSelector');
  $('segmenu-note').textContent = note;
  $('segmenu-note').hidden = !note;
  const can = !!seg.selector;
  for (const b of ['act-drop', 'act-delay', 'act-dup', 'act-corrupt']) $(b).disabled = !can;
  $('act-delay-ms').disabled = !can;
  $('act-undo').hidden = !(seg.droppedBy && userFaultIndex(seg.droppedBy) >= 0);
  const menu = $('segmenu');
  menu.hidden = false;
  // The menu is sticky at the top of the diagram's box: it shows without
  // scrolling, and focusing its button must not scroll the arrow away.
  (can ? $('act-drop') : $('act-undo').hidden ? $('act-cancel') : $('act-undo')).focus({preventScroll: true});
}

function closeMenu(refocus) {
  $('segmenu').hidden = true;
  for (const el of document.querySelectorAll('#diagram .sq-seg.selected')) el.classList.remove('selected');
  if (refocus && lastFocus && document.contains(lastFocus)) lastFocus.focus();
  selected = null;
}

async function act(action) {
  if (!selected || !selected.selector) return;
  const f = {action, selector: selected.selector};
  if (action === 'delay') {
    const ms = String($('act-delay-ms').value).trim();
    if (!/^[0-9]*\.?[0-9]+$/.test(ms) || Number(ms) <= 0) {
      showError('err-segmenu', w('badDelay'));
      return;
    }
    f.delay = ms + 'ms';
  }
  settings.faults.push(f);
  if (!(await run('err-segmenu'))) {
    $('segmenu').hidden = false;
  }
}

function addBySelector() {
  const f = {action: $('new-action').value, selector: $('new-selector').value.trim()};
  if (f.action === 'delay') f.delay = durationOf($('new-delay').value, 'ms');
  settings.faults.push(f);
  run('err-newfault').then(ok => { if (ok) $('new-selector').value = ''; });
}

// Static words, in the chosen language.
function translate() {
  document.documentElement.lang = settings.lang === 'zh' ? 'zh-Hans' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) {
    const t = w(el.dataset.i18n);
    if (typeof t === 'string') el.textContent = t;
  }
  const custom = $('scenario').querySelector('option[value="custom"]');
  if (custom) custom.textContent = w('custom');
  for (const o of $('scenario').options) {
    if (o.dataset.summaryEn) o.title = settings.lang === 'zh' ? o.dataset.summaryZh : o.dataset.summaryEn;
  }
}

function saveHash() {
  history.replaceState(null, '', '#' + encodeURIComponent(JSON.stringify(settings)));
}

function loadHash() {
  if (location.hash.length < 2) return;
  try {
    const s = JSON.parse(decodeURIComponent(location.hash.slice(1)));
    Object.assign(settings, s);
    settings.custom = Object.assign({}, settings.custom, s.custom);
    if (!Array.isArray(settings.faults)) settings.faults = [];
  } catch (e) { /* a hand-edited fragment: keep the defaults */ }
}

function syncControls() {
  $('scenario').value = settings.scenario;
  $('custom').hidden = settings.scenario !== 'custom';
  $('msl').value = settings.msl;
  $('seed').value = settings.seed;
  $('absolute').checked = settings.absolute;
  $('lang').value = settings.lang;
  for (const k of Object.keys(settings.custom)) {
    const el = $('custom-' + k);
    if (el) el.value = settings.custom[k];
  }
}

async function start() {
  loadHash();
  let list = [];
  try {
    list = (await (await fetch('api/scenarios')).json()).scenarios;
  } catch (e) {
    showError('err-scenario', w('unreachable') + e.message);
  }
  const sel = $('scenario');
  for (const s of list) {
    const o = document.createElement('option');
    o.value = s.name;
    o.textContent = s.name;
    o.dataset.summaryEn = s.summary;
    o.dataset.summaryZh = s.summaryZh || s.summary;
    o.title = s.summary;
    sel.append(o);
  }
  const o = document.createElement('option');
  o.value = 'custom';
  sel.append(o);
  syncControls();
  translate();

  sel.addEventListener('change', () => {
    settings.scenario = sel.value;
    settings.faults = []; // a fault's selector means something only in its own scenario
    $('custom').hidden = sel.value !== 'custom';
    run();
  });
  $('lang').addEventListener('change', () => { settings.lang = $('lang').value; translate(); run(); });
  $('absolute').addEventListener('change', () => { settings.absolute = $('absolute').checked; run(); });
  for (const [id, key] of [['msl', 'msl'], ['seed', 'seed']]) {
    $(id).addEventListener('change', () => { settings[key] = $(id).value; run(); });
  }
  for (const k of Object.keys(settings.custom)) {
    const el = $('custom-' + k);
    if (el) el.addEventListener('change', () => { settings.custom[k] = el.value; run(); });
  }
  $('act-drop').addEventListener('click', () => act('drop'));
  $('act-delay').addEventListener('click', () => act('delay'));
  $('act-dup').addEventListener('click', () => act('dup'));
  $('act-corrupt').addEventListener('click', () => act('corrupt'));
  $('act-cancel').addEventListener('click', () => closeMenu(true));
  $('act-undo').addEventListener('click', () => {
    const i = selected ? userFaultIndex(selected.droppedBy) : -1;
    if (i >= 0) { settings.faults.splice(i, 1); run(); }
  });
  $('segmenu').addEventListener('keydown', e => { if (e.key === 'Escape') closeMenu(true); });
  $('new-add').addEventListener('click', addBySelector);
  $('new-selector').addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); addBySelector(); } });
  $('controls').addEventListener('submit', e => e.preventDefault());
  await run();
}

start();
