// Opens a page of another origin (the partner's web app, served by the test) in a real
// headless Chromium (cdp.mjs) and prints what the page's script saw when it used a browser
// token against candex: the GraphQL answer and the attachment download, or the browser's
// refusal. The page writes its findings into the DOM; the test asserts on them.
// Usage: node --experimental-websocket cross_origin.mjs PAGE_URL
import { evaluate, send, until } from './cdp.mjs';

const [pageUrl] = process.argv.slice(2);
await send('Page.navigate', { url: pageUrl });
await until('the page to finish', `document.body && document.body.dataset.done === '1'`);
console.log(await evaluate(`document.getElementById('out').textContent`));
process.exit(0);
