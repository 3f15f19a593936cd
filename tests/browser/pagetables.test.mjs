// The page-table panel in a real browser: the tree of populated entries, the walk of
// one address (typed into the panel, run as a shell line), hover cross-highlighting
// with the address-space table and the frame grid, and what the last command changed,
// in the full layout (1280x800) and the compact one (640x420).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, saveArtifact, clickTarget, target } from './harness.mjs';

const env = useBrowser();

const MMAP = 'p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)';
const PFN_MASK = 0x000ffffffffff000n;

const ui = (page) => page.evaluate(() => window.vmplay.ui());
const pt = async (page) => (await ui(page)).pagetables;
const exec = (page, line) => page.evaluate((l) => window.vmplay.exec(l), line);
const state = (page) => page.evaluate(() => window.vmplay.state());
// A few frames of the page's own loop (it draws on requestAnimationFrame): input lands
// in one frame, a panel acts on it in the next, hover reaches other panels a frame late.
const settle = (page, frames = 4) =>
  page.evaluate((n) => new Promise((done) => {
    const step = () => (n-- > 0 ? requestAnimationFrame(step) : done());
    step();
  }), frames);

// A PTE maps its frame when present (bit 0) or PROT_NONE (bit 8 without bit 0).
function ptePfn(entry) {
  const e = BigInt(entry);
  if (!(e & 1n) && !(e & 0x100n)) return null;
  return Number((e & PFN_MASK) >> 12n);
}

function indices(addr) {
  const a = BigInt(addr);
  return [39n, 30n, 21n, 12n].map((s) => Number((a >> s) & 511n));
}

// Puts the pointer on a named item until `ok(ui)` holds (a scroll may still move it).
async function hover(page, name, ok = () => true) {
  for (let i = 0; i < 5; i++) {
    const r = await target(page, name);
    await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
    await settle(page);
    if (ok(await ui(page))) return r;
  }
  throw new Error(`hovering ${name} did not take`);
}

// Brings the page-tables tab to the front (compact layout) and waits until it draws.
async function showTab(page) {
  for (let i = 0; i < 3; i++) {
    await clickTarget(page, 'tab pagetables');
    try {
      await page.waitForFunction(() => {
        const u = window.vmplay.ui();
        return u.front === 'pagetables' && u.pagetables.pid > 0 && u.targets['walk input'];
      }, null, { timeout: 2000 });
      return;
    } catch { /* the click fell between frames: again */ }
  }
  throw new Error('the page tables tab did not come to the front');
}

// Scrolls the address-space table until the row for the VMA starting at `start` is drawn.
async function revealVma(page, start) {
  const name = `vma ${BigInt(start).toString(16).padStart(12, '0')}`;
  for (let i = 0; i < 60; i++) {
    const t = (await ui(page)).targets;
    if (t[name]) return name;
    const rows = Object.keys(t).filter((k) => /^vma [0-9a-f]{12}$/.test(k));
    assert.ok(rows.length > 0, 'VMA rows are drawn');
    const last = rows.map((k) => BigInt('0x' + k.slice(4))).reduce((a, b) => (a > b ? a : b));
    const r = t[rows[0]];
    await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
    await page.mouse.wheel(0, BigInt(start) > last ? 60 : -60);
    await settle(page);
  }
  throw new Error(`no row for ${name}`);
}

// Opens the page with a mapping written once (p[0] faulted in).
async function withMapping(opts) {
  const { page, errors } = await openVmplay(env.browser, env.server.url, opts);
  await exec(page, MMAP);
  await exec(page, "p[0] = 'A'");
  await settle(page);
  return { page, errors };
}

