// End-to-end test of descent-playground in a real headless Chromium.
//
// Uses the server at PLAYGROUND_URL (as .ci/playground.sh starts it), or starts
// the server binary itself (PLAYGROUND_BIN, default target/release/descent-playground),
// opens the page in Debian's /usr/bin/chromium (CHROMIUM to override) driven by
// playwright-core (no browser is downloaded), sets a configuration, trains for a
// few seconds and checks that the test loss shown fell and the heat map changed,
// that a bad value gets a clear message, and that compare mode shows two runs.
// The screenshot goes to $ARTIFACTS (default target/playground-e2e/).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const bin = process.env.PLAYGROUND_BIN || join(root, 'target/release/descent-playground');
const artifacts = process.env.ARTIFACTS || join(root, 'target/playground-e2e');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
  log(`ok: ${msg}`);
}

function startServer() {
  return new Promise((ok, fail) => {
    const p = spawn(bin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => fail(new Error('the server printed no address within 20 s')), 20000);
    p.on('error', (e) => { clearTimeout(timer); fail(e); });
    p.on('exit', (code) => { clearTimeout(timer); fail(new Error(`the server exited (${code})`)); });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); ok({ proc: p, url: m[0] }); }
    });
  });
}

const board = (page, i) => page.locator('#boards .board').nth(i);
const attr = async (page, i, name) => Number(await board(page, i).getAttribute(name));
const heatmap = (page, i) => board(page, i).locator('canvas.heatmap').evaluate((c) => c.toDataURL());

async function waitPhase(page, phase) {
  await page.waitForSelector(`body[data-phase="${phase}"]`, { timeout: 20000 });
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const server = process.env.PLAYGROUND_URL
    ? { proc: null, url: process.env.PLAYGROUND_URL }
    : await startServer();
  log(`server at ${server.url}`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'playground-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await waitPhase(page, 'paused');
    check(await page.locator('#boards .board').count() === 1, 'the page shows one run after loading');

    // A configuration: circles, a 3 × 8 ReLU network, Adam at 0.01, batches of 16, 30 epochs/s.
    await page.click('#datasets button[data-kind="circles"]');
    await page.click('#add-layer');
    await page.selectOption('select[data-path="run.net.activation"]', 'relu');
    await page.selectOption('select[data-path="run.optim.kind"]', 'adam');
    await page.selectOption('select[data-path="run.optim.lr"]', '0.01');
    await page.locator('input[data-path="run.train.batch_size"]').fill('16');
    await page.locator('input[data-path="run.train.batch_size"]').dispatchEvent('change');
    await page.selectOption('#speed', '30');
    await page.waitForTimeout(800);
    await waitPhase(page, 'paused');
    check(await page.locator('#layers input').count() === 3, 'the network has three hidden layers');
    check(await attr(page, 0, 'data-epoch') === 0, 'the new configuration starts at epoch 0');
    const loss0 = await attr(page, 0, 'data-test-loss');
    const map0 = await heatmap(page, 0);
    const shown0 = await board(page, 0).locator('.test-loss').textContent();
    log(`test loss before training: ${loss0} (shown ${shown0})`);

    await page.click('#btn-run');
    await waitPhase(page, 'running');
    await page.waitForTimeout(3000);
    await page.click('#btn-run');
    await waitPhase(page, 'paused');
    const epochs = await attr(page, 0, 'data-epoch');
    const loss1 = await attr(page, 0, 'data-test-loss');
    const shown1 = await board(page, 0).locator('.test-loss').textContent();
    log(`after ${epochs} epochs: test loss ${loss1} (shown ${shown1})`);
    check(epochs >= 10, `trained ${epochs} epochs in about 3 s`);
    check(Number(shown1) < Number(shown0) && loss1 < loss0, 'the test loss shown fell');
    check(await heatmap(page, 0) !== map0, 'the heat map changed');

    // Bad input: a layer far wider than allowed gets a clear message.
    const width = page.locator('#layers input').first();
    await width.fill('100000');
    await width.dispatchEvent('change');
    await page.waitForSelector('#banner:not(.hidden)', { timeout: 5000 });
    const msg = await page.locator('#banner').textContent();
    check(/hidden\[0\].*1 \.\.= 64/.test(msg), `a bad width is explained: "${msg}"`);
    await width.fill('8');
    await width.dispatchEvent('change');
    await page.waitForSelector('#banner.hidden', { state: 'attached', timeout: 5000 });

    // Unpaced, for the record: the steps per second the page sustains.
    await page.locator('input[data-path="run.train.max_epochs"]').fill('20000');
    await page.locator('input[data-path="run.train.max_epochs"]').dispatchEvent('change');
    await page.selectOption('#speed', '0');
    await page.waitForTimeout(800);
    await page.click('#btn-run');
    await waitPhase(page, 'running');
    await page.waitForTimeout(3000);
    const rate = await page.locator('#rate').textContent();
    const capacity = await page.locator('#rate').getAttribute('title');
    await page.click('#btn-run');
    await waitPhase(page, 'paused');
    log(`unpaced: ${rate} optimizer steps/s on the page (${capacity}); epoch ${await attr(page, 0, 'data-epoch')}`);
    await page.selectOption('#speed', '30');

    // Compare mode: Adam + L2 against AdamW, trained side by side.
    await page.selectOption('#preset', 'adam-l2-vs-adamw');
    await page.waitForFunction(() => document.querySelectorAll('#boards .board').length === 2, null, { timeout: 10000 });
    await page.click('#btn-run');
    await waitPhase(page, 'running');
    await page.waitForTimeout(2500);
    await page.click('#btn-run');
    await waitPhase(page, 'paused');
    const titles = await page.locator('#boards .run-title').allTextContents();
    const e0 = await attr(page, 0, 'data-epoch');
    const e1 = await attr(page, 1, 'data-epoch');
    check(titles.length === 2 && e0 > 0 && e0 === e1, `compare mode shows two runs (${titles.join(' | ')}), ${e0} epochs each`);
    check(await heatmap(page, 0) !== await heatmap(page, 1), 'the two runs draw their own boundaries');
    await page.screenshot({ path: join(artifacts, 'screenshot.png'), fullPage: true });
    log(`screenshot: ${join(artifacts, 'screenshot.png')}`);
    // A smaller copy for the README (docs/playground.png is one of these).
    const png = readFileSync(join(artifacts, 'screenshot.png')).toString('base64');
    const small = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = Math.round(img.width * 0.6); c.height = Math.round(img.height * 0.6);
      const ctx = c.getContext('2d');
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(img, 0, 0, c.width, c.height);
      return c.toDataURL('image/png').split(',')[1];
    }, png);
    writeFileSync(join(artifacts, 'screenshot-small.png'), Buffer.from(small, 'base64'));
    check(errors.length === 0, `no script errors on the page ${errors.join('; ')}`);
  } finally {
    if (context) await context.close();
    if (server.proc) server.proc.kill('SIGTERM');
    rmSync(userDataDir, { recursive: true, force: true });
  }
  log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
