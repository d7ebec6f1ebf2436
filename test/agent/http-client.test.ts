import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText } from '../../agent/probes/http.ts';
import { isTimeout, reasonOf, requestText } from '../../agent/transport/http-client.ts';

// A loopback server whose answer each test chooses: the real node:http on the other end.
let server: Server;
let base: string;
let handler: Parameters<typeof createServer>[1] = (_req, res) => res.end();
beforeAll(async () => {
  server = createServer((req, res) => handler?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("the agent's HTTP client", () => {
  it('sends the method, headers and body, and gives back status, headers and text of any status', async () => {
    handler = (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.writeHead(503, { 'retry-after': '7', 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.headers['x-probe']} ${req.headers['content-length']} ${body}`);
      });
    };
    const answer = await requestText(`${base}/p`, { method: 'POST', headers: { 'x-probe': 'yes' }, body: 'héllo', timeoutMs: 2000 });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('7');
    expect(answer.text).toBe('POST yes 6 héllo');
  });

  it('gives up at its deadline on a server that never answers, as a timeout', async () => {
    handler = () => {}; // takes the request and says nothing
    const error = await requestText(base, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isTimeout(error)).toBe(true);
  });

  it('gives up at its deadline on an answer that starts and never ends', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    };
    const error = await requestText(base, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isTimeout(error)).toBe(true);
  });

  it('breaks off an answer longer than its cap instead of holding it in memory', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.end('x'.repeat(10_000));
    };
    const error = await requestText(base, { timeoutMs: 2000, maxBytes: 1000 }).catch((e: unknown) => e);
    expect(reasonOf(error)).toMatch(/longer than 1000 bytes/);
  });

  it("names a refused connection by Node's code", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await requestText(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe('ECONNREFUSED');
  });

  it('refuses a URL that is not http or https', async () => {
    await expect(requestText('file:///etc/passwd', { timeoutMs: 100 })).rejects.toThrow(/only http: and https:/);
  });

  it('does not follow a redirect: a probe says where it points, so the configuration can be fixed', async () => {
    handler = (_req, res) => {
      res.writeHead(301, { location: 'https://prometheus.example/prom/' });
      res.end();
    };
    const got = await getText({ what: 'Prometheus', url: `${base}/metrics`, timeoutS: 2 });
    expect(got).toMatchObject({ ok: false, status: 301 });
    expect(got.ok ? '' : got.error).toMatch(
      /HTTP 301 at \/metrics: it redirects to https:\/\/prometheus\.example\/prom\/; configure that URL instead/,
    );
  });
});
