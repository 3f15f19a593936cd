// Memory pressure in the panels: a 4 MiB machine with 1 MiB of swap, filled by one
// mapping, must show used slots in the swap grid, the frames' LRU lists and ages, the
// swap entries in the page tables, and the swap-outs in the timeline's step; an OOM
// kill must stand out in the timeline; with swap off the swap view says how to turn it
// on. Screenshots of each in build/test-artifacts/memory-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, saveArtifact, clickTarget, target } from './harness.mjs';

const env = useBrowser();
const FULL = { width: 1280, height: 800 };
const COMPACT = { width: 640, height: 420 };
const MMAP_4M = 'p = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)';
const FILL = ['config swap 1M', MMAP_4M, 'touch(p, 4M, "w")'];

const ui = (page) => page.evaluate(() => window.vmplay.ui());
const run = (page, line) => page.evaluate((l) => window.vmplay.exec(l), line);
const frame = (page) => page.waitForTimeout(120);
// A screenshot with the pointer moved off the panels (no tooltip over what is shown).
async function shotAside(page, name) {
  await page.mouse.move(5, 790);
  await frame(page);
  await saveArtifact(name, await page.screenshot());
}
const state = (page) => page.evaluate(() => window.vmplay.state());

// The middle of a cell of a grid the panels report ({x, y, cell, cols}).
function cellAt(grid, i) {
  return [grid.x + (i % grid.cols) * grid.cell + grid.cell / 3, grid.y + Math.floor(i / grid.cols) * grid.cell + grid.cell / 3];
}

// A page of p that is still resident: its pfn, from the state's PTEs.
async function residentPfn(page) {
  const s = await state(page);
  const pte = s.processes[0].ptes.find((e) => BigInt(e.addr) >= 0x7ffff7800000n && (BigInt(e.entry) & 1n) === 1n);
  return Number((BigInt(pte.entry) >> 12n) & ((1n << 40n) - 1n));
}

