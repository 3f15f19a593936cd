// The Lessons menu in a real browser: it lists the library, and a click runs a lesson
// from a fresh machine, as the shell's `lesson N` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openVmplay, saveArtifact } from './harness.mjs';

const env = useBrowser();

// The menu bar sits under the Shell window's title bar; items are one text line apart.
const MENU = { x: 30, y: 35 };

test('the Lessons menu lists the lessons and runs the one clicked', async () => {
  const { page, errors } = await openVmplay(env.browser, env.server.url);
  await page.evaluate(() => window.vmplay.exec('q = 42'));  // state the lesson must wipe
  await page.mouse.click(MENU.x, MENU.y);
  await page.waitForTimeout(300);
  await saveArtifact('lessons-menu.png', await page.screenshot());
  // Rows: a note, a separator, then one per lesson, 20 px apart from y = 85.
  const before = await page.evaluate(() => window.vmplay.state().lines_run);
  await page.mouse.click(200, 185);  // "6.  Demand paging and the zero page..."
  await page.waitForFunction((n) => window.vmplay.state().lines_run !== n, before, { timeout: 10000 });
  const s = await page.evaluate(() => window.vmplay.state());
  assert.equal(s.variables.q, undefined, 'the lesson started from a fresh machine');
  const out = await page.evaluate(() => window.vmplay.exec('lessons'));
  assert.match(out, /^6 {2}06-demand-paging {2}Demand paging and the zero page/m);
  // Lesson 6's mapping: 16 pages at 0x600000000, emptied again by MADV_DONTNEED.
  assert.equal(s.variables.m, '0x600000000');
  const vma = s.processes[0].vmas.find((v) => v.start === '0x600000000');
  assert.ok(vma, 'the lesson mapped m');
  assert.equal(vma.end, '0x600010000');
  await saveArtifact('lessons-run.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});
