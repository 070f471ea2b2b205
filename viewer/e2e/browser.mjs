// Shared by the browser tests and shot.mjs: starting a CityTwin server and
// Debian's headless Chromium (apt-get install chromium), never a browser
// that Playwright downloads.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// SwiftShader gives WebGL without a GPU; Chromium 137+ only allows it as a
// fallback when asked for with --enable-unsafe-swiftshader.
export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
];

/** launchBrowser starts Chromium with a fresh user data dir. */
export async function launchBrowser(options = {}) {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium`);
  const profile = mkdtempSync(join(tmpdir(), 'citytwin-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, args: chromiumArgs, ...options,
  });
  return { context, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

/** buildServer builds cmd/citytwin into dir (or uses $CITYTWIN_BIN). */
export function buildServer(dir) {
  if (process.env.CITYTWIN_BIN) return resolve(process.env.CITYTWIN_BIN);
  const bin = join(dir, 'citytwin');
  execFileSync('go', ['build', '-o', bin, './cmd/citytwin'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

/**
 * startServer runs `citytwin serve` on a free port with a fresh data dir
 * and resolves with its base URL once it logs "msg=listening addr=…";
 * args are extra flags (e.g. --admin-token).
 */
export function startServer(bin, dataDir, { timeoutMs = 120000, args = [] } = {}) {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(bin, ['serve', '--data', dataDir, '--addr', '127.0.0.1:0', '--log-level', 'info', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`server did not listen in ${timeoutMs} ms:\n${log}`)); }, timeoutMs);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /msg=listening addr=(\S+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        resolveStart({
          url: `http://${m[1]}`,
          log: () => log,
          stop: () => new Promise((done) => {
            if (proc.exitCode !== null) { done(); return; }
            proc.once('exit', done);
            proc.kill('SIGTERM');
          }),
        });
      }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
  });
}

/**
 * idle waits until a page's map has drawn everything it needs, polling the
 * map's state rather than waiting for one 'idle' event that may be past.
 */
export const idle = (page, timeout = 90000) => page.waitForFunction(() => {
  const { map } = window.__citytwin;
  map.triggerRepaint();
  return map.loaded() && !map.isMoving() && map.areTilesLoaded();
}, null, { timeout, polling: 100 });
