// candex GraphQL explorer: mounts the vendored GraphiQL on the page's configuration (a JSON
// data block), and exchanges a client id and secret for a partner token at the token endpoint,
// putting it into the request headers. Loaded from candex itself; no inline script.
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('candex-explorer-config').textContent);
  var editors = { query: config.query, variables: config.variables, headers: config.headers };
  // A link may carry a query and variables (`/graphql?variables={"id":"…"}`), as GraphiQL's
  // own examples do; headers never come from the URL, so tokens stay out of links and history.
  var link = new URLSearchParams(window.location.search);
  if (link.get('query')) { editors.query = link.get('query'); }
  if (link.get('variables')) { editors.variables = link.get('variables'); }
  var generation = 0;
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));

  function fetcher(params, options) {
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    var extra = (options && options.headers) || {};
    Object.keys(extra).forEach(function (name) { headers[name] = extra[name]; });
    return fetch(config.endpoint, {
      method: 'POST', headers: headers, body: JSON.stringify(params), credentials: 'omit',
    }).then(function (response) { return response.json(); });
  }

  // GraphiQL takes its editors' text when it mounts; a new token mounts it again (keyed by
  // generation) with the text the person has typed so far.
  function render() {
    root.render(React.createElement(GraphiQL, {
      key: generation,
      fetcher: fetcher,
      query: editors.query,
      variables: editors.variables,
      headers: editors.headers,
      onEditQuery: function (text) { editors.query = text; },
      onEditVariables: function (text) { editors.variables = text; },
      onEditHeaders: function (text) { editors.headers = text; },
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: true,
    }));
  }

  var form = document.getElementById('token-form');
  var status = document.getElementById('token-status');

  function report(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    report('Requesting a token\u2026', 'pending');
    fetch(config.tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'omit',
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: form.elements.client_id.value.trim(),
        client_secret: form.elements.client_secret.value.trim(),
      }),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || typeof body.access_token !== 'string') {
          report('Token refused: ' + (body.error_description || body.error || 'HTTP ' + response.status), 'error');
          return;
        }
        var headers = {};
        try { headers = JSON.parse(editors.headers || '{}') || {}; } catch (e) { headers = {}; }
        headers.Authorization = 'Bearer ' + body.access_token;
        editors.headers = JSON.stringify(headers, null, 2);
        form.elements.client_secret.value = '';
        generation += 1;
        render();
        report('Partner token added to the headers; it expires in ' + body.expires_in + ' s.', 'ok');
      });
    }).catch(function (error) {
      report('Token request failed: ' + error.message, 'error');
    });
  });

  render();
}());
