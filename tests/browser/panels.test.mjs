// The panels a learner reads after every command: the address-space map and the
// selected VMA, the frame grid (reverse map, contents), the timeline, the stats, and
// the two layouts. Each test drives the shell, checks what the panel shows through
// window.vmplay.ui(), and saves a screenshot in both layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, saveArtifact, clickTarget, target } from './harness.mjs';

const env = useBrowser();
const MMAP = 'p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)';
const FULL = { width: 1280, height: 800 };
const COMPACT = { width: 640, height: 420 };

const ui = (page) => page.evaluate(() => window.vmplay.ui());
const run = (page, line) => page.evaluate((l) => window.vmplay.exec(l), line);
const frame = (page) => page.waitForTimeout(120);

// The pfn a virtual address of pid 1 maps, from the state's PTEs.
async function pfnOf(page, addr) {
  const s = await page.evaluate(() => window.vmplay.state());
  const pte = s.processes[0].ptes.find((e) => e.addr === addr);
  return Number((BigInt(pte.entry) >> 12n) & ((1n << 40n) - 1n));
}

// Moves the pointer over a frame's cell in the grid.
async function hoverFrame(page, pfn) {
  const g = (await ui(page)).frames.grid;
  const x = g.x + (pfn % g.cols) * g.cell + g.cell / 3;
  const y = g.y + Math.floor(pfn / g.cols) * g.cell + g.cell / 3;
  await page.mouse.move(x, y);
  await frame(page);
  return [x, y];
}

