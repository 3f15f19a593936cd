// Embedding (docs/embedding.md): the page loaded with #script= and #lesson= in its URL
// fragment, the Next and Reset buttons of run=step, the example tutorial page and its
// postMessage buttons, two widgets on one page, hostile fragments, the saved session and
// origins=.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, saveArtifact, clickTarget, distinctColours } from './harness.mjs';

const env = useBrowser();

const b64url = (text) => Buffer.from(text, 'utf8').toString('base64url');
const MMAP_FIXED = 'p = mmap(0x600000000, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)';

const state = (f) => f.evaluate(() => window.vmplay.state());
const log = (f) => f.evaluate(() => window.vmplay.log());
const ready = (f) => f.waitForFunction(() => window.vmplay && window.vmplay.ready === true, null, { timeout: 30000 });

// The page with a fragment; fails the test on page errors and on any dialog.
async function openWidget(hash, opts) {
  const { page, errors } = await openVmplay(env.browser, env.server.url + 'index.html#' + hash, opts);
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  return { page, errors };
}

// A host page of our own, served from the same server (serve() only serves dist, so the
// route answers for it), so that its iframes are same-server URLs.
async function openHost(html, { width = 1400, height = 1000 } = {}) {
  const page = await env.browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  const url = env.server.url + 'test-host.html';
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await page.goto(url);
  return { page, errors };
}

// The host side of the protocol, as docs/embedding.md shows it: every message from an
// iframe is recorded with the iframe's index; send() posts a request and awaits the
// answer with its id.
const HOST_JS = `
  window.got = [];
  window.addEventListener('message', (e) => {
    const frames = [...document.querySelectorAll('iframe')];
    const i = frames.findIndex((f) => f.contentWindow === e.source);
    window.got.push({ from: i, origin: e.origin, data: e.data });
  });
  let next = 1;
  window.send = (i, msg, timeout = 10000) => new Promise((resolve) => {
    const id = 'h' + next++;
    const frame = document.querySelectorAll('iframe')[i];
    const t0 = Date.now();
    (function poll() {
      const r = window.got.find((g) => g.from === i && g.data && g.data.type === 'vmplay.result' && g.data.id === id);
      if (r) return resolve(r.data);
      if (Date.now() - t0 > timeout) return resolve(null);
      setTimeout(poll, 20);
    })();
    frame.contentWindow.postMessage({ ...msg, id }, '*');
  });
  window.readyCount = (i) => window.got.filter((g) => g.from === i && g.data && g.data.type === 'vmplay.ready').length;
`;

function hostPage(srcs) {
  return `<!doctype html><meta charset="utf-8"><title>host</title><body style="margin:0">
${srcs.map((s, i) => `<iframe name="w${i}" src="${s}" width="640" height="420" style="border:0;display:block"></iframe>`).join('\n')}
<script>${HOST_JS}</script>`;
}

async function frameOf(page, i) {
  const el = (await page.$$('iframe'))[i];
  const frame = await el.contentFrame();
  await ready(frame);
  return { el, frame };
}

// Clicks a named item (App::mark) inside an iframe: its rectangle is in the iframe's
// coordinates, the mouse in the top page's.
async function clickInFrame(page, el, frame, name) {
  await el.scrollIntoViewIfNeeded();
  const h = await frame.waitForFunction((n) => (window.vmplay.ui().targets || {})[n] || null, name, { timeout: 5000 });
  const r = await h.jsonValue();
  const box = await el.boundingBox();
  const x = box.x + (r[0] + r[2]) / 2;
  const y = box.y + (r[1] + r[3]) / 2;
  await page.mouse.move(x, y);
  await page.waitForTimeout(100);
  await page.mouse.click(x, y);
}

// ---- (a) #script= and #lesson= ----

