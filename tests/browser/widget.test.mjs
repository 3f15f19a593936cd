// The page as a widget inside a host page: the wheel scrolls the host unless the pointer
// is over something that scrolls; keys go to the widget only while it has focus; a
// click gives it focus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, saveArtifact } from './harness.mjs';

const env = useBrowser();

async function hostWithWidget(hash) {
  const page = await env.browser.newPage({ viewport: { width: 900, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The host page is served from the widget's server (Chromium will not let a page from
  // another host frame a loopback address).
  const host = env.server.url + 'host-page.html';
  await page.route(host, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><body style="margin:0;font:16px sans-serif">
      <p style="margin:20px">A tutorial paragraph. <input id="note" placeholder="host input"></p>
      <iframe id="w" src="${env.server.url}#${hash}" width="640" height="420" style="margin:0 20px;border:1px solid #888"></iframe>
      <div style="height:2000px">more prose below</div></body>`,
  }));
  await page.goto(host);
  const frame = await (await page.waitForSelector('#w')).contentFrame();
  await frame.waitForFunction(() => window.vmplay && window.vmplay.ready === true, null, { timeout: 30000 });
  const box = await page.locator('#w').boundingBox();
  return { page, frame, box, errors };
}

test('the wheel scrolls the host page, except over a panel that scrolls', async () => {
  const { page, frame, box, errors } = await hostWithWidget('layout=compact');
  await page.waitForTimeout(300);
  // Over the tab bar (nothing there scrolls): the host page scrolls.
  await page.mouse.move(box.x + 600, box.y + 12);
  await page.waitForTimeout(200);
  await page.mouse.wheel(0, 200);
  await page.waitForFunction(() => window.scrollY > 0, null, { timeout: 5000 });
  const hostScrolled = await page.evaluate(() => window.scrollY);
  assert.ok(hostScrolled > 0, 'the host page scrolled');
  // Over the VMA table (23 rows, it scrolls): the table scrolls, the host does not.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  // (The clipper always draws row 0 to measure it: the last row drawn tells the scroll.)
  const before = (await frame.evaluate(() => window.vmplay.ui())).vmas.last_row;
  await page.mouse.move(box.x + 300, box.y + 180);
  await page.waitForTimeout(300);
  await page.mouse.wheel(0, 300);
  await page.waitForTimeout(600);
  assert.equal(await page.evaluate(() => window.scrollY), 0, 'the host page stayed');
  assert.ok((await frame.evaluate(() => window.vmplay.ui())).vmas.last_row > before, 'the table scrolled');
  assert.deepEqual(errors, []);
  await page.close();
});

test('keys go to the widget only while it has focus; a click gives it focus', async () => {
  const { page, frame, box, errors } = await hostWithWidget('layout=compact');
  // Typing in the host's input stays there.
  await page.click('#note');
  await page.keyboard.type('x = 5');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.equal(await page.inputValue('#note'), 'x = 5');
  assert.equal((await frame.evaluate(() => window.vmplay.state())).variables.x, undefined);
  // A click in the widget: now typing runs there, and the host input gets nothing more.
  await page.mouse.click(box.x + 300, box.y + 400);
  await page.waitForTimeout(200);
  await page.keyboard.type('y = 6');
  await page.keyboard.press('Enter');
  await frame.waitForFunction(() => window.vmplay.state().variables.y === '0x6', null, { timeout: 10000 });
  assert.equal(await page.inputValue('#note'), 'x = 5');
  await saveArtifact('widget-in-host.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await page.close();
});