for (const [name, size] of [['full', FULL], ['compact', COMPACT]]) {
  test(`address space (${name}): the map shows every VMA by kind; selecting one shows its flags and smaps`, async () => {
    const { page, errors } = await openVmplay(env.browser, env.server.url, size);
    await run(page, MMAP);
    await frame(page);
    const s = await page.evaluate(() => window.vmplay.state());
    let u = await ui(page);
    assert.equal(u.layout, name);
    assert.equal(u.vmas.map.vmas, s.processes[0].vmas.length);
    assert.equal(u.vmas.map.gaps, 5);  // below the program, its heap, the mmap area, the stack, above it
    for (const kind of ['file', 'heap', 'anonymous', 'special', 'stack']) assert.ok(u.vmas.map.kinds.includes(kind), kind);
    assert.equal(u.vmas.map.kinds.at(-1), 'stack');
    // Hovering the map names the segment under the pointer.
    const m = await target(page, 'vma map');
    await page.mouse.move(m[2] - 3, (m[1] + m[3]) / 2);
    await frame(page);
    assert.equal((await ui(page)).vmas.map.hovered, '0x7ffffffff000', 'the gap above the stack');
    // Select the new mapping's row: its smaps numbers show, and follow the next write.
    await clickTarget(page, 'vma 7ffff7fbe000');
    await page.waitForFunction(() => window.vmplay.ui().vmas.selected === '0x7ffff7fbe000', null, { timeout: 5000 });
    u = await ui(page);
    assert.equal(u.vmas.smaps.Size, '16 kB');
    assert.equal(u.vmas.smaps.Rss, '4 kB', "the loader's page it merged with");
    assert.match(u.vmas.smaps.VmFlags, /^rd wr mr mw me ac/);
    await run(page, "p[0] = 'A'");
    await frame(page);
    assert.equal((await ui(page)).vmas.smaps.Rss, '8 kB');
    await saveArtifact(`panel-vmas-${name}.png`, await page.screenshot());
    // The details' smaps button runs the line in the shell.
    await clickTarget(page, 'vma smaps');
    await frame(page);
    assert.equal(await page.evaluate(() => window.vmplay.state().lines_run), 3);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test(`frames (${name}): hover lists every mapping of a shared frame; a click shows its contents`, async () => {
    const { page, errors } = await openVmplay(env.browser, env.server.url, size);
    await page.evaluate(() => window.vmplay.show('frames'));
    await run(page, MMAP);
    await run(page, "p[1] = 'A'");
    await frame(page);
    assert.equal((await ui(page)).frames.touched, 1, 'the new frame is outlined');
    await run(page, 'fork()');
    const pfn = await pfnOf(page, '0x7ffff7fbe000');
    await hoverFrame(page, pfn);
    let u = await ui(page);
    assert.equal(u.frames.hovered, pfn);
    assert.equal(u.frames.hovered_mappers, 2, 'pid 1 and pid 2 both map it after fork');
    assert.ok(u.frames.lit >= 1);
    await saveArtifact(`panel-frames-hover-${name}.png`, await page.screenshot());
    await page.mouse.down();
    await frame(page);
    await page.mouse.up();
    await page.waitForFunction((n) => window.vmplay.ui().frames.selected === n, pfn, { timeout: 5000 });
    u = await ui(page);
    assert.match(u.frames.dump[0], new RegExp(`^pfn 0x${pfn.toString(16)} `));
    assert.ok(u.frames.dump.some((l) => l.includes(' 00 41 00 00 ') && l.endsWith('|.A..............|')));
    // The click ran `frames PFN` in the shell.
    assert.equal(await page.evaluate(() => window.vmplay.state().lines_run), 4);
    await page.mouse.move(5, 5);
    await frame(page);
    await saveArtifact(`panel-frames-dump-${name}.png`, await page.screenshot());
    assert.deepEqual(errors, []);
    await page.close();
  });

  test(`timeline (${name}): a click on a step goes back to the state after it; redo comes forward`, async () => {
    const { page, errors } = await openVmplay(env.browser, env.server.url, size);
    await page.evaluate(() => window.vmplay.show('timeline'));
    await run(page, MMAP);
    await run(page, "p[0] = 'A'");
    await run(page, 'fork()');
    await frame(page);
    assert.deepEqual((await ui(page)).timeline, { pos: 3, steps: 4, faults: { minor: 1, major: 0, cow: 0 } });
    await clickTarget(page, 'step 1');
    await page.waitForFunction(() => window.vmplay.ui().timeline.pos === 1, null, { timeout: 5000 });
    let s = await page.evaluate(() => window.vmplay.state());
    assert.equal(s.processes.length, 1, 'before the fork');
    assert.equal(s.processes[0].ptes.filter((e) => e.addr === '0x7ffff7fbe000').length, 0, 'before the write');
    assert.equal((await ui(page)).timeline.faults.minor, 0);
    await saveArtifact(`panel-timeline-${name}.png`, await page.screenshot());
    await clickTarget(page, 'timeline redo');
    await page.waitForFunction(() => window.vmplay.ui().timeline.pos === 2, null, { timeout: 5000 });
    s = await page.evaluate(() => window.vmplay.state());
    assert.equal(s.processes[0].ptes.filter((e) => e.addr === '0x7ffff7fbe000').length, 1, 'the write again');
    await clickTarget(page, 'timeline undo');
    await page.waitForFunction(() => window.vmplay.ui().timeline.pos === 1, null, { timeout: 5000 });
    // A new line here drops the steps that were ahead.
    await run(page, 'p[4096] = 1');
    await frame(page);
    assert.deepEqual((await ui(page)).timeline.steps, 3);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('stats: fault counters and meminfo follow the session (both layouts)', async () => {
  for (const [name, size] of [['full', FULL], ['compact', COMPACT]]) {
    const { page, errors } = await openVmplay(env.browser, env.server.url, size);
    await page.evaluate(() => window.vmplay.show('stats'));
    await run(page, MMAP);
    await run(page, "p[0] = 'A'");
    await run(page, 'fork()');
    await run(page, "p[0] = 'B'");
    await frame(page);
    const u = await ui(page);
    assert.deepEqual(u.timeline.faults, { minor: 2, major: 0, cow: 1 });
    assert.equal(u.front, 'stats');
    await saveArtifact(`panel-stats-${name}.png`, await page.screenshot());
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('an idle page draws a few frames a second, and draws a call at once', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, FULL);
  await page.evaluate(() => window.vmplay.show('timeline'));
  await page.waitForTimeout(2500);  // past the second of full-rate frames after the last call
  const drawn = async () => (await page.evaluate(() => window.vmplay.perf())).drawn;
  const before = await drawn();
  await page.waitForTimeout(3000);
  const idle = (await drawn()) - before;
  // 5 a second when idle (about 15 here); at the display's rate it would be 40 or more.
  assert.ok(idle >= 1 && idle <= 25, `frames drawn in 3 idle seconds: ${idle}`);
  await run(page, MMAP);
  // The call wakes the page: its step is on the timeline by the next frame.
  await target(page, 'step 1', 2000);
  assert.deepEqual(errors, []);
  await page.close();
});

test('layout: automatic by window size, switchable from the View menu; perf() reports frame times', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, FULL);
  assert.equal((await ui(page)).layout, 'full');
  await page.setViewportSize(COMPACT);
  await page.waitForFunction(() => window.vmplay.ui().layout === 'compact', null, { timeout: 5000 });
  await page.setViewportSize(FULL);
  await page.waitForFunction(() => window.vmplay.ui().layout === 'full', null, { timeout: 5000 });
  await clickTarget(page, 'menu View');
  await clickTarget(page, 'item Compact layout (small windows)');
  await page.waitForFunction(() => window.vmplay.ui().layout === 'compact', null, { timeout: 5000 });
  await saveArtifact('layout-compact-at-1280.png', await page.screenshot());
  assert.equal(await page.evaluate(() => window.vmplay.layout('auto')), true);
  assert.equal(await page.evaluate(() => window.vmplay.layout('tiny')), false);
  await page.waitForFunction(() => window.vmplay.ui().layout === 'full', null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.vmplay.show('nowhere')), false);
  const perf = await page.evaluate(() => window.vmplay.perf());
  assert.ok(perf.frames > 10, 'frames are being timed');
  assert.ok(perf.mean_ms > 0 && perf.p95_ms >= perf.p50_ms && perf.max_ms >= perf.p95_ms);
  assert.equal(perf.recent_ms.length, perf.frames);
  for (const v of ['vmas', 'pagetables', 'frames', 'timeline']) assert.ok(v in perf.views_ms, v);
  assert.deepEqual(errors, []);
  await page.close();
});
