// Drives a real headless Chromium over the DevTools protocol (no npm packages: Node's
// WebSocket, `node --experimental-websocket` on Node 20) through the explorer and the operator
// reference page of a running candex, with name resolution of every host but 127.0.0.1
// blocked. Asserts on the DOM and on network responses, never on pixels:
//   - every request the pages make goes to candex's origin; no CSP violation is reported;
//   - GraphiQL mounts; the token form gets a partner token; running the prefilled seed query
//     (variables from the link) answers the expected profile, shown in the result pane;
//   - the reference page lists the operations.
// Usage: node --experimental-websocket explorer.mjs BASE CLIENT_ID CLIENT_SECRET PROFILE_ID
// Exit 0 and a JSON summary on success; exit 1 with the reason otherwise.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, clientId, clientSecret, profileId] = process.argv.slice(2);
const chromium = process.env.CANDEX_TEST_CHROMIUM || 'chromium';
const deadline = Date.now() + 60_000;

function fail(message) {
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
const requests = new Map(); // requestId -> {url, method, postData, headers}
const finished = new Set();
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
function send(method, params = {}) {
  return new Promise((resolve, reject) => {
    lastId += 1;
    pending.set(lastId, { resolve, reject });
    ws.send(JSON.stringify({ id: lastId, method, params }));
  });
}
async function evaluate(expression) {
  const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (exceptionDetails) { fail(`${expression}: ${JSON.stringify(exceptionDetails)}`); }
  return result.value;
}
async function until(what, expression) {
  while (Date.now() < deadline) {
    const value = await evaluate(expression);
    if (value) { return value; }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`timed out waiting for ${what}`);
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

// The explorer, with the profile id in the link's variables.
const variables = JSON.stringify({ id: profileId });
await send('Page.navigate', { url: `${base}/graphql?variables=${encodeURIComponent(variables)}` });
await until('GraphiQL to mount', `!!document.querySelector('.graphiql-container .graphiql-execute-button')`);
await evaluate(`(() => {
  const form = document.getElementById('token-form');
  form.elements.client_id.value = ${JSON.stringify(clientId)};
  form.elements.client_secret.value = ${JSON.stringify(clientSecret)};
  form.requestSubmit();
  return true;
})()`);
const tokenState = await until('the token form', `(() => {
  const s = document.getElementById('token-status');
  return s.dataset.state === 'ok' || s.dataset.state === 'error' ? s.dataset.state + ': ' + s.textContent : '';
})()`);
if (!tokenState.startsWith('ok')) { fail(`token form: ${tokenState}`); }
await until('GraphiQL to mount again with the token', `!!document.querySelector('.graphiql-container .graphiql-execute-button')`);
await evaluate(`document.querySelector('.graphiql-execute-button').click(), true`);
await until('the profile in the result pane', `(document.querySelector('.graphiql-response')?.innerText || '').includes(${JSON.stringify(profileId)})`);

// The network: the seed query went to candex with the token, and its answer is the profile.
let seedQuery;
while (Date.now() < deadline) {
  seedQuery = [...requests.entries()].find(([id, r]) => r.method === 'POST' && (r.postData || '').includes('candidateProfile(id: $id)') && finished.has(id));
  if (seedQuery) { break; }
  await new Promise((r) => setTimeout(r, 100));
}
if (!seedQuery) { fail('no finished seed query request'); }
const [requestId, request] = seedQuery;
const authorization = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] || '';
if (!authorization.startsWith('Bearer ')) { fail(`seed query sent without a token: ${JSON.stringify(request.headers)}`); }
const { body } = await send('Network.getResponseBody', { requestId });
const answer = JSON.parse(body);
if (answer.errors || answer.data?.candidateProfile?.profileId?.value !== profileId) { fail(`seed query answer: ${body}`); }
const explorerViolations = await evaluate('window.__violations');

// The operator API reference page.
await send('Page.navigate', { url: `${base}/operator/v1/reference` });
const operations = await until('the reference page', `document.querySelectorAll('.reference .operation').length`);
const referenceViolations = await evaluate('window.__violations');

const foreign = [...requests.values()].map((r) => r.url).filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'));
if (foreign.length) { fail(`requests to other origins: ${foreign.join(', ')}`); }
const violations = [...explorerViolations, ...referenceViolations];
if (violations.length) { fail(`CSP violations: ${violations.join('; ')}`); }
console.log(JSON.stringify({ ok: true, requests: requests.size, operations, profile: profileId }));
process.exit(0);
