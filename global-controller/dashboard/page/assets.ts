// The dashboard's static files, embedded so they survive `tsc` and packaging,
// served on the admin port without a token: they hold no data, the feed does.
import type * as http from 'node:http';
import { DASHBOARD_APP_JS } from './app';
import { DASHBOARD_HTML } from './html';
import { DASHBOARD_CSS } from './style';
import { LAND, WATER } from './world-outline';

interface Asset {
  contentType: string;
  body: Buffer;
}

const asset = (contentType: string, text: string): Asset => ({ contentType, body: Buffer.from(text, 'utf8') });

export const DASHBOARD_ASSETS: Record<string, Asset> = {
  '/dashboard': asset('text/html; charset=utf-8', DASHBOARD_HTML),
  '/dashboard/app.js': asset('text/javascript; charset=utf-8', `${DASHBOARD_APP_JS}(${JSON.stringify({ land: LAND, water: WATER })});\n`),
  '/dashboard/style.css': asset('text/css; charset=utf-8', DASHBOARD_CSS),
  // A green dot, so browsers stop asking for /favicon.ico.
  '/dashboard/favicon.svg': asset(
    'image/svg+xml',
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#3fb950"/></svg>\n',
  ),
};

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
export function serveDashboard(method: string, path: string, res: http.ServerResponse): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (path === '/' || path === '/dashboard/') {
    res.writeHead(302, { location: '/dashboard', 'content-length': 0 });
    res.end();
    return 'dashboard';
  }
  const file = DASHBOARD_ASSETS[path];
  if (!file) return undefined;
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length, ...SECURITY_HEADERS });
  res.end(method === 'HEAD' ? undefined : file.body);
  return 'dashboard';
}
