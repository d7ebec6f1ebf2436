// The HTTP a probe does: one GET (or PUT) with a timeout, whose failures come back as sentences that
// say what was tried and what happened, never as exceptions.
import { type HttpAnswer, type HttpRequest, isTimeout, reasonOf, requestText } from '../transport/http-client.ts';

/** A failure after the server answered (a non-2xx) keeps its status and whole body for the caller. */
export type Fetched<T> = { ok: true; value: T; status: number } | { ok: false; error: string; status?: number; body?: string };

export interface Target {
  /** What is being asked, for error messages: "Prometheus", "Alertmanager", ... */
  what: string;
  url: string | URL;
  timeoutS: number;
}

async function request(target: Target, init: Omit<HttpRequest, 'timeoutMs'> = {}): Promise<Fetched<HttpAnswer>> {
  try {
    const answer = await requestText(target.url, { ...init, timeoutMs: target.timeoutS * 1000 });
    return { ok: true, value: answer, status: answer.status };
  } catch (e: unknown) {
    if (isTimeout(e)) return { ok: false, error: `${target.what} gave no answer within ${target.timeoutS} s (${origin(target.url)})` };
    return { ok: false, error: `cannot reach ${target.what} at ${origin(target.url)}: ${reasonOf(e)}` };
  }
}

/** GET a text body; anything but a 2xx is an error that quotes the start of the answer. */
export async function getText(target: Target, accept = 'text/plain'): Promise<Fetched<string>> {
  const r = await request(target, { headers: { accept } });
  if (!r.ok) return r;
  const text = r.value.text;
  if (!isSuccess(r.status))
    return {
      ok: false,
      error: `${target.what} answered HTTP ${r.status} at ${pathOf(target.url)}: ${redirectHint(r.value) ?? (text.slice(0, 200).trim() || 'no body')}`,
      status: r.status,
      body: text,
    };
  return { ok: true, value: text, status: r.status };
}

export async function send(
  target: Target,
  method: 'PUT' | 'POST',
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<Fetched<string>> {
  const r = await request(target, { method, body, headers: { ...headers, 'content-type': contentType } });
  if (!r.ok) return r;
  const text = r.value.text;
  if (!isSuccess(r.status))
    return {
      ok: false,
      error: `${target.what} refused the ${method} (HTTP ${r.status}): ${redirectHint(r.value) ?? (text.slice(0, 200).trim() || 'no body')}`,
    };
  return { ok: true, value: text, status: r.status };
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** Redirects are not followed (a probe asks the URL it was given): the answer says where to point it instead. */
function redirectHint(answer: HttpAnswer): string | null {
  const location = answer.headers.location;
  return answer.status >= 300 && answer.status < 400 && location !== undefined
    ? `it redirects to ${location.slice(0, 200)}; configure that URL instead`
    : null;
}

/** Joins a base URL and a path the way people expect: http://host:9090/prom + api/v1/query. */
export function under(base: string, path: string): URL {
  return new URL(path, base.endsWith('/') ? base : `${base}/`);
}

const origin = (url: string | URL) => new URL(url).origin;
const pathOf = (url: string | URL) => new URL(url).pathname;
