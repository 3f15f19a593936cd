// Paste and copy through the browser's clipboard: a pasted script runs line by line, a
// pasted line lands in the input to be edited, and "Copy the log" puts the log there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, saveArtifact, clickTarget } from './harness.mjs';

const env = useBrowser();

async function open() {
  const context = await env.browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(env.server.url);
  await page.waitForFunction(() => window.vmplay && window.vmplay.ready === true, null, { timeout: 30000 });
  await page.locator('canvas').click({ position: { x: 300, y: 700 } });
  return { page, context, errors };
}

// Headless Chromium does not carry out the paste command for a synthetic Ctrl+V, so the
// paste event is dispatched on whatever Ctrl+V focused, as the browser would.
async function pasteText(page, text) {
  await page.keyboard.press('Control+V');
  await page.evaluate((t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
}

test('Ctrl+V of several lines runs them; of one line puts it in the input', async () => {
  const { page, context, errors } = await open();
  const log = '4613  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3a1c000000\n' +
    'a = 1\nb = a + 4096\n';
  await pasteText(page, log);
  await page.waitForFunction(() => window.vmplay.state().variables.b === '0x1001', null, { timeout: 10000 });
  const s = await page.evaluate(() => window.vmplay.state());
  assert.equal(s.variables.a, '0x1');
  assert.ok(s.processes[0].vmas.some((v) => v.start === '0x7ffff7fbe000'), 'the pasted mmap ran');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'CANVAS', 'typing goes back to the page');

  await pasteText(page, 'c = 7');
  await page.waitForTimeout(200);
  assert.equal((await page.evaluate(() => window.vmplay.state())).variables.c, undefined, 'not run before Enter');
  await page.keyboard.type(' * 6');  // the pasted line is editable
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.vmplay.state().variables.c === '0x2a', null, { timeout: 10000 });
  await saveArtifact('clipboard-paste.png', await page.screenshot());
  assert.deepEqual(errors, []);
  await context.close();
});

test('"Copy the log" in the Machine menu puts the console text on the clipboard', async () => {
  const { page, context, errors } = await open();
  await page.evaluate(() => window.vmplay.exec('x = 0x1234'));
  await page.evaluate(() => navigator.clipboard.writeText('nothing yet'));
  await clickTarget(page, 'menu Machine');
  await clickTarget(page, 'item Copy the log');
  await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== 'nothing yet', null, { timeout: 5000 });
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(copied, /^# vmplay: a Linux virtual-memory playground\.$/m);
  assert.match(copied, /^> x = 0x1234\nx = 0x1234$/m);
  assert.deepEqual(errors, []);
  await context.close();
});
