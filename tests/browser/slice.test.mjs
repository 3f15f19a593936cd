// The vertical slice in a real browser: type lines with the keyboard, check the
// state through window.vmplay.state(), check the canvas shows something.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openVmplay, distinctColours, saveArtifact } from './harness.mjs';

let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const MMAP = 'p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)';

test('typed lines build an address space and fault in a frame', async () => {
  const { page, errors } = await openVmplay(browser, server.url);
  await page.locator('canvas').click({ position: { x: 100, y: 700 } });
  const before = await page.evaluate(() => window.vmplay.state());
  assert.equal(before.processes.length, 1);
  assert.equal(before.processes[0].vmas.length, 0);

  for (const line of [MMAP, 'p[0] = 1', 'cat /proc/self/maps']) {
    await page.keyboard.type(line, { delay: 2 });
    await page.keyboard.press('Enter');
    await page.waitForTimeout(150);
  }
  await page.waitForFunction(() => window.vmplay.state().lines_run >= 3, null, { timeout: 10000 });
  const s = await page.evaluate(() => window.vmplay.state());
  const proc = s.processes[0];
  assert.equal(proc.vmas.length, 1, 'one VMA after mmap');
  assert.equal(proc.vmas[0].start, '0x7ffff7ffd000');
  assert.equal(proc.vmas[0].end, '0x7ffff7fff000');
  assert.equal(proc.vmas[0].perms, 'rw-p');
  assert.equal(proc.rss_anon, 1, 'the write faulted in one anonymous page');
  assert.equal(proc.ptes.length, 1);
  assert.equal(proc.ptes[0].addr, '0x7ffff7ffd000');
  assert.equal(s.variables.p, '0x7ffff7ffd000');
  const anon = s.frames.used.filter((f) => f.owner === 'anon');
  assert.equal(anon.length, 1);
  assert.equal(anon[0].mapcount, 1);

  const png = await page.screenshot();
  const file = await saveArtifact('slice.png', png);
  const colours = await distinctColours(page, png);
  assert.ok(colours > 20, `canvas looks blank (${colours} colours); see ${file}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('window.vmplay.exec returns the shell output, errors included', async () => {
  const { page } = await openVmplay(browser, server.url);
  const out = await page.evaluate((l) => window.vmplay.exec(l), MMAP);
  assert.equal(out, 'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffd000\n');
  const maps = await page.evaluate(() => window.vmplay.exec('cat /proc/self/maps'));
  assert.equal(maps, '7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n');
  const bad = await page.evaluate(() => window.vmplay.exec('p[0] = 300'));
  assert.match(bad, /does not fit in one byte/);
  const s = await page.evaluate(() => window.vmplay.state());
  assert.equal(s.processes[0].rss_anon, 0, 'a refused line changed nothing');
  await page.close();
});

test('the page follows resizes and renders sharp at devicePixelRatio 2', async () => {
  const { page } = await openVmplay(browser, server.url, { width: 900, height: 600, scale: 2 });
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
