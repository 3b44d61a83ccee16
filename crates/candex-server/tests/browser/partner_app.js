// The partner web app's page script in the cross-origin browser check: with the browser token
// from the page's URL fragment it queries candex's /graphql and downloads an attachment, as
// SEEK's browser-token flow does, and writes what happened into #out.
(async () => {
  const config = JSON.parse(decodeURIComponent(window.location.hash.slice(1)));
  const auth = { Authorization: `Bearer ${config.token}` };
  const out = {};
  try {
    const response = await fetch(config.graphql, {
      method: 'POST',
      headers: {
        ...auth,
        'Content-Type': 'application/json',
        'Accept-Language': 'en-AU',
        'X-Request-Id': 'a8e1e3f2-7b0c-4d58-9a43-2f1d0e6b5c11',
        'X-Session-Id': 'b5a8774c-c450-4906-a25c-861bce129106',
      },
      body: JSON.stringify({ query: '{ self { hirer { name } } }' }),
    });
    out.graphql = { status: response.status, body: await response.json() };
  } catch (error) {
    out.graphql = { blocked: String(error) };
  }
  try {
    const response = await fetch(config.download, { headers: auth });
    const blob = await response.blob();
    out.download = { status: response.status, disposition: response.headers.get('content-disposition'), size: blob.size };
  } catch (error) {
    out.download = { blocked: String(error) };
  }
  document.getElementById('out').textContent = JSON.stringify(out);
  document.body.dataset.done = '1';
})();
