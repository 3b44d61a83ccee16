// The Apollo peer: Apollo Server 5 on Node's http server, serving SEEK's candidateProfile seed
// query over candex's SQLite file (read-only), for side-by-side benchmarks.
//
//   CANDEX_DB=/path/to/candex.db node server.js
//
// Environment:
//   CANDEX_DB          SQLite file candex uses (required; opened read-only)
//   PORT, HOST         listen address (default 4000, 127.0.0.1)
//   CANDEX_PUBLIC_URL  the candex server's public URL, which is its token issuer and audience
//                      (default http://127.0.0.1:8080, candex's default)
//   TOKEN_ISSUER, TOKEN_AUDIENCE  override those separately (candex --token-issuer/--token-audience)
//   PEER_SQL           loaders (default: DataLoaders per child) or joined (candex's one statement)
//   NODE_ENV           production unless set

import http from 'node:http';

process.env.NODE_ENV ??= 'production';
// graphql-js and Apollo read NODE_ENV when first loaded, so they are imported after it is set.
const { createPeer } = await import('./peer.js');
const { HeaderMap } = await import('@apollo/server');

const MAX_BODY_BYTES = 1024 * 1024; // candex's default request body limit

const path = process.env.CANDEX_DB;
if (!path) {
  console.error('CANDEX_DB must name the SQLite file candex uses');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const publicUrl = process.env.CANDEX_PUBLIC_URL ?? 'http://127.0.0.1:8080';
const issuer = process.env.TOKEN_ISSUER ?? publicUrl;
const audience = process.env.TOKEN_AUDIENCE ?? publicUrl;

function plain(res, status, message, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(message);
}

const isJson = (contentType) =>
  typeof contentType === 'string' && /^application\/json\s*(;|$)/i.test(contentType);

let peer;
const httpServer = http.createServer((req, res) => {
  const q = req.url.indexOf('?');
  if ((q < 0 ? req.url : req.url.slice(0, q)) !== '/graphql') return plain(res, 404, 'Not Found');
  if (req.method !== 'POST') return plain(res, 405, 'Method Not Allowed', { allow: 'POST' });

  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      tooLarge = true;
    } else {
      chunks.push(chunk);
    }
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (tooLarge) return plain(res, 413, 'Payload Too Large');
    let body;
    if (isJson(req.headers['content-type'])) {
      try {
        body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        return plain(res, 400, 'Invalid JSON body');
      }
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const authorization = req.headers.authorization;
    peer.server
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: q < 0 ? '' : req.url.slice(q), body },
        context: async () => peer.context(authorization),
      })
      .then(async (response) => {
        for (const [name, value] of response.headers) res.setHeader(name, value);
        res.statusCode = response.status ?? 200;
        if (response.body.kind === 'complete') {
          res.end(response.body.string);
          return;
        }
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch((err) => {
        console.error(err);
        if (!res.headersSent) plain(res, 500, 'Internal Server Error');
        else res.destroy();
      });
  });
});

peer = createPeer({ path, issuer, audience, sqlMode: process.env.PEER_SQL ?? 'loaders', httpServer });
await peer.server.start();
await new Promise((resolve) => httpServer.listen(port, host, resolve));
console.log(`apollo peer listening on http://${host}:${port}/graphql`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await peer.server.stop();
    peer.db.close();
    process.exit(0);
  });
}
