// A small webhook receiver for the local demo: verifies each event's signature and prints it.
import { createServer, type Server } from 'node:http';
import { verify } from '../protocol/signature.ts';

export function startEventReceiver(port: number, secret: string, print: (line: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name] ?? '');
      const ok = await verify([secret], header('webhook-id'), header('webhook-timestamp'), body, header('webhook-signature'));
      if (!ok) {
        print(`[events] refused an event with a bad signature`);
        res.writeHead(401).end();
        return;
      }
      let event: {
        type?: string;
        data?: { text?: string; window?: { agent: string; cause: string; started_at: string; ended_at: string | null } };
      };
      try {
        event = JSON.parse(body);
      } catch {
        print(`[events] received an event that is not JSON`);
        res.writeHead(400).end();
        return;
      }
      const w = event.data?.window;
      if (w)
        print(`[events] ${event.type}: agent ${w.agent} ${w.cause}, started ${w.started_at}${w.ended_at ? `, ended ${w.ended_at}` : ''}`);
      else print(`[events] ${event.type ?? 'an event without a type'}${event.data?.text ? `: ${event.data.text}` : ''}`);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
