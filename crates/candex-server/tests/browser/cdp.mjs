// A headless Chromium driven over the DevTools protocol, for the browser checks (no npm
// packages: Node's WebSocket, `node --experimental-websocket` on Node 20). Name resolution of
// every host but 127.0.0.1 is blocked, so a page that needs the internet fails. Records every
// request the page makes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const chromium = process.env.CANDEX_TEST_CHROMIUM || 'chromium';
const deadline = Date.now() + 60_000;

export function fail(message) {
  console.error(`browser check failed: ${message}`);
  process.exit(1);
}

const profile = mkdtempSync(join(tmpdir(), 'candex-chromium-'));
const browser = spawn(chromium, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
  '--remote-debugging-port=0', `--user-data-dir=${profile}`,
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });
process.on('exit', () => {
  browser.kill('SIGKILL');
  // Chromium may still be writing its profile for a moment after the kill.
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); } catch { /* left in tmp */ }
});
setTimeout(() => fail('timed out after 60 s'), 60_000).unref();

const devtools = await new Promise((resolve, reject) => {
  let seen = '';
  browser.stderr.on('data', (chunk) => {
    seen += chunk;
    const match = seen.match(/DevTools listening on (ws:\/\/[^\s]+)/);
    if (match) { resolve(new URL(match[1])); }
  });
  browser.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
}).catch((e) => fail(e.message));

const targets = await (await fetch(`http://${devtools.host}/json/list`)).json();
const page = targets.find((t) => t.type === 'page');
if (!page) { fail('no page target'); }
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });

let lastId = 0;
const pending = new Map();
/** requestId -> the request (url, method, headers, postData) */
export const requests = new Map();
/** requestIds whose response body has arrived */
export const finished = new Set();
ws.onmessage = ({ data }) => {
  const message = JSON.parse(data);
  if (message.id && pending.has(message.id)) {
    const { resolve, reject } = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) { reject(new Error(JSON.stringify(message.error))); } else { resolve(message.result); }
  } else if (message.method === 'Network.requestWillBeSent') {
    const { requestId, request } = message.params;
    requests.set(requestId, request);
  } else if (message.method === 'Network.loadingFinished') {
    finished.add(message.params.requestId);
  }
};

export function send(method, params = {}) {
  return new Promise((resolve, reject) => {
    lastId += 1;
    pending.set(lastId, { resolve, reject });
    ws.send(JSON.stringify({ id: lastId, method, params }));
  });
}

export async function evaluate(expression) {
  const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (exceptionDetails) { fail(`${expression}: ${JSON.stringify(exceptionDetails)}`); }
  return result.value;
}

export async function until(what, expression) {
  while (Date.now() < deadline) {
    const value = await evaluate(expression);
    if (value) { return value; }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`timed out waiting for ${what}`);
}

export async function pause(ms) {
  await new Promise((r) => setTimeout(r, ms));
}

export function timeLeft() {
  return Date.now() < deadline;
}

await send('Page.enable');
await send('Network.enable');
await send('Runtime.enable');
// Runs before any page script (and is exempt from the page's CSP): collects violations.
await send('Page.addScriptToEvaluateOnNewDocument', {
  source: `window.__violations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`,
});
