// Correctness gate for the Apollo peer: the seed query must give the same JSON from candex and
// from the peer, for N random profiles and for the refusal cases.
//
//   CANDEX_URL=http://127.0.0.1:18480 APOLLO_URL=http://127.0.0.1:18481 TOKEN=<partner token> \
//   CANDEX_DB=/tmp/apollo-peer/seed.db N=2000 node check.mjs
//
// Environment:
//   CANDEX_URL, APOLLO_URL  base URLs or …/graphql endpoints
//   TOKEN                   a partner token from candex's /oauth/token
//   CANDEX_DB               the SQLite file both serve (read-only here)
//   N                       profiles to compare (default 1000; all of them if fewer exist)
//   CONCURRENCY             requests in flight per server (default 8)
//   FOREIGN_TOKEN           optional: a token of another partner, to compare FORBIDDEN answers
//   QUERY_FILE              the query (default: candex's seed_query.graphql in this repository)
//
// For each profile: HTTP 200 from both, no `errors`, a non-null profile, and canonical JSON
// (parsed, keys sorted) equal. Then the refusal cases must give equal status and canonical JSON:
// a nonexistent id, malformed and wrong-kind ids, no token, a tampered token, tokens signed with
// candex's key (read from CANDEX_DB) that are expired / for another audience / without typ /
// not yet valid / browser tokens / of a partner with no relationship (foreign), and profiles of
// hirers TOKEN's partner has no ApplicationExport with (if any). Exit 1 on any mismatch.

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Database from 'better-sqlite3';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`${name} must be set`);
    process.exit(2);
  }
  return value;
};
const endpoint = (url) => (url.replace(/\/+$/, '').endsWith('/graphql') ? url : `${url.replace(/\/+$/, '')}/graphql`);

const CANDEX = endpoint(env('CANDEX_URL'));
const APOLLO = endpoint(env('APOLLO_URL'));
const TOKEN = env('TOKEN');
const DB = env('CANDEX_DB');
const N = Number(env('N', '1000'));
const CONCURRENCY = Number(env('CONCURRENCY', '8'));
const FOREIGN_TOKEN = process.env.FOREIGN_TOKEN;
const QUERY = readFileSync(
  env('QUERY_FILE', new URL('../../../crates/candex-server/src/graphql/seed_query.graphql', import.meta.url)),
  'utf8',
);

// --- helpers -----------------------------------------------------------------------------------

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

/** The first place two parsed JSON values differ, as [path, a, b], or null. */
function firstDiff(a, b, path = '$') {
  if (Object.is(a, b)) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object' || Array.isArray(a) !== Array.isArray(b)) {
    return [path, a, b];
  }
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return [`${path}[${i}]`, a[i], b[i]];
      const d = firstDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (!(k in a) || !(k in b)) return [`${path}.${k}`, a[k], b[k]];
    const d = firstDiff(a[k], b[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

async function post(url, id, token) {
  const headers = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: QUERY, variables: { id } }) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparseable: text };
  }
  return { status: res.status, bytes: Buffer.byteLength(text), json };
}

async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function sign(header, claims, secret) {
  const message = `${b64(header)}.${b64(claims)}`;
  return `${message}.${createHmac('sha256', secret).update(message).digest('base64url')}`;
}
const payloadOf = (token) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));

// --- data --------------------------------------------------------------------------------------

const db = new Database(DB, { readonly: true, fileMustExist: true });
const partnerId = payloadOf(TOKEN).sub;
const accessible = db
  .prepare(
    `select profile_id from profiles p where exists (select 1 from relationships r
       where r.partner_id = ? and r.hirer_id = p.hirer_id and r.type_code = 'ApplicationExport')
     order by random() limit ?`,
  )
  .pluck()
  .all(partnerId, N);
const foreignIds = db
  .prepare(
    `select profile_id from profiles p where not exists (select 1 from relationships r
       where r.partner_id = ? and r.hirer_id = p.hirer_id and r.type_code = 'ApplicationExport')
     order by random() limit 20`,
  )
  .pluck()
  .all(partnerId);
const total = db.prepare('select count(*) from profiles').pluck().get();
const someProfile = accessible[0] ?? db.prepare('select profile_id from profiles limit 1').pluck().get();
const someCandidate = db.prepare('select id from candidates limit 1').pluck().get();
const someHirer = db.prepare('select id from hirers limit 1').pluck().get();
const key = db.prepare('select secret from signing_keys order by created_at, kid limit 1').pluck().get();
db.close();

console.log(`profiles in database: ${total}; comparing ${accessible.length} random profiles TOKEN may read (N=${N})`);
console.log(`candex: ${CANDEX}\napollo: ${APOLLO}`);

let mismatches = 0;
let firstShown = false;
function report(what, detail) {
  mismatches++;
  if (!firstShown) {
    firstShown = true;
    console.log(`\nFIRST MISMATCH (${what}):`);
    console.log(detail);
  }
}

// --- profiles ----------------------------------------------------------------------------------

