// Admin tokens managed through the admin API, beside the bootstrap ones of BLINDSPOT_ADMIN_TOKENS:
//   GET    /v1/admin/tokens          every token's name and scopes (never a token or its hash)
//   POST   /v1/admin/tokens/:name    makes a token; answers it once ({"scopes": ["read"]} to narrow it)
//   DELETE /v1/admin/tokens/:name    revokes it: it opens nothing from then on
// Only the token's SHA-256 is kept, in the credentials object. Tokens of the setting are listed
// (source "setting") but changed only there.
import { Hono } from 'hono';
import * as v from 'valibot';
import { AGENT_ID_PATTERN, describeIssues } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import { ADMIN_SCOPES, parseAdminTokens } from '../config.ts';
import { CREDENTIALS_STORE, credentials, forgetAdminTokens } from '../durable/credentials.ts';
import { ApiError, fromObject, parseJsonBody } from '../errors.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { sha256Hex } from '../middleware/verify-admin-token.ts';

export const adminTokens = new Hono<AppEnv>();

const noStore = { 'cache-control': 'no-store' };

const NewToken = v.strictObject(
  {
    scopes: v.optional(
      v.pipe(
        v.array(v.picklist(ADMIN_SCOPES, 'each scope is "read" or "write"'), 'scopes is a list: ["read"] or ["read", "write"]'),
        v.minLength(1, 'give at least one scope: "read", "write"'),
      ),
      ['read', 'write'],
    ),
  },
  (issue) => `unknown key ${String(issue.received)}: a new token takes scopes`,
);

function nameOf(raw: string | undefined): string {
  const name = raw ?? '';
  if (!AGENT_ID_PATTERN.test(name)) throw new ApiError(400, 'invalid_token_name', 'token names match ^[a-z0-9][a-z0-9_.-]{0,62}$');
  return name;
}

adminTokens.get('/tokens', async (c) => {
  const managed = await fromObject(CREDENTIALS_STORE, () => credentials(c.env).adminTokens());
  const tokens = [
    ...managed.map((t) => ({
      name: t.name,
      scopes: t.scopes,
      source: 'managed',
      created_at: new Date(t.createdAt).toISOString(),
      created_by: t.createdBy,
    })),
    ...[...parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS)].map(([name, t]) => ({
      name,
      scopes: t.scopes,
      source: 'setting',
      created_at: null,
      created_by: null,
    })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return c.json({ tokens }, 200, noStore);
});

adminTokens.post('/tokens/:name', bodyLimit(4096), async (c) => {
  const name = nameOf(c.req.param('name'));
  const raw = c.var.rawBody.trim() === '' ? {} : parseJsonBody(c.var.rawBody);
  const input = v.safeParse(NewToken, raw);
  if (!input.success) throw new ApiError(400, 'invalid_body', describeIssues(input.issues));
  if (parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS).has(name))
    throw new ApiError(409, 'token_in_setting', `token "${name}" is configured in BLINDSPOT_ADMIN_TOKENS; pick another name`);
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const hash = await sha256Hex(token);
  const result = await fromObject(
    CREDENTIALS_STORE,
    async () => await credentials(c.env).addAdminToken(name, hash, input.output.scopes, c.var.adminName),
  );
  forgetAdminTokens();
  if (!result.ok) throw new ApiError(409, result.code, result.message);
  return c.json({ name, scopes: input.output.scopes, token }, 201, noStore);
});

adminTokens.delete('/tokens/:name', async (c) => {
  const name = nameOf(c.req.param('name'));
  if (parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS).has(name))
    throw new ApiError(409, 'token_in_setting', `token "${name}" is configured in BLINDSPOT_ADMIN_TOKENS; remove it there`);
  const revoked = await fromObject(CREDENTIALS_STORE, () => credentials(c.env).revokeAdminToken(name));
  forgetAdminTokens();
  if (revoked === 0) throw new ApiError(404, 'unknown_token', `no token "${name}"; blindspot token list shows them`);
  return c.json({ name, revoked: true }, 200, noStore);
});