test('full layout: the tree lists every populated entry and lights what the last command set', async () => {
  const { page, errors } = await withMapping({ width: 1280, height: 800 });
  const s = await state(page);
  const p = s.variables.p;
  const proc = s.processes[0];
  const u = await pt(page);
  assert.equal(u.pid, 1);
  assert.equal(u.ptes, proc.ptes.length, 'one PT row per PTE of the process');
  assert.equal(u.rows, u.entries, 'nothing folded: every entry has a row');
  assert.ok(u.entries > u.ptes, 'upper-level entries have rows too');
  // The write fault set one PTE: that row is lit as changed and scrolled into view.
  assert.equal(u.set, 1);
  assert.ok(u.changed >= 1);
  await target(page, `pte ${p}`);
  await saveArtifact('pagetables-changed.png', await page.screenshot());

  // A second write fault into the other page of the mapping: one more PTE, marked.
  await exec(page, "p[4096] = 'B'");
  await settle(page);
  const u2 = await pt(page);
  assert.equal(u2.ptes, u.ptes + 1);
  assert.equal(u2.set, 1);
  assert.equal(u2.changed, 1, 'the PT table existed: only the new PTE changed');
  const p1 = '0x' + (BigInt(p) + 4096n).toString(16);
  await target(page, `pte ${p1}`);
  // A command that changes no page table clears the highlight.
  await exec(page, 'getpid()');
  await settle(page);
  assert.equal((await pt(page)).changed, 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('full layout: walking p from the panel splits it 9/9/9/9/12 and opens the path', async () => {
  const { page, errors } = await withMapping({ width: 1280, height: 800 });
  const s = await state(page);
  const p = s.variables.p;
  const pte = s.processes[0].ptes.find((e) => e.addr === p);
  assert.ok(pte, 'p is mapped');

  // Fold the PML4 entry that covers p: its subtree's rows disappear.
  const before = await pt(page);
  const pml4 = '0x' + ((BigInt(p) >> 39n) << 39n).toString(16);
  await clickTarget(page, `pgd ${pml4}`);
  await settle(page);
  const folded = await pt(page);
  assert.equal(folded.collapsed, 1);
  assert.ok(folded.rows < before.rows, `folding hides rows (${before.rows} -> ${folded.rows})`);

  // Type p+0x123 into the walk field and press the button: the shell runs `walk p+0x123`.
  await clickTarget(page, 'walk input');
  await page.keyboard.type('p+0x123', { delay: 5 });
  await clickTarget(page, 'walk button');
  await page.waitForFunction(() => window.vmplay.ui().pagetables.walk !== null, null, { timeout: 5000 });
  await settle(page);
  const u = await pt(page);
  const addr = '0x' + (BigInt(p) + 0x123n).toString(16);
  assert.equal(u.walk.addr, addr);
  assert.deepEqual(u.walk.indices, indices(addr));
  assert.equal(u.walk.offset, 0x123);
  assert.equal(u.walk.depth, 4);
  assert.equal(u.walk.stopped, null);
  assert.equal(u.walk.pfn, '0x' + ptePfn(pte.entry).toString(16));
  assert.equal(u.walk.phys, '0x' + ((BigInt(ptePfn(pte.entry)) << 12n) + 0x123n).toString(16));
  assert.deepEqual(u.walk.path.map((x) => x.level), ['PML4', 'PDPT', 'PD', 'PT']);
  assert.deepEqual(u.walk.path.map((x) => x.index), indices(addr));
  assert.equal(u.walk.path[3].entry, pte.entry, 'the last step read the PTE itself');
  assert.equal(u.walk.in_tree, 4);
  // The walk reopened the folded PML4 entry; the four path rows are in order and the
  // PTE's row is on screen.
  assert.equal(u.collapsed, 0);
  assert.equal(u.rows, before.rows);
  assert.equal(u.path_rows.length, 4);
  assert.ok(u.path_rows.every((r, i) => r >= 0 && (i === 0 || r > u.path_rows[i - 1])), JSON.stringify(u.path_rows));
  await saveArtifact('pagetables-walk-full.png', await page.screenshot());
  // The whole path is on screen when the tree is tall enough for it, else its lower end.
  const drawn = (r) => r >= u.first_row && r <= u.last_row;
  const fits = u.path_rows[3] - u.path_rows[0] < u.last_row - u.first_row - 1;
  assert.ok(fits ? u.path_rows.every(drawn) : drawn(u.path_rows[3]) && drawn(u.path_rows[2]),
            `path rows ${u.path_rows} drawn within ${u.first_row}..${u.last_row}`);
  await target(page, `pte ${p}`);

  // The console's own `walk` is shown too; an unmapped address stops at the PML4.
  await exec(page, 'walk 0x400000');
  await settle(page);
  const w = (await pt(page)).walk;
  assert.equal(w.addr, '0x400000');
  assert.equal(w.depth, 1);
  assert.equal(w.stopped, 'PML4');
  assert.equal(w.pfn, null);
  assert.deepEqual(errors, []);
  await page.close();
});

test('full layout: hovering a VMA row lights its PTEs; hovering a PTE row publishes its frame', async () => {
  const { page, errors } = await withMapping({ width: 1280, height: 800 });
  const s = await state(page);
  const proc = s.processes[0];
  const p = s.variables.p;
  const vma = proc.vmas.find((v) => BigInt(v.start) <= BigInt(p) && BigInt(p) < BigInt(v.end));
  const inside = proc.ptes.filter((e) => BigInt(e.addr) >= BigInt(vma.start) && BigInt(e.addr) < BigInt(vma.end));
  assert.ok(inside.length >= 1);
  await hover(page, await revealVma(page, vma.start), (x) => x.pagetables.hover.vma === vma.start);
  let u = await pt(page);
  assert.equal(u.hover.vma, vma.start);
  assert.equal(u.lit, inside.length, 'every PTE inside the hovered VMA is lit');
  await saveArtifact('pagetables-hover-vma.png', await page.screenshot());

  // A VMA with more pages mapped: libc's text.
  const libc = proc.vmas.find((v) => v.name.includes('libc') && v.perms === 'r-xp');
  const libcPtes = proc.ptes.filter((e) => BigInt(e.addr) >= BigInt(libc.start) && BigInt(e.addr) < BigInt(libc.end));
  await hover(page, await revealVma(page, libc.start), (x) => x.pagetables.hover.vma === libc.start);
  u = await pt(page);
  assert.equal(u.lit, libcPtes.length);

  // The pointer over a PTE row: the frame grid and the VMA table get its frame.
  const pte = proc.ptes.find((e) => e.addr === p);
  await hover(page, `pte ${p}`, (x) => x.pagetables.hover.entry === `pte ${p}`);
  u = await pt(page);
  assert.equal(u.hover.entry, `pte ${p}`);
  assert.equal(u.hover.pfn, '0x' + ptePfn(pte.entry).toString(16), 'the PTE row published its pfn');
  assert.ok(u.lit >= 1, 'the PTEs mapping that frame are lit');
  await saveArtifact('pagetables-hover-pte.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

test('full layout: hovering a frame in the grid lights the PTEs mapping it', async () => {
  const { page, errors } = await withMapping({ width: 1280, height: 800 });
  const s = await state(page);
  const ptes = s.processes[0].ptes;
  const mappers = new Map();
  for (const e of ptes) {
    const f = ptePfn(e.entry);
    if (f !== null) mappers.set(f, (mappers.get(f) || 0) + 1);
  }
  // The grid fills the lower right window; its cells are not named, so find one by
  // moving the pointer: down the window until a frame is under it, then along the row
  // until that frame is one a PTE maps.
  const vp = page.viewportSize();
  const x0 = Math.round(vp.width * 0.76), x1 = vp.width - 20;
  // The frame under the pointer, once two frames in a row agree (hover lags a frame).
  const at = async (x, y) => {
    await page.mouse.move(x, y);
    let last;
    for (let i = 0; i < 10; i++) {
      await settle(page, 2);
      const h = (await pt(page)).hover.pfn;
      if (i > 0 && h === last) break;
      last = h;
    }
    return last === null ? null : parseInt(last, 16);
  };
  let top = null;
  for (let y = Math.round(vp.height * 0.45); y < vp.height - 10 && top === null; y += 6)
    if ((await at(x0 + 40, y)) !== null) top = y + 3;
  assert.ok(top !== null, 'found the frame grid');
  let hit = null;
  for (let y = top; y < top + 60 && hit === null; y += 8)
    for (let x = x0; x < x1 && hit === null; x += 5) {
      const f = await at(x, y);
      if (f !== null && mappers.has(f)) hit = f;
    }
  assert.ok(hit !== null, 'found a frame some PTE maps');
  await settle(page);
  const u = await pt(page);
  assert.equal(u.hover.pfn, '0x' + hit.toString(16));
  assert.equal(u.lit, mappers.get(hit), `the PTEs mapping frame ${hit} are lit`);
  await saveArtifact('pagetables-hover-frame.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

test('compact layout: the tree and the walk side by side in their tab', async () => {
  const { page, errors } = await withMapping({ width: 640, height: 420 });
  await showTab(page);
  let u = await ui(page);
  assert.equal(u.layout, 'compact');
  assert.equal(u.pagetables.layout, 'side');
  await clickTarget(page, 'walk input');
  await page.keyboard.type('p', { delay: 5 });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.vmplay.ui().pagetables.walk !== null, null, { timeout: 5000 });
  await settle(page);
  u = await ui(page);
  const p = (await state(page)).variables.p;
  assert.equal(u.pagetables.walk.addr, p);
  assert.deepEqual(u.pagetables.walk.indices, indices(p));
  assert.equal(u.pagetables.walk.in_tree, 4);
  const r = await target(page, `pte ${p}`);
  const walk = await target(page, 'walk bits');
  assert.ok(r[2] <= walk[0], 'the tree sits left of the walk');
  assert.ok(walk[2] <= 640 && r[3] <= 420);
  await page.mouse.move(320, 410);  // off the panel: no tooltip over the picture
  await settle(page);
  await saveArtifact('pagetables-compact.png', await page.screenshot());

  // A new PTE from a fault shows as changed in the compact tab too.
  await exec(page, "p[4096] = 'B'");
  await settle(page);
  u = await pt(page);
  assert.equal(u.changed, 1);
  await saveArtifact('pagetables-compact-changed.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});

test('a large state: 65,536 frames and 2,000 VMAs; the tree scrolls and draws only the rows in view', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url, { width: 1280, height: 800 });
  await exec(page, 'config ram 65536');
  // Top-down allocation puts each mapping right below the one before: alternating
  // protections keep neighbours from merging. 2,000 VMAs, half of them written (the
  // 10,000-VMA case and its frame times are bench/ui-perf.mjs's: no test times anything).
  const lines = [];
  for (let i = 0; i < 1000; i++) {
    lines.push('q = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)');
    lines.push('q[0] = 1');
    lines.push('r = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)');
  }
  await exec(page, lines.join('\n'));
  const s = await state(page);
  assert.ok(s.processes[0].vmas.length >= 2000, `${s.processes[0].vmas.length} VMAs`);
  await exec(page, 'walk q');
  await page.waitForTimeout(1500);
  const u = await pt(page);
  assert.ok(u.ptes >= 1000, `${u.ptes} PTEs`);
  assert.equal(u.walk.depth, 4);
  // Scroll the tree and hover things.
  const r = await target(page, `pte ${s.variables.q}`);
  await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
  for (let i = 0; i < 20; i++) {
    await page.mouse.wheel(0, 400);
    await page.waitForTimeout(30);
  }
  await page.waitForTimeout(1500);
  const after = await pt(page);
  assert.ok(after.first_row > 0, 'the tree scrolled');
  assert.ok(after.last_row - after.first_row < 60, 'only the visible rows are drawn');
  await saveArtifact('pagetables-large.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});