test('#script= runs its lines at load; state() shows the mapping', async () => {
  const script = ['# a narrated script', MMAP_FIXED, "p[4096] = 'A'", 'n = 2 * PAGE_SIZE'].join('\n');
  const { page, errors } = await openWidget('script=' + b64url(script) + '&layout=compact');
  await page.waitForFunction(() => window.vmplay.state().variables.n !== undefined, null, { timeout: 10000 });
  const s = await state(page);
  assert.equal(s.variables.p, '0x600000000');
  assert.equal(s.variables.n, '0x2000');
  const vma = s.processes[0].vmas.find((v) => v.start === '0x600000000');
  assert.ok(vma, 'the script mapped p');
  assert.equal(vma.end, '0x600002000');
  assert.ok(s.processes[0].ptes.some((e) => e.addr === '0x600001000'), 'the write faulted in its page');
  assert.match(await log(page), /^# a narrated script$/m, 'narration is printed');
  assert.equal((await page.evaluate(() => window.vmplay.ui())).layout, 'compact');
  // Padding is optional: the same script with '=' padding loads too.
  const padded = Buffer.from('x = 5').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  assert.match(padded, /=$/);
  const p2 = await openWidget('script=' + padded);
  await p2.page.waitForFunction(() => window.vmplay.state().variables.x === '0x5', null, { timeout: 10000 });
  assert.doesNotMatch(await log(p2.page), /^page:/m);
  assert.deepEqual(errors, []);
  assert.deepEqual(p2.errors, []);
  await p2.page.close();
  await page.close();
});

test('#lesson= with run=step: Next runs one line after its narration, Reset starts over', async () => {
  const { page, errors } = await openWidget('lesson=05-copy-on-write&layout=compact');
  await page.waitForTimeout(300);
  const s0 = await state(page);
  assert.equal(s0.variables.p, undefined, 'step mode runs nothing at load');
  await clickTarget(page, 'script next');
  await page.waitForFunction(() => window.vmplay.state().variables.p === '0x700000000', null, { timeout: 5000 });
  const s1 = await state(page);
  assert.ok(s1.lines_run > s0.lines_run, `lines_run ${s0.lines_run} -> ${s1.lines_run}`);
  assert.match(await log(page), /^# Copy-on-write after fork, seen through smaps\.$/m, 'the narration before the line');
  await clickTarget(page, 'script next');  // p[0] = 42
  await page.waitForFunction(() => window.vmplay.state().processes[0].ptes.some((e) => e.addr === '0x700000000'), null, { timeout: 5000 });
  const s2 = await state(page);
  assert.ok(s2.lines_run > s1.lines_run);
  await clickTarget(page, 'script next');  // fork()
  await page.waitForFunction(() => window.vmplay.state().processes.length === 2, null, { timeout: 5000 });
  await saveArtifact('embed-lesson-step.png', await page.screenshot());

  await clickTarget(page, 'script reset');
  await page.waitForFunction(() => window.vmplay.state().variables.p === undefined, null, { timeout: 5000 });
  assert.equal((await state(page)).processes.length, 1, 'a fresh machine');
  await clickTarget(page, 'script next');  // back at line 1
  await page.waitForFunction(() => window.vmplay.state().variables.p === '0x700000000', null, { timeout: 5000 });
  assert.equal((await state(page)).processes.length, 1, 'Next ran the first line again, not the fourth');
  assert.deepEqual(errors, []);
  await page.close();
});

test('#lesson= by number; run=none only fills the input history', async () => {
  const { page, errors } = await openWidget('lesson=3&run=all');
  await page.waitForFunction(() => window.vmplay.state().variables.buf !== undefined, null, { timeout: 10000 });
  await page.close();

  const script = ['q = 40', 'q = q + 2'].join('\n');
  const w = await openWidget('script=' + b64url(script) + '&run=none&layout=full');
  await w.page.waitForTimeout(300);
  assert.equal((await state(w.page)).variables.q, undefined, 'run=none runs nothing');
  await w.page.locator('canvas').click({ position: { x: 100, y: 700 } });
  for (const key of ['ArrowUp', 'ArrowUp', 'Enter', 'ArrowUp', 'ArrowUp', 'Enter']) {
    // Up, Up: q = 40 (the last line comes first); then Up, Up: q = q + 2.
    await w.page.keyboard.press(key);
    await w.page.waitForTimeout(60);
  }
  await w.page.waitForFunction(() => window.vmplay.state().variables.q !== undefined, null, { timeout: 5000 });
  await w.page.waitForTimeout(200);
  const q = (await state(w.page)).variables.q;
  assert.ok(q === '0x28' || q === '0x2a', `a recalled line ran (q = ${q})`);
  assert.deepEqual(errors, []);
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('unknown keys and bad values are named in a page: message; the rest applies', async () => {
  const { page, errors } = await openWidget('script=' + b64url('x = 1') +
    '&colour=red&run=sideways&layout=huge&panels=shell,maps,nonsense&theme=light&ram=banana');
  await page.waitForFunction(() => window.vmplay.state().variables.x === '0x1', null, { timeout: 10000 });
  const text = await log(page);
  for (const key of ['colour', 'run', 'layout', 'panels', 'ram'])
    assert.match(text, new RegExp(`^page:.*\\b${key}\\b`, 'm'), `a page: message names ${key}:\n${text}`);
  assert.doesNotMatch(text, /^page: theme=/m, 'theme=light is a good value');
  assert.equal((await page.evaluate(() => window.vmplay.ui())).theme, 'light', 'theme=light applied');
  assert.deepEqual(errors, []);
  await page.close();
});

test('ram= starts the machine with that many frames; panels= shows only those views', async () => {
  const { page, errors } = await openWidget('script=' + b64url('x = 1') + '&ram=256&panels=shell,frames,stats');
  await page.waitForFunction(() => window.vmplay.state().variables.x === '0x1', null, { timeout: 10000 });
  assert.equal((await state(page)).frames.total, 256);
  const out = await page.evaluate(() => window.vmplay.exec('free'));
  assert.match(out, /^Mem: +984 /m, `256 frames, less the reserved ones, are 984 KiB:\n${out}`);
  await page.waitForTimeout(200);
  const targets = (await page.evaluate(() => window.vmplay.ui())).targets || {};
  assert.ok(targets['tab frames'], 'the frames tab is there');
  assert.ok(targets['tab stats'], 'the stats tab is there');
  assert.equal(targets['tab pagetables'], undefined, 'no page-tables tab');
  assert.equal(targets['tab vmas'], undefined, 'no address-space tab');
  await saveArtifact('embed-panels.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

// ---- (b) the example tutorial ----

test('the tutorial page: three widgets, and their buttons get results back', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('dialog', (d) => { errors.push('dialog'); d.dismiss().catch(() => {}); });
  await page.goto(env.server.url + 'examples/tutorial.html');
  // A widget's buttons are enabled by its vmplay.ready message.
  for (const id of ['kinds', 'cow', 'guard'])
    await page.waitForFunction((i) => [...document.querySelectorAll(`.controls[data-for="w-${i}"] button`)].every((b) => !b.disabled),
      id, { timeout: 30000 });

  const button = (section, text) => page.locator(`.controls[data-for="w-${section}"] button`, { hasText: text }).first();
  const out = (section) => page.locator(`#out-${section}`);
  async function press(section, text, expect) {
    const before = await out(section).textContent();
    await button(section, text).click();
    await page.waitForFunction(([s, b]) => document.getElementById('out-' + s).textContent !== b, [section, before], { timeout: 10000 });
    const got = await out(section).textContent();
    if (expect) assert.match(got, expect, `${section} / ${text}:\n${got}`);
    return got;
  }

  // 1. The four kinds, stepped: nothing has run; maps shows the program's own mappings.
  const kinds = (await (await page.$('#w-kinds')).contentFrame());
  assert.equal((await state(kinds)).variables.a, undefined, 'run=step ran nothing');
  await press('kinds', 'cat /proc/self/maps', /\[stack\]/);
  await clickInFrame(page, await page.$('#w-kinds'), kinds, 'script next');
  await kinds.waitForFunction(() => window.vmplay.state().variables.a !== undefined, null, { timeout: 5000 });
  await press('kinds', 'pmap -x', /total kB/);
  await press('kinds', 'Reset');
  await kinds.waitForFunction(() => window.vmplay.state().variables.a === undefined, null, { timeout: 5000 });
  await page.mouse.move(0, 0);
  await page.waitForTimeout(200);
  await page.locator('#kinds').screenshot().then((b) => saveArtifact('tutorial-kinds.png', b));

  // 2. Copy-on-write: the script ran at load (p written); fork, the child writes, compare.
  const cow = await (await page.$('#w-cow')).contentFrame();
  assert.ok((await state(cow)).variables.p, 'run=all ran the script');
  await press('cow', 'fork()', /^fork\(\) = 2$/m);
  await press('cow', "[pid 2] p[0] = 'B'", /copy-on-write/);
  await press('cow', 'compare', /^p\[0\] = 65 'A'$[\s\S]*^\[pid 2\] p\[0\] = 66 'B'$/m);
  await press('cow', 'walk p in both', /walk of 0x[0-9a-f]+ in pid 2/);
  await page.waitForTimeout(200);
  await page.locator('#cow').screenshot().then((b) => saveArtifact('tutorial-cow.png', b));

  // 3. The guard page: its touch kills the process; the next line says reset; Start over.
  await press('guard', "g[0] = 'x'", /page fault: write, anonymous/);
  await press('guard', 'touch the guard page', /SIGSEGV/);
  const dead = await press('guard', "g[2 * PAGE_SIZE] = 'z'", /killed by SIGSEGV/);
  assert.match(dead, /error:/);
  assert.equal(await page.locator('#out-guard .error').count(), 1, 'the error line is marked');
  await page.waitForTimeout(200);
  await page.locator('#guard').screenshot().then((b) => saveArtifact('tutorial-guard.png', b));
  await press('guard', 'Start over', /mprotect\(0x[0-9a-f]+, 4096, PROT_NONE\) = 0/);
  await press('guard', "g[0] = 'x'", /page fault: write, anonymous/);
  const guard = await (await page.$('#w-guard')).contentFrame();
  const vmas = (await state(guard)).processes[0].vmas.map((v) => v.perms);
  assert.ok(vmas.includes('---p'), 'the guard VMA is there again');

  // Nothing from the widgets' output became HTML in the host.
  assert.equal(await page.locator('pre.out *:not(span.error)').count(), 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  const png = await page.screenshot({ fullPage: true });
  const file = await saveArtifact('tutorial-page.png', png);
  assert.ok(await distinctColours(page, png) > 20, `the page looks blank: ${file}`);
  assert.deepEqual(errors, []);
  await page.close();
});

// ---- (c) two widgets ----

test('two widgets on one page keep separate machines and answer separately', async () => {
  const a = env.server.url + 'index.html#script=' + b64url('first = 1') + '&layout=compact';
  const b = env.server.url + 'index.html#script=' + b64url('second = 2') + '&layout=compact&panels=shell,frames';
  const { page, errors } = await openHost(hostPage([a, b]));
  const w0 = await frameOf(page, 0);
  const w1 = await frameOf(page, 1);
  await page.waitForFunction(() => window.readyCount(0) === 1 && window.readyCount(1) === 1, null, { timeout: 10000 });

  const r0 = await page.evaluate(() => window.send(0, { type: 'vmplay.exec', line: 'p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\np[0] = 1' }));
  assert.ok(r0, 'widget 0 answered');
  assert.match(r0.output, /^mmap\(NULL, 4096, .*\) = 0x[0-9a-f]+$/m);
  assert.equal(r0.error, null);
  const r1 = await page.evaluate(() => window.send(1, { type: 'vmplay.exec', line: 'only_here = 7' }));
  assert.equal(r1.output, 'only_here = 0x7\n');
  const bad = await page.evaluate(() => window.send(1, { type: 'vmplay.exec', line: 'p[0] = 1' }));
  assert.match(bad.error, /^error: /, 'p is not a variable in widget 1');
  assert.ok(bad.output.includes(bad.error), 'error is a line of the output');

  const s0 = await state(w0.frame);
  const s1 = await state(w1.frame);
  assert.equal(s0.variables.first, '0x1');
  assert.ok(s0.variables.p);
  assert.equal(s0.variables.only_here, undefined);
  assert.equal(s0.variables.second, undefined);
  assert.equal(s1.variables.second, '0x2');
  assert.equal(s1.variables.only_here, '0x7');
  assert.equal(s1.variables.p, undefined);
  assert.equal(s1.variables.first, undefined);
  // Results and changes came from the widget that was asked.
  const got = await page.evaluate(() => window.got);
  const results = got.filter((g) => g.data.type === 'vmplay.result');
  assert.deepEqual(results.map((g) => g.from), [0, 1, 1]);
  assert.ok(got.some((g) => g.from === 0 && g.data.type === 'vmplay.changed'), 'widget 0 said changed');
  assert.ok(got.some((g) => g.from === 1 && g.data.type === 'vmplay.changed'), 'widget 1 said changed');

  // vmplay.load runs a script; vmplay.reset starts over: each in its own widget only.
  const load = await page.evaluate(() => window.send(1, { type: 'vmplay.load', script: 'l1 = 1\nl2 = l1 + 1\n' }));
  assert.ok(load, 'load answered');
  assert.equal((await state(w1.frame)).variables.l2, '0x2');
  const reset = await page.evaluate(() => window.send(0, { type: 'vmplay.reset' }));
  assert.ok(reset, 'reset answered');
  assert.equal((await state(w0.frame)).variables.p, undefined, 'widget 0 was reset');
  assert.equal((await state(w1.frame)).variables.l2, '0x2', 'widget 1 was not');
  await saveArtifact('embed-two.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

test('vmplay.reset on a run=step widget starts over like its Reset button: Next is back at line 1', async () => {
  const script = ['# step one', 'first = 1', '# step two', 'second = first + 1'].join('\n');
  const src = env.server.url + 'index.html#script=' + b64url(script) + '&run=step&layout=compact';
  const { page, errors } = await openHost(hostPage([src]));
  const w = await frameOf(page, 0);
  await page.waitForFunction(() => window.readyCount(0) === 1, null, { timeout: 10000 });
  await clickInFrame(page, w.el, w.frame, 'script next');
  await w.frame.waitForFunction(() => window.vmplay.state().variables.first === '0x1', null, { timeout: 5000 });
  const r = await page.evaluate(() => window.send(0, { type: 'vmplay.reset' }));
  assert.ok(r, 'reset answered');
  assert.equal(r.error, null);
  assert.equal((await state(w.frame)).variables.first, undefined, 'a fresh machine');
  await clickInFrame(page, w.el, w.frame, 'script next');
  await page.waitForTimeout(300);
  const v = (await state(w.frame)).variables;
  assert.equal(v.first, '0x1', `Next ran line 1 again (variables ${JSON.stringify(v)}; log:\n${(await log(w.frame)).slice(-400)})`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('embedded: typing goes to the widget only after a click; the wheel scrolls the host unless over a scrolling panel', async () => {
  const src = env.server.url + 'index.html#script=' + b64url('cat /proc/self/maps\ncat /proc/self/maps') + '&layout=compact';
  const html = `<!doctype html><meta charset="utf-8"><body style="margin:0">
    <input id="host-input" style="display:block;margin:8px;font-size:16px">
    <iframe src="${src}" width="640" height="420" style="border:0;display:block"></iframe>
    <div style="height:3000px">tall host page</div>
    <script>${HOST_JS}</script>`;
  const { page, errors } = await openHost(html, { width: 900, height: 700 });
  const w = await frameOf(page, 0);
  await page.waitForTimeout(300);
  // The host's own input keeps its typing.
  await page.locator('#host-input').click();
  await page.keyboard.type('typed = 1', { delay: 5 });
  assert.equal(await page.locator('#host-input').inputValue(), 'typed = 1');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.equal((await state(w.frame)).variables.typed, undefined, 'the widget did not take the host page\'s keys');
  // A click in the widget, then typing runs lines there.
  const box = await w.el.boundingBox();
  await page.mouse.click(box.x + 300, box.y + 405);  // the shell's input line, at the bottom
  await page.waitForTimeout(200);
  await page.keyboard.type('clicked = 2', { delay: 5 });
  await page.keyboard.press('Enter');
  await w.frame.waitForFunction(() => window.vmplay.state().variables.clicked === '0x2', null, { timeout: 5000 });

  // The wheel over the tab bar (nothing to scroll there) scrolls the host page.
  await page.mouse.move(box.x + 600, box.y + 8);
  await page.waitForTimeout(100);
  await page.mouse.wheel(0, 200);
  await page.waitForFunction(() => window.scrollY > 0, null, { timeout: 3000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  // Over the console, full of maps, the console scrolls and the host page does not.
  const box2 = await w.el.boundingBox();
  await page.mouse.move(box2.x + 300, box2.y + 330);
  await page.waitForTimeout(100);
  await page.mouse.wheel(0, 200);
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.scrollY), 0, 'the host page did not scroll');
  assert.deepEqual(errors, []);
  await page.close();
});

// ---- (d) hostile fragments ----

test('HTML in #script= is refused as shell lines: no dialog, nothing injected', async () => {
  const script = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '"><svg onload=alert(3)>',
    'javascript:alert(4)', 'ok = 1'].join('\n');
  const { page, errors } = await openWidget('script=' + b64url(script));
  await page.waitForTimeout(1500);
  const text = await log(page);
  assert.ok((text.match(/error:/g) || []).length >= 4, `each HTML line is refused:\n${text}`);
  const dom = await page.evaluate(() => ({
    imgs: document.querySelectorAll('img, svg, iframe').length,
    scripts: [...document.scripts].map((s) => s.src || 'inline'),
  }));
  assert.equal(dom.imgs, 0, 'no element was injected');
  assert.ok(dom.scripts.every((s) => s === 'inline' || s.endsWith('/vmplay.js')), dom.scripts.join(','));
  assert.equal(await page.evaluate(() => window.vmplay.exec('y = 2')), 'y = 0x2\n', 'the page still works');
  assert.deepEqual(errors, [], 'no dialog, no page error');
  await page.close();
});

test('an enormous #script= (over 1 MiB, or over 10,000 lines) is refused; nothing runs', async () => {
  const big = ['big = 1', ...Array.from({ length: 1100 }, (_, i) => `# ${i} ${'x'.repeat(1000)}`)].join('\n');
  assert.ok(Buffer.byteLength(big) > 1024 * 1024);
  const { page, errors } = await openWidget('script=' + b64url(big));
  await page.waitForTimeout(1000);
  assert.match(await log(page), /^page:.*script/m);
  assert.equal((await state(page)).variables.big, undefined, 'nothing ran');
  assert.equal(await page.evaluate(() => window.vmplay.exec('z = 3')), 'z = 0x3\n', 'the page works');
  assert.deepEqual(errors, []);
  await page.close();

  const many = ['many = 1', ...Array.from({ length: 10000 }, (_, i) => `v = ${i}`)].join('\n');
  const w = await openWidget('script=' + b64url(many));
  await w.page.waitForTimeout(1000);
  assert.match(await log(w.page), /^page:.*script/m);
  const s = await state(w.page);
  assert.equal(s.variables.many, undefined, 'nothing ran');
  assert.equal(s.variables.v, undefined);
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('#script= that is not base64url, or not UTF-8, is reported; the page works', async () => {
  for (const [what, value] of [['bad characters', 'eCA9IDE*$$'], ['standard base64', b64url('x = 1\n?>?>').replace(/-/g, '+').replace(/_/g, '/') + '+/'],
    ['impossible length', 'eCA9I'], ['not UTF-8', Buffer.from([0x78, 0x20, 0x3d, 0x20, 0xff, 0xfe, 0x0a]).toString('base64url')]]) {
    const { page, errors } = await openWidget('script=' + value);
    await page.waitForTimeout(500);
    const text = await log(page);
    assert.match(text, /^page:.*script/m, `${what}: a page: message\n${text}`);
    assert.equal((await state(page)).variables.x, undefined, `${what}: nothing ran`);
    assert.equal(await page.evaluate(() => window.vmplay.exec('w = 4')), 'w = 0x4\n', `${what}: the page works`);
    assert.deepEqual(errors, [], what);
    await page.close();
  }
});

// ---- (e) the saved session ----

async function storageKeys(page) {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('vmplay')));
}

test('the session survives a reload; reset then reload is fresh', async () => {
  const { page, errors } = await openWidget('layout=full');
  await page.locator('canvas').click({ position: { x: 100, y: 700 } });
  await page.waitForTimeout(200);
  for (const line of [MMAP_FIXED, "p[0] = 'A'", 'keep = 99']) {
    await page.keyboard.type(line, { delay: 1 });
    await page.keyboard.press('Enter');
    await page.waitForTimeout(100);
  }
  await page.waitForFunction(() => window.vmplay.state().variables.keep === '0x63', null, { timeout: 10000 });
  assert.equal((await state(page)).variables.p, '0x600000000', 'the typed mmap ran');
  assert.ok((await storageKeys(page)).length >= 1, 'something was saved under a vmplay key');
  await page.reload();
  await ready(page);
  await page.waitForFunction(() => window.vmplay.state().variables.keep === '0x63', null, { timeout: 10000 });
  const s = await state(page);
  assert.equal(s.variables.p, '0x600000000');
  assert.ok(s.processes[0].ptes.some((e) => e.addr === '0x600000000'), 'the write ran again');

  await page.evaluate(() => window.vmplay.exec('reset'));
  await page.waitForFunction(() => window.vmplay.state().variables.keep === undefined, null, { timeout: 10000 });
  await page.waitForTimeout(200);
  await page.reload();
  await ready(page);
  await page.waitForTimeout(500);
  assert.equal((await state(page)).variables.keep, undefined, 'after reset, a reload is fresh');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a burst of changes is saved a moment later, not once per change, and a reload has all of it', async () => {
  const { page, errors } = await openWidget('layout=compact');
  // Count the page's writes of the session while ten commands run, each drawn in a frame
  // of its own: saved in every frame that showed a change, that was ten writes; saved a
  // fifth of a second after a change, at most one per 200 ms of the burst, and one more.
  const r = await page.evaluate(async () => {
    let n = 0;
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      if (String(k).startsWith('vmplay:')) n++;
      return set.call(this, k, v);
    };
    const frame = () => new Promise((res) => requestAnimationFrame(() => res()));
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      window.vmplay.exec(`burst${i} = ${i}`);
      await frame();
      await frame();
    }
    const elapsed = performance.now() - t0;
    await new Promise((res) => setTimeout(res, 600));
    Storage.prototype.setItem = set;
    return { n, elapsed };
  });
  assert.ok(r.n >= 1 && r.n <= Math.ceil(r.elapsed / 200) + 1,
            `the burst (${r.elapsed.toFixed(0)} ms) was saved ${r.n} times`);
  const saved = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('vmplay:'))
    .map((k) => JSON.parse(localStorage.getItem(k)).script).join(''));
  assert.match(saved, /burst9 = 9/, 'the last command is in what was saved');
  await page.reload();
  await ready(page);
  await page.waitForFunction(() => window.vmplay.state().variables.burst9 === '0x9', null, { timeout: 10000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the Reset button of run=step clears the saved session', async () => {
  const { page, errors } = await openWidget('lesson=5&layout=compact');
  await clickTarget(page, 'script next');
  await page.waitForFunction(() => window.vmplay.state().variables.p === '0x700000000', null, { timeout: 5000 });
  await page.waitForTimeout(200);
  await page.reload();
  await ready(page);
  await page.waitForFunction(() => window.vmplay.state().variables.p === '0x700000000', null, { timeout: 10000 });
  await clickTarget(page, 'script reset');
  await page.waitForFunction(() => window.vmplay.state().variables.p === undefined, null, { timeout: 5000 });
  await page.waitForTimeout(200);
  await page.reload();
  await ready(page);
  await page.waitForTimeout(500);
  assert.equal((await state(page)).variables.p, undefined, 'Reset, then a reload starts fresh');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a saved session of another version, or not JSON, is ignored with a message', async () => {
  const url = env.server.url + 'index.html#layout=compact';
  const { page, errors } = await openWidget('layout=compact');
  await page.evaluate(() => window.vmplay.exec('saved = 5'));
  await page.waitForTimeout(300);
  const keys = await storageKeys(page);
  assert.ok(keys.length >= 1, 'a vmplay key in localStorage');
  const values = await page.evaluate((ks) => ks.map((k) => localStorage.getItem(k)), keys);
  // Another version: change whatever field holds the version.
  const edited = values.map((v) => {
    const o = JSON.parse(v);
    const field = Object.keys(o).find((k) => /^(v|ver|version|format|schema)$/i.test(k));
    assert.ok(field, `a version field in the saved value: ${v.slice(0, 200)}`);
    o[field] = typeof o[field] === 'number' ? o[field] + 1000 : 'not-' + String(o[field]);
    return JSON.stringify(o);
  });
  for (const [what, vals] of [['another version', edited], ['invalid JSON', values.map(() => '{"not json')]]) {
    // The page saves again as it is left, so the stored value is changed from another
    // page of the same origin, as an older vmplay would have left it.
    const blank = env.server.url + 'blank.html';
    await page.route(blank, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
    await page.goto(blank);
    await page.evaluate(([ks, vs]) => ks.forEach((k, i) => localStorage.setItem(k, vs[i])), [keys, vals]);
    await page.goto(url);
    await ready(page);
    await page.waitForTimeout(500);
    assert.equal((await state(page)).variables.saved, undefined, `${what}: not restored`);
    assert.match(await log(page), /^page:.*(version|saved|read)/m, `${what}: a page: message`);
    assert.equal(await page.evaluate(() => window.vmplay.exec('u = 6')), 'u = 0x6\n', `${what}: the page works`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('Machine -> Copy link puts the page address and #script= of the session on the clipboard', async () => {
  const context = await env.browser.newContext({
    viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(env.server.url + 'index.html#layout=full');
  await ready(page);
  await page.evaluate((l) => window.vmplay.exec(l + "\np[0] = 'A'\nlinked = 77"), MMAP_FIXED);
  await page.evaluate(() => navigator.clipboard.writeText('nothing yet'));
  await clickTarget(page, 'menu Machine');
  await clickTarget(page, 'item Copy link');
  await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== 'nothing yet', null, { timeout: 5000 });
  const link = await page.evaluate(() => navigator.clipboard.readText());
  const m = /^(.*)#script=([A-Za-z0-9_-]+=*)$/.exec(link);
  assert.ok(m, `a #script= link: ${link.slice(0, 200)}`);
  assert.equal(m[1], env.server.url + 'index.html');
  const script = Buffer.from(m[2], 'base64url').toString('utf8');
  assert.match(script, /^p = mmap\(0x600000000, 8192,/m);
  assert.match(script, /^linked = 77$/m);
  // The link rebuilds the machine in a fresh browser context.
  const fresh = await openWidget('script=' + m[2]);
  await fresh.page.waitForFunction(() => window.vmplay.state().variables.linked === '0x4d', null, { timeout: 10000 });
  assert.ok((await state(fresh.page)).processes[0].ptes.some((e) => e.addr === '0x600000000'));
  await fresh.page.close();
  assert.deepEqual(errors, []);
  await context.close();
});

// ---- (f) who may send messages ----

test('origins= set to another origin: the parent is ignored; set to ours: obeyed', async () => {
  const own = new URL(env.server.url).origin;
  const other = env.server.url + 'index.html#script=' + b64url('start = 1') + '&origins=https://tutorials.example.org';
  const mine = env.server.url + 'index.html#script=' + b64url('start = 2') + '&origins=https://elsewhere.example,' + own;
  const { page, errors } = await openHost(hostPage([other, mine]));
  const w0 = await frameOf(page, 0);
  const w1 = await frameOf(page, 1);
  await w0.frame.waitForFunction(() => window.vmplay.state().variables.start === '0x1', null, { timeout: 10000 });

  const ignored = await page.evaluate(() => window.send(0, { type: 'vmplay.exec', line: 'hacked = 1' }, 1500));
  assert.equal(ignored, null, 'no answer');
  assert.equal((await state(w0.frame)).variables.hacked, undefined, 'the line did not run');
  const ignored2 = await page.evaluate(() => window.send(0, { type: 'vmplay.reset' }, 1000));
  assert.equal(ignored2, null);
  assert.equal((await state(w0.frame)).variables.start, '0x1', 'not reset');

  const obeyed = await page.evaluate(() => window.send(1, { type: 'vmplay.exec', line: 'allowed = 1' }));
  assert.ok(obeyed, 'our origin is in the list');
  assert.equal(obeyed.output, 'allowed = 0x1\n');

  // A message from a window that is not the parent (here the widget itself, or its
  // sibling) is ignored even without origins=.
  await w1.frame.evaluate(() => window.postMessage({ type: 'vmplay.exec', id: 'self', line: 'self_sent = 1' }, '*'));
  await w0.frame.evaluate(() => window.parent.frames[1].postMessage({ type: 'vmplay.exec', id: 'sib', line: 'sibling_sent = 1' }, '*'));
  await page.waitForTimeout(1000);
  const s1 = await state(w1.frame);
  assert.equal(s1.variables.self_sent, undefined);
  assert.equal(s1.variables.sibling_sent, undefined);
  assert.deepEqual(errors, []);
  await page.close();
});
