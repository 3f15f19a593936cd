// Benchmark: the page's frame CPU time with a large state (issue: "stays fluid").
// Builds 10,000 VMAs in 65,536 frames of RAM, then samples window.vmplay.perf() while
// the pointer moves over the VMA table, the map, the page tables and the frame grid,
// in the full layout and the compact one. Prints the figures; asserts nothing.
//   node bench/ui-perf.mjs            (needs build/wasm/dist; scripts/bench-ui.sh builds it)
import { launch, serve, openVmplay } from '../tests/browser/harness.mjs';

// The scenario: RAM of 65,536 frames; 10,000 one-page mappings whose permissions
// alternate so no two merge; every other one written (a frame and a PTE each), then a
// fork so frames are shared and page tables doubled.
export function scenario(vmas = 10000) {
  const lines = ['config ram 65536'];
  const base = 0x100000000;
  for (let i = 0; i < vmas; i++) {
    const addr = '0x' + (base + i * 0x1000).toString(16);
    const prot = i % 2 ? 'PROT_READ' : 'PROT_READ|PROT_WRITE';
    lines.push(`mmap(${addr}, 4096, ${prot}, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)`);
    if (i % 2 === 0) lines.push(`*(char *)${addr} = 1`);
  }
  lines.push('fork()');
  return lines;
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { frames: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), max: s.at(-1) };
}

// Frame CPU times while the pointer visits `moves` for about 3 s (at most the last 120).
async function sample(page, label, moves) {
  await page.waitForTimeout(500);  // let the first frames after a change go by
  const before = (await page.evaluate(() => window.vmplay.perf())).drawn;
  const t0 = Date.now();
  let i = 0;
  while (Date.now() - t0 < 3000) {
    const [x, y] = moves[i++ % moves.length];
    await page.mouse.move(x, y);
    await page.waitForTimeout(60);
  }
  const p = await page.evaluate(() => window.vmplay.perf());
  const n = Math.min(p.drawn - before, p.recent_ms.length);
  const s = stats(p.recent_ms.slice(-n));
  console.log(`${label.padEnd(30)} frames ${String(s.frames).padStart(3)}  mean ${s.mean.toFixed(2)} ms  ` +
              `p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  max ${s.max.toFixed(2)} ms`);
  console.log(`${''.padEnd(30)} slowest recent frame per view: ${JSON.stringify(p.views_ms)}`);
  return s;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(process.env.VMPLAY_DIST);
  const browser = await launch();
  // Time to the first interactive frame: from navigation start to the first frame drawn
  // with window.vmplay ready (polled every 5 ms; the median of 5 fresh loads).
  const loads = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const pg = await ctx.newPage();
    await pg.goto(server.url);
    loads.push(await pg.evaluate(async () => {
      while (!(window.vmplay && window.vmplay.perf && window.vmplay.perf().drawn >= 1))
        await new Promise((r) => setTimeout(r, 5));
      return performance.now();
    }));
    await ctx.close();
  }
  loads.sort((a, b) => a - b);
  console.log(`${'first interactive frame'.padEnd(30)} median ${loads[2].toFixed(0)} ms of ${loads.map((x) => x.toFixed(0)).join(', ')} ms`);
  const { page } = await openVmplay(browser, server.url, { width: 1280, height: 800 });
  const lines = scenario();
  const t0 = Date.now();
  for (let i = 0; i < lines.length; i += 5000)
    await page.evaluate((chunk) => window.vmplay.exec(chunk), lines.slice(i, i + 5000).join('\n'));
  const st = await page.evaluate(() => {
    const s = window.vmplay.state();
    return { vmas: s.processes.map((p) => p.vmas.length), frames: s.frames.total, free: s.frames.free };
  });
  console.log(`scenario: ${lines.length} lines in ${((Date.now() - t0) / 1000).toFixed(1)} s; VMAs per process ${st.vmas.join(', ')}; ` +
              `frames ${st.frames} (${st.free} free)`);
  const full = [[800, 250], [700, 100], [900, 300], [600, 600], [1100, 600], [1000, 700], [300, 600], [700, 500]];
  await sample(page, 'idle, full layout', [[5, 790]]);
  await sample(page, 'pointer moving, full layout', full);
  // The first frame after a command rebuilds what depends on the machine (map, reverse
  // map, page-table tree): the one costly frame per line typed.
  const after = [];
  for (let i = 0; i < 6; i++) {
    await page.mouse.move(700 + i * 40, 250);
    const before = (await page.evaluate(() => window.vmplay.perf())).drawn;
    await page.evaluate((n) => window.vmplay.exec(`*(char *)0x${(0x100000000 + n * 0x2000).toString(16)} = 2`), i);
    await page.waitForTimeout(400);
    const p = await page.evaluate(() => window.vmplay.perf());
    after.push(Math.max(...p.recent_ms.slice(-(p.drawn - before))));
  }
  console.log(`${'first frame after a store'.padEnd(30)} ${after.map((x) => x.toFixed(1) + ' ms').join(', ')}`);
  // After each change the page saves the session's script (localStorage): the script of
  // the long session, and the whole save as the page does it.
  const save = await page.evaluate(() => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const s = window.vmplay.script();
      const t1 = performance.now();
      localStorage.setItem('vmplay-bench-save', JSON.stringify({ v: 1, script: s }));
      t.push([t1 - t0, performance.now() - t0, s.length]);
    }
    localStorage.removeItem('vmplay-bench-save');
    t.sort((a, b) => a[1] - b[1]);
    return t[2];
  });
  console.log(`${'saving the session'.padEnd(30)} script() ${save[0].toFixed(1)} ms, with the localStorage write ` +
              `${save[1].toFixed(1)} ms (${save[2]} bytes; median of 5)`);
  await page.evaluate(() => window.vmplay.exec('use 1'));
  await page.setViewportSize({ width: 640, height: 420 });
  for (const v of ['vmas', 'pagetables', 'frames', 'timeline']) {
    await page.evaluate((n) => window.vmplay.show(n), v);
    await sample(page, `compact, ${v}`, [[300, 100], [400, 150], [200, 200], [500, 120]]);
  }
  await browser.close();
  await server.close();
}
