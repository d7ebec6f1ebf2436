// A real HTTP server on 127.0.0.1 that records requests and answers as told.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status it was answered with, or 'hang' when it was left unanswered. */
  answered?: number | 'hang';
}

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  /** Sets how the next requests are answered (default 202 with an empty JSON object). */
  answer(fn: (req: RecordedRequest) => { status: number; body?: string; headers?: Record<string, string> } | 'hang'): void;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  let answer: Parameters<Recorder['answer']>[0] = () => ({ status: 202, body: '{}' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(recorded);
      const reply = answer(recorded);
      recorded.answered = reply === 'hang' ? 'hang' : reply.status;
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('recorder has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    answer: (fn) => (answer = fn),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
