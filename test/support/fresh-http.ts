// GET on a connection of its own: fetch would reuse a kept-alive socket that a restarted (or killed)
// wrangler has closed, and fail for a reason that has nothing to do with the test.
import { get } from 'node:http';

export function freshGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