for (const [name, size] of [['full', FULL], ['compact', COMPACT]]) {
  test(`swap (${name}): filling RAM swaps pages out; the grid, the frames' LRU lists and the step show it`, async () => {
    const { page, errors } = await openVmplay(env.browser, env.server.url, size);
    await page.evaluate(() => window.vmplay.show('swap'));
    for (const l of FILL) await run(page, l);
    await page.waitForFunction(() => window.vmplay.ui().swap.grid.cell > 0, null, { timeout: 5000 });
    await frame(page);
    let u = await ui(page);
    assert.equal(u.front, 'swap');
    assert.equal(u.swap.off, false);
    assert.equal(u.swap.total, 255, '1 MiB is 256 pages, the first one the header');
    assert.ok(u.swap.used > 100, `slots in use: ${u.swap.used}`);
    assert.ok(u.swap.touched > 0, 'the slots the touch wrote are outlined');
    // The step swapped pages out, and the timeline's summary says so first.
    assert.ok(u.step.swapped_out > 100, JSON.stringify(u.step));
    assert.ok(u.step.reclaimed >= u.step.swapped_out);
    assert.match(u.step.summary, /^\d+ swapped out, \d+ reclaimed \(kswapd/);
    assert.equal(u.step.oom_kills, 0);

    // A used slot: its tooltip finds the one PTE holding it.
    const [sx, sy] = cellAt(u.swap.grid, 1);
    await page.mouse.move(sx, sy);
    await frame(page);
    u = await ui(page);
    assert.equal(u.swap.hovered, 1);
    assert.equal(u.swap.hovered_mappers, 1);
    await saveArtifact(`memory-swap-${name}.png`, await page.screenshot());

    // The frames: every anonymous page on an LRU list, and a frame's age in its tooltip.
    await page.evaluate(() => window.vmplay.show('frames'));
    await frame(page);
    const pfn = await residentPfn(page);
    u = await ui(page);
    assert.ok(u.frames.lru.inactive_anon > 500, JSON.stringify(u.frames.lru));
    assert.ok(u.frames.lru_marked > 0, 'cells carry their LRU band');
    assert.ok(u.frames.watermarks.min > 0 && u.frames.watermarks.min < u.frames.watermarks.low &&
              u.frames.watermarks.low < u.frames.watermarks.high);
    assert.ok(u.frames.free >= u.frames.watermarks.high, 'kswapd stopped above high');
    const [fx, fy] = cellAt(u.frames.grid, pfn);
    await page.mouse.move(fx, fy);
    await frame(page);
    u = await ui(page);
    assert.equal(u.frames.hovered, pfn);
    assert.match(u.frames.hovered_lru, /^inactive anon, (at the tail|(at the head, )?\d+(st|nd|rd|th) from the tail) \(of \d+\): /);
    await saveArtifact(`memory-frames-lru-${name}.png`, await page.screenshot());
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('page tables: a swapped-out page is a swap entry, not a frame; a click on a slot walks it', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, FULL);
  await page.evaluate(() => window.vmplay.show('swap'));
  for (const l of FILL) await run(page, l);
  await page.waitForFunction(() => window.vmplay.ui().swap.grid.cell > 0, null, { timeout: 5000 });
  await frame(page);
  let u = await ui(page);
  assert.ok(u.pagetables.swap_ptes > 100 && u.pagetables.swap_ptes <= u.swap.used, 'a swap PTE per slot in use');
  // Slot 20 holds a page of p (the touch wrote p's pages out in order, after a few of the program's).
  const [x, y] = cellAt(u.swap.grid, 20);
  await page.mouse.move(x, y);
  await frame(page);
  await page.mouse.click(x, y);
  await page.waitForFunction(() => window.vmplay.ui().pagetables.walk !== null, null, { timeout: 5000 });
  u = await ui(page);
  const w = u.pagetables.walk;
  assert.deepEqual(w.swap, { type: 0, offset: 20, exclusive: true }, JSON.stringify(w));
  assert.equal(w.pfn, null, 'no frame: the entry is not decoded as present');
  assert.equal(w.stopped, 'PT');
  const s = await state(page);
  assert.equal(s.lines_run, 4, 'the click ran walk in the shell');
  await shotAside(page, 'memory-pagetables-swap.png');
  assert.deepEqual(errors, []);
  await page.close();
});

test('timeline and stats: an OOM kill is marked on its step; the vmstat counters follow', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, FULL);
  await page.evaluate(() => window.vmplay.show('timeline'));
  for (const l of ['config swap 1M', MMAP_4M, 'touch(p, 2M, "w")', 'fork()', '[pid 2] touch(p, 2M, "w")',
    'q = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)', 'touch(q, 4M, "w")'])
    await run(page, l);
  await frame(page);
  let u = await ui(page);
  assert.equal(u.step.oom_kills, 1);
  assert.match(u.step.summary, /^OOM kill of pid 1, /);
  await shotAside(page, 'memory-timeline-oom.png');
  // The step before: the child's copies pushed pages out, no kill yet.
  await clickTarget(page, 'step 5');
  await page.waitForFunction(() => window.vmplay.ui().timeline.pos === 5, null, { timeout: 5000 });
  u = await ui(page);
  assert.equal(u.step.oom_kills, 0);
  assert.ok(u.step.swapped_out > 0, JSON.stringify(u.step));
  await page.evaluate(() => window.vmplay.show('stats'));
  await shotAside(page, 'memory-stats.png');
  assert.deepEqual(errors, []);
  await page.close();
});

test('swap off: the swap view says how to turn it on, and its button does (View menu brings it up)', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, COMPACT);
  await clickTarget(page, 'menu View');
  await clickTarget(page, 'item view swap');
  await page.waitForFunction(() => window.vmplay.ui().front === 'swap', null, { timeout: 5000 });
  let u = await ui(page);
  assert.equal(u.swap.off, true);
  assert.equal(u.swap.total, 0);
  await target(page, 'swap enable');
  await page.mouse.move(5, 415);
  await frame(page);
  await saveArtifact('memory-swap-off-compact.png', await page.screenshot());
  await clickTarget(page, 'swap enable');
  await page.waitForFunction(() => window.vmplay.ui().swap.total > 0, null, { timeout: 5000 });
  u = await ui(page);
  assert.equal(u.swap.total, 511, 'config swap 2M: 512 pages, the first the header');
  assert.equal(u.swap.used, 0);
  assert.equal((await state(page)).lines_run, 1, 'the button ran config swap 2M in the shell');
  assert.deepEqual(errors, []);
  await page.close();
});
