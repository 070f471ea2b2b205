// Screenshots of a running server's viewers, for looking at them:
//   node shot.mjs http://127.0.0.1:8080 [outdir]
// Writes planner.png (1440×900) and officer.png (390×844) to outdir
// (default ./out).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';

const base = process.argv[2] || 'http://127.0.0.1:8080';
const out = process.argv[3] || join(dirname(fileURLToPath(import.meta.url)), 'out');
mkdirSync(out, { recursive: true });
const shots = [
  ['planner', '/', { viewport: { width: 1440, height: 900 } }],
  ['officer', '/officer', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }],
];
for (const [name, path, opts] of shots) {
  const { context, close } = await launchBrowser(opts);
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log(`${name} error:`, e.message));
    await page.goto(base + path);
    await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: 90000 });
    await page.evaluate(() => new Promise((done) => window.__citytwin.map.once('idle', done) && window.__citytwin.map.triggerRepaint()));
    await page.screenshot({ path: join(out, `${name}.png`) });
    console.log(`${name}: first idle ${await page.evaluate(() => window.__citytwin.firstIdleMs)} ms → ${join(out, name + '.png')}`);
  } finally {
    await close();
  }
}
