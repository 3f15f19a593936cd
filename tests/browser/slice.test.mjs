// The vertical slice in a real browser: type lines with the keyboard, check the
// state through window.vmplay.state(), check the canvas shows something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, distinctColours, saveArtifact, clickTarget } from './harness.mjs';

const env = useBrowser();

const MMAP = 'p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)';

test('typed lines build an address space and fault in a frame', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url);
  await page.locator('canvas').click({ position: { x: 100, y: 700 } });
  const before = await page.evaluate(() => window.vmplay.state());
  assert.equal(before.processes.length, 1);
  const rssBefore = before.processes[0].rss_anon;
  // pid 1 runs /home/user/a.out: its libraries, heap and stack are already mapped.
  assert.ok(before.processes[0].vmas.some((v) => v.name === '' && v.perms === 'rw-p'));

  for (const line of [MMAP, 'p[0] = 1', 'cat /proc/self/maps']) {
    await page.keyboard.type(line, { delay: 2 });
    await page.keyboard.press('Enter');
    await page.waitForTimeout(150);
  }
  await page.waitForFunction(() => window.vmplay.state().lines_run >= 3, null, { timeout: 30000 });
  const s = await page.evaluate(() => window.vmplay.state());
  const proc = s.processes[0];
  // As on this machine: the first mmap after startup lands right below the loader's
  // two pages and merges with them.
  assert.equal(s.variables.p, '0x7ffff7fbe000');
  const vma = proc.vmas.find((v) => v.start === '0x7ffff7fbe000');
  assert.ok(vma, 'a VMA starts at p');
  assert.equal(vma.end, '0x7ffff7fc2000');
  assert.equal(vma.perms, 'rw-p');
  assert.equal(proc.rss_anon, rssBefore + 1, 'the write faulted in one anonymous page');
  assert.ok(proc.ptes.some((e) => e.addr === '0x7ffff7fbe000'));
  const anon = s.frames.used.filter((f) => f.owner === 'anon');
  assert.ok(anon.length >= 1);

  const png = await page.screenshot();
  const file = await saveArtifact('slice.png', png);
  const colours = await distinctColours(page, png);
  assert.ok(colours > 20, `canvas looks blank (${colours} colours); see ${file}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('window.vmplay.exec returns the shell output, errors included', async () => {
  const { page } = await openVmplay(env.browser, env.server.url);
  const out = await page.evaluate((l) => window.vmplay.exec(l), MMAP);
  assert.equal(out, 'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fbe000\n');
  const maps = await page.evaluate(() => window.vmplay.exec('cat /proc/self/maps'));
  assert.match(maps, /^7ffff7fbe000-7ffff7fc2000 rw-p 00000000 00:00 0 $/m);
  assert.match(maps, /^7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 {26}\[stack\]$/m);
  const rss = (await page.evaluate(() => window.vmplay.state())).processes[0].rss_anon;
  const bad = await page.evaluate(() => window.vmplay.exec('p[0] = 300'));
  assert.match(bad, /does not fit in one byte/);
  const s = await page.evaluate(() => window.vmplay.state());
  assert.equal(s.processes[0].rss_anon, rss, 'a refused line changed nothing');
  await page.close();
});

test('the page follows resizes and renders sharp at devicePixelRatio 2', async () => {
  const { page } = await openVmplay(env.browser, env.server.url, { width: 900, height: 600, scale: 2 });
  const size = await page.evaluate(() => {
    const c = document.querySelector('canvas');
    return { w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight };
  });
  assert.equal(size.cw, 900);
  assert.equal(size.w, 1800, 'backing store is devicePixelRatio times the CSS size');
  await page.setViewportSize({ width: 700, height: 500 });
  await page.waitForFunction(() => document.querySelector('canvas').width === 1400, null, { timeout: 5000 });
  await saveArtifact('slice-dpr2.png', await page.screenshot());
  await page.close();
});

test('one window.vmplay.exec call runs at most 10000 lines, then says so', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url);
  const out = await page.evaluate(() => {
    const lines = [];
    for (let i = 0; i < 10005; ++i) lines.push(`v${i} = ${i}`);
    return window.vmplay.exec(lines.join('\n'));
  });
  assert.match(out, /^v9999 = 0x270f$/m);
  assert.doesNotMatch(out, /^v10000 = /m);
  assert.match(out, /error: stopped before line 10001: one call runs at most 10000 lines/);
  const s = await page.evaluate(() => window.vmplay.state());
  assert.equal(s.variables.v9999, '0x270f');
  assert.equal(s.variables.v10000, undefined);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a VMA the last line created scrolls into view in the address-space table', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url);
  const first = await page.evaluate(() => window.vmplay.ui().vmas);
  assert.equal(first.first_row, 0, 'the table starts at its top');
  await page.evaluate(() => window.vmplay.exec('q = mmap(0x7ffff8000000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)'));
  const s = await page.evaluate(() => window.vmplay.state());
  const row = s.processes[0].vmas.findIndex((v) => v.start === '0x7ffff8000000');
  assert.ok(row > first.last_row, `row ${row} starts out of view (rows ${first.first_row}-${first.last_row})`);
  await page.waitForFunction((r) => {
    const v = window.vmplay.ui().vmas;
    return v.first_row <= r && r <= v.last_row;
  }, row, { timeout: 5000 });
  await saveArtifact('vmas-scrolled.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking a pid above the VMA table runs `use N` and every panel follows', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url);
  await page.evaluate(() => window.vmplay.exec('fork()'));
  await page.waitForTimeout(200);
  await clickTarget(page, 'pid 2');  // the "2" after "pids: [1]"
  await page.waitForFunction(() => window.vmplay.state().current_pid === 2, null, { timeout: 5000 });
  const out = await page.evaluate(() => window.vmplay.exec('getpid()'));
  assert.equal(out, 'getpid() = 2\n');
  await saveArtifact('pids-use.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});
