// The dashboard's static files, served on the admin port without a token:
// they hold no data, the feed does. The HTML, CSS and world outline are
// embedded so they survive `tsc` and packaging; the script is the compiled
// browser/app.ts (tsconfig.browser.json), read from dist/ once when the admin
// server is made, with the call that starts it on the world outline appended.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { join } from 'node:path';
import { DASHBOARD_HTML } from './html';
import { DASHBOARD_CSS } from './style';
import { LAND, WATER } from './world-outline';

interface Asset {
  contentType: string;
  body: Buffer;
}

// Path -> file, for serveDashboard.
export type DashboardAssets = ReadonlyMap<string, Asset>;

// Where `npm run build` puts the compiled browser script, beside this file's own output.
const SCRIPT_FILE = join(__dirname, '..', 'browser', 'app.js');

const asset = (contentType: string, text: string): Asset => ({ contentType, body: Buffer.from(text, 'utf8') });

export function loadDashboardAssets(scriptFile = SCRIPT_FILE): DashboardAssets {
  let script: string;
  try {
    script = fs.readFileSync(scriptFile, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the dashboard's script ${scriptFile}: \`npm run build\` makes it`, { cause: err });
  }
  return new Map([
    ['/dashboard', asset('text/html; charset=utf-8', DASHBOARD_HTML)],
    ['/dashboard/app.js', asset('text/javascript; charset=utf-8', `${script.trimEnd()}\nstartDashboard(${JSON.stringify({ land: LAND, water: WATER })});\n`)],
    ['/dashboard/style.css', asset('text/css; charset=utf-8', DASHBOARD_CSS)],
    // A green dot, so browsers stop asking for /favicon.ico.
    [
      '/dashboard/favicon.svg',
      asset('image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#3fb950"/></svg>\n'),
    ],
  ]);
}

// Everything comes from this origin; the feed is a same-origin WebSocket.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

// Answers GET/HEAD of `/`, `/dashboard` and its files; returns the route name
// for metrics, or undefined when the path is not the dashboard's.
export function serveDashboard(assets: DashboardAssets, method: string, path: string, res: http.ServerResponse): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (path === '/' || path === '/dashboard/') {
    res.writeHead(302, { location: '/dashboard', 'content-length': 0 });
    res.end();
    return 'dashboard';
  }
  const file = assets.get(path);
  if (!file) return undefined;
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length, ...SECURITY_HEADERS });
  res.end(method === 'HEAD' ? undefined : file.body);
  return 'dashboard';
}
