// Serves build/wasm/dist on a free loopback port and drives Debian's Chromium with
// playwright-core. Shared by every browser test.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { before, after } from 'node:test';
import { existsSync } from 'node:fs';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
export const dist = process.env.VMPLAY_DIST || join(root, 'build/wasm/dist');
export const artifacts = join(root, 'build/test-artifacts');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.css': 'text/css',
};

export async function serve(dir = dist) {
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir}/index.html missing: build the wasm preset first`);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    if (path.endsWith('/')) path += 'index.html';
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { 'content-type': types[extname(path)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader', '--ignore-gpu-blocklist',
    ],
  });
}

// Opens the page and waits until window.vmplay is ready.
export async function openVmplay(browser, url, { width = 1280, height = 800, scale = 1 } = {}) {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: scale });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.vmplay && window.vmplay.ready === true, null, { timeout: 30000 });
  return { page, errors };
}

// How many distinct colours a PNG screenshot has, decoded by the browser itself.
export async function distinctColours(page, png) {
  return page.evaluate(async (b64) => {
    const blob = await (await fetch('data:image/png;base64,' + b64)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const g = c.getContext('2d');
    g.drawImage(bmp, 0, 0);
    const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  }, png.toString('base64'));
}

export async function saveArtifact(name, buf) {
  await mkdir(artifacts, { recursive: true });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(artifacts, name), buf);
  return join(artifacts, name);
}

// One server and one browser per test file, started before its tests, closed after.
export function useBrowser() {
  const env = {};
  before(async () => {
    env.server = await serve();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

// The screen rectangle [x0, y0, x1, y1] of an item the page named (App::mark): a tab,
// a menu, a button, a row. Waits until it is drawn.
export async function target(page, name, timeout = 5000) {
  const h = await page.waitForFunction((n) => (window.vmplay.ui().targets || {})[n] || null, name, { timeout });
  return h.jsonValue();
}

// Clicks the middle of a named item (see target).
export async function clickTarget(page, name, timeout = 5000) {
  const r = await target(page, name, timeout);
  // As a hand would: arrive, let a frame or two see the pointer there, then click.
  await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
  await page.waitForTimeout(100);
  await page.mouse.click((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
  return r;
}
