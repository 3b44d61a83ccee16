// Drives a real headless Chromium (cdp.mjs) through the explorer and the operator reference
// page of a running candex, with name resolution of every host but 127.0.0.1 blocked.
// Asserts on the DOM and on network responses, never on pixels:
//   - every request the pages make goes to candex's origin; no CSP violation is reported;
//   - GraphiQL mounts; the token form gets a partner token; running the prefilled seed query
//     (variables from the link) answers the expected profile, shown in the result pane;
//   - the reference page lists the operations.
// Usage: node --experimental-websocket explorer.mjs BASE CLIENT_ID CLIENT_SECRET PROFILE_ID
// Exit 0 and a JSON summary on success; exit 1 with the reason otherwise.
import { evaluate, fail, finished, pause, requests, send, timeLeft, until } from './cdp.mjs';

const [base, clientId, clientSecret, profileId] = process.argv.slice(2);

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
while (timeLeft()) {
  seedQuery = [...requests.entries()].find(([id, r]) => r.method === 'POST' && (r.postData || '').includes('candidateProfile(id: $id)') && finished.has(id));
  if (seedQuery) { break; }
  await pause(100);
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
// Counted once the page has loaded: Chromium parses a page as it arrives, so counting earlier
// can see the first few operations of a long page.
const operations = await until('the reference page', `document.readyState === 'complete' && document.querySelectorAll('.reference .operation').length`);
const referenceViolations = await evaluate('window.__violations');

const foreign = [...requests.values()].map((r) => r.url).filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'));
if (foreign.length) { fail(`requests to other origins: ${foreign.join(', ')}`); }
const violations = [...explorerViolations, ...referenceViolations];
if (violations.length) { fail(`CSP violations: ${violations.join('; ')}`); }
console.log(JSON.stringify({ ok: true, requests: requests.size, operations, profile: profileId }));
process.exit(0);
