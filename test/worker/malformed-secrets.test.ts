// One malformed entry in BLINDSPOT_AGENT_SECRETS disables that agent alone: the page, the API and
// every other agent keep working, and /healthz says what is wrong.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index.ts';
import { BASE, errorCode, heartbeatBody, signedRequest } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS, WRONG_SECRET } from './fixtures/secrets.ts';

const MALFORMED = JSON.stringify({ ...TEST_AGENT_SECRETS, kilo: ['not-a-secret'], 'Bad Id': 'whsec_x' });

async function fetchWith(secrets: string, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, BLINDSPOT_AGENT_SECRETS: secrets }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('a malformed agent secret entry', () => {
  it('leaves the status page and the Statuspage API answering 200', async () => {
    for (const path of ['/', '/api/v2/summary.json', '/api/v2/status.json', '/badge/metrics.json']) {
      expect((await fetchWith(MALFORMED, new Request(`${BASE}${path}`))).status, path).toBe(200);
    }
  });

  it("leaves other agents' heartbeats accepted (202)", async () => {
    const request = await signedRequest(JSON.stringify(heartbeatBody()), { agent: 'bravo' });
    expect((await fetchWith(MALFORMED, request)).status).toBe(202);
  });

  it("refuses that agent's heartbeats with 401 agent_disabled, naming the entry", async () => {
    const request = await signedRequest(JSON.stringify(heartbeatBody()), { agent: 'kilo', secrets: TEST_AGENT_SECRETS.kilo });
    const response = await fetchWith(MALFORMED, request);
    expect(response.status).toBe(401);
    expect(await errorCode(response.clone())).toBe('agent_disabled');
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/entry "kilo"/);
  });

  it('is listed on /healthz, which answers 503 until it is fixed', async () => {
    const response = await fetchWith(MALFORMED, new Request(`${BASE}/healthz`));
    expect(response.status).toBe(503);
    const body = (await response.json()) as { agents: { errors: string[] } };
    expect(body.agents.errors).toEqual([expect.stringMatching(/entry "kilo"/), expect.stringMatching(/entry "Bad Id"/)]);
  });

  it('a setting that is not JSON at all refuses every agent but still serves the page', async () => {
    expect((await fetchWith('{not json', new Request(`${BASE}/api/v2/summary.json`))).status).toBe(200);
    const request = await signedRequest(JSON.stringify(heartbeatBody()), { agent: 'bravo' });
    const response = await fetchWith('{not json', request);
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe('agent_disabled');
  });
});

describe('a secret two agents share', () => {
  const SHARED = JSON.stringify({
    ...TEST_AGENT_SECRETS,
    kilo: TEST_AGENT_SECRETS.bravo,
    juliet: [WRONG_SECRET, ...TEST_AGENT_SECRETS.bravo],
  });

  it('disables every agent that holds it: neither can sign for itself or the other, and /healthz names them', async () => {
    for (const agent of ['bravo', 'kilo', 'juliet']) {
      const request = await signedRequest(JSON.stringify(heartbeatBody()), { agent, secrets: TEST_AGENT_SECRETS.bravo });
      const response = await fetchWith(SHARED, request);
      expect(response.status, agent).toBe(401);
      expect(await errorCode(response.clone()), agent).toBe('agent_disabled');
      expect(((await response.json()) as { error: { message: string } }).error.message, agent).toMatch(/shares a secret with/);
    }
    const health = (await (await fetchWith(SHARED, new Request(`${BASE}/healthz`))).json()) as { agents: { errors: string[] } };
    expect(health.agents.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/entry "bravo": shares a secret with "juliet", "kilo"/),
        expect.stringMatching(/entry "juliet": shares a secret with "bravo", "kilo"/),
        expect.stringMatching(/entry "kilo": shares a secret with "bravo", "juliet"/),
      ]),
    );
  });

  it('leaves every other agent working', async () => {
    const request = await signedRequest(JSON.stringify(heartbeatBody()), { agent: 'charlie' });
    expect((await fetchWith(SHARED, request)).status).toBe(202);
  });
});
