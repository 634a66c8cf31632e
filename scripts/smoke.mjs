// A real query over HTTP and a real subscription over graphql-ws against a running server.
// Usage: node scripts/smoke.mjs http://127.0.0.1:4000/graphql
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';

const url = process.argv[2] ?? 'http://127.0.0.1:4000/graphql';
const fail = (msg) => {
  console.error(`smoke: ${msg}`);
  process.exit(1);
};

const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: '{ me { id } }' }),
});
const body = await res.json();
console.log('query:', JSON.stringify(body).slice(0, 300));
if (res.status !== 200 || body.errors || body.data?.me !== null) fail(`unexpected answer (HTTP ${res.status})`);

// Safe defaults: NUL-byte input is a client error naming the field, never a database error with SQL text.
const nul = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    query: 'mutation($e: String!) { login(email: $e, password: "smoke test 1") { accessToken } }',
    variables: { e: 'a\u0000@example.org' },
  }),
});
const nulBody = await nul.json();
console.log('NUL input:', JSON.stringify(nulBody).slice(0, 300));
if (
  nulBody.errors?.[0]?.extensions?.code !== 'BAD_USER_INPUT' ||
  /select |insert |stack|\.ts:|\.js:/i.test(JSON.stringify(nulBody))
)
  fail('NUL input was not refused cleanly');

const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
const ticks = [];
for await (const result of client.iterate({ query: 'subscription { serverTime }' })) {
  if (result.errors) fail(JSON.stringify(result.errors));
  ticks.push(result.data.serverTime);
  if (ticks.length === 2) break;
}
await client.dispose();
console.log('subscription:', ticks.join(' -> '));
if (!(Date.parse(ticks[1]) > Date.parse(ticks[0]))) fail('subscription ticks did not advance');
console.log('smoke: ok');