const sizes = [];
const started = Date.now();
await pool(accessible, CONCURRENCY, async (id) => {
  const [c, a] = await Promise.all([post(CANDEX, id, TOKEN), post(APOLLO, id, TOKEN)]);
  sizes.push(c.bytes);
  const problems = [];
  for (const [name, r] of [['candex', c], ['apollo', a]]) {
    if (r.status !== 200) problems.push(`${name} HTTP ${r.status}`);
    if (r.json.errors) problems.push(`${name} errors: ${JSON.stringify(r.json.errors)}`);
    if (!r.json.data?.candidateProfile) problems.push(`${name} returned no profile`);
  }
  const diff = firstDiff(canonical(c.json), canonical(a.json));
  if (diff) problems.push(`differ at ${diff[0]}: candex ${JSON.stringify(diff[1])} vs apollo ${JSON.stringify(diff[2])}`);
  if (problems.length) report(`profile ${id}`, problems.join('\n'));
});
const profileMismatches = mismatches;
sizes.sort((x, y) => x - y);
const pct = (p) => sizes[Math.min(sizes.length - 1, Math.floor((p / 100) * sizes.length))];
console.log(
  `profiles: ${accessible.length} compared, ${profileMismatches} mismatches ` +
    `(${((Date.now() - started) / 1000).toFixed(1)} s; candex response bytes median ${pct(50)}, p95 ${pct(95)}, max ${sizes.at(-1)})`,
);

// --- refusal and edge cases --------------------------------------------------------------------

const cases = [];
const expect = (name, id, token, code) => cases.push({ name, id, token, code });
const [scheme] = someProfile.split(':');
expect('nonexistent profile id', `${scheme}:candidateProfile:apply:doesNotExist0000000000`, TOKEN, null);
expect('malformed id', 'not-an-id', TOKEN, 'BAD_USER_INPUT');
expect('id of another kind', someCandidate, TOKEN, 'BAD_USER_INPUT');
expect('no token', someProfile, undefined, 'UNAUTHENTICATED');
expect('tampered token', someProfile, `${TOKEN.slice(0, -2)}${TOKEN.endsWith('AA') ? 'BB' : 'AA'}`, 'UNAUTHENTICATED');
expect('not a JWT', someProfile, 'garbage', 'UNAUTHENTICATED');
for (const id of foreignIds) expect('profile of a hirer without ApplicationExport', id, TOKEN, 'FORBIDDEN');
if (FOREIGN_TOKEN) {
  for (const id of accessible.slice(0, 20)) expect('FOREIGN_TOKEN', id, FOREIGN_TOKEN, 'FORBIDDEN');
}
if (key) {
  const base = payloadOf(TOKEN);
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'at+jwt', alg: 'HS256' };
  const claims = (extra) => ({ ...base, iat: now, nbf: now, exp: now + 600, ...extra });
  const forged = (extra, h = header) => sign(h, claims(extra), key);
  const nobody = `${scheme}:partner:candex:noRelationships00000000`;
  expect('valid token signed here', someProfile, forged({}), null);
  expect('partner with no relationships (foreign)', someProfile, forged({ sub: nobody }), 'FORBIDDEN');
  expect('expired token', someProfile, forged({ exp: now - 3600, nbf: now - 7200, iat: now - 7200 }), 'UNAUTHENTICATED');
  expect('token for another audience', someProfile, forged({ aud: 'https://elsewhere.example' }), 'UNAUTHENTICATED');
  expect('token from another issuer', someProfile, forged({ iss: 'https://elsewhere.example' }), 'UNAUTHENTICATED');
  expect('token not yet valid', someProfile, forged({ nbf: now + 3600 }), 'UNAUTHENTICATED');
  expect('token without typ', someProfile, forged({}, { alg: 'HS256' }), 'UNAUTHENTICATED');
  expect('token with alg none', someProfile, `${b64({ typ: 'at+jwt', alg: 'none' })}.${b64(claims({}))}.`, 'UNAUTHENTICATED');
  expect('token without nbf', someProfile, forged({ nbf: undefined }), 'UNAUTHENTICATED');
  expect('token with a bad sub', someProfile, forged({ sub: 'nobody' }), 'UNAUTHENTICATED');
  expect('browser token', someProfile, forged({ cdx_kind: 'browser', cdx_hirer: someHirer, scope: 'query:organizations' }), 'FORBIDDEN');
  expect('partner token naming a hirer', someProfile, forged({ cdx_hirer: someHirer }), 'UNAUTHENTICATED');
} else {
  console.log('(no signing key in CANDEX_DB: forged-token cases skipped)');
}

let caseMismatches = 0;
const seen = new Map();
for (const c of cases) {
  const [x, y] = await Promise.all([post(CANDEX, c.id, c.token), post(APOLLO, c.id, c.token)]);
  const problems = [];
  if (x.status !== y.status) problems.push(`HTTP ${x.status} (candex) vs ${y.status} (apollo)`);
  const diff = firstDiff(canonical(x.json), canonical(y.json));
  if (diff) problems.push(`differ at ${diff[0]}: candex ${JSON.stringify(diff[1])} vs apollo ${JSON.stringify(diff[2])}`);
  const code = x.json.errors?.[0]?.extensions?.code ?? null;
  if (code !== c.code) problems.push(`candex answered ${code ?? 'no error'}, expected ${c.code ?? 'no error'}`);
  if (problems.length) {
    caseMismatches++;
    report(`${c.name}: ${c.id}`, `${problems.join('\n')}\ncandex: ${JSON.stringify(x.json)}\napollo: ${JSON.stringify(y.json)}`);
  }
  const entry = seen.get(c.name) ?? { n: 0, bad: 0, code: c.code, sample: x.json.errors?.[0]?.message };
  entry.n++;
  if (problems.length) entry.bad++;
  seen.set(c.name, entry);
}
console.log(`\nedge cases: ${cases.length} compared, ${caseMismatches} mismatches`);
for (const [name, e] of seen) {
  console.log(`  ${e.bad ? 'FAIL' : 'ok  '} ${name} x${e.n} -> ${e.code ?? 'data'}${e.sample ? `: ${e.sample}` : ''}`);
}

console.log(`\ntotal: ${accessible.length + cases.length} compared, ${mismatches} mismatches`);
process.exit(mismatches === 0 && accessible.length > 0 ? 0 : 1);
