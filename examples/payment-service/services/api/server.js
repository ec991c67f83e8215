// Payment API: a tiny HTTP service with no dependencies, so the example builds offline.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ service: 'payment-api', status: 'ready' }) + '\n');
});
server.listen(port, () => console.log(`payment-api listening on ${port}`));
