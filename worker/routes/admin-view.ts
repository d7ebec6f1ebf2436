// A minimal admin view of channels and the delivery log. The page holds no data: it asks for an
// admin token (kept in this tab's sessionStorage only) and reads the admin API with it.
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';

export const adminView = new Hono<AppEnv>();

const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Blindspot admin · deliveries</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#202124}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{font-weight:600;background:#f1f3f4}.bad{color:#b3261e}.ok{color:#137333}.muted{color:#5f6368}
code{font-size:12px}button{font:inherit}
</style></head>
<body>
<h1>Deliveries</h1>
<form id="login"><label>Admin token <input id="token" type="password" autocomplete="off" size="40"></label> <button>Show</button></form>
<p id="status" class="muted"></p>
<h2>Channels</h2>
<table id="channels"><thead><tr><th>Channel</th><th>Type</th><th>State</th><th>Pending</th><th>Dead</th><th>Last error</th><th></th></tr></thead><tbody></tbody></table>
<h2>Notifications <select id="state"><option value="">all</option><option>pending</option><option>dead</option><option>delivered</option><option>cancelled</option></select></h2>
<table id="notifications"><thead><tr><th>Created</th><th>Event</th><th>Channel</th><th>Agent</th><th>State</th><th>Attempts</th><th>Last status</th><th>Last error</th></tr></thead><tbody></tbody></table>
<script src="/admin.js"></script>
</body></html>`;

const SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; return td; };
const when = (ms) => (ms == null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z');
async function api(path, init) {
  const res = await fetch(path, { ...init, headers: { authorization: 'Bearer ' + sessionStorage.getItem('blindspot-admin') } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + res.status);
  return body;
}
async function load() {
  $('status').textContent = 'Loading…';
  try {
    const { channels } = await api('/v1/admin/channels');
    const tbody = $('channels').tBodies[0]; tbody.replaceChildren();
    for (const ch of channels) {
      const tr = document.createElement('tr');
      const state = ch.config_error ? 'not configured' : ch.disabled_at ? 'disabled' : 'ready';
      tr.append(cell(ch.id), cell(ch.type), cell(state, state === 'ready' ? 'ok' : 'bad'), cell(ch.pending), cell(ch.dead, ch.dead > 0 ? 'bad' : ''), cell(ch.config_error || ch.disabled_reason || ch.last_error, 'muted'));
      const td = document.createElement('td'); const b = document.createElement('button'); b.textContent = 'Test';
      b.onclick = async () => { b.disabled = true; try { const r = await api('/v1/admin/channels/' + encodeURIComponent(ch.id) + '/test', { method: 'POST' }); alert(r.ok ? 'Delivered (' + r.sent.map((s) => s.status).join(', ') + ')' : 'Failed: ' + r.sent.map((s) => s.error).join('; ')); } catch (e) { alert(e.message); } b.disabled = false; load(); };
      td.append(b); tr.append(td); tbody.append(tr);
    }
    const state = $('state').value;
    const { notifications } = await api('/v1/admin/notifications?limit=200' + (state ? '&state=' + state : ''));
    const nb = $('notifications').tBodies[0]; nb.replaceChildren();
    for (const n of notifications) {
      const tr = document.createElement('tr');
      tr.append(cell(when(n.created_at)), cell(n.event_type), cell(n.channel_id), cell(n.agent_id), cell(n.state, n.state === 'dead' ? 'bad' : n.state === 'delivered' ? 'ok' : ''), cell(n.attempts), cell(n.last_status), cell(n.last_error, 'muted'));
      nb.append(tr);
    }
    $('status').textContent = 'Updated ' + when(Date.now());
  } catch (e) { $('status').textContent = e.message; }
}
$('login').onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('blindspot-admin', $('token').value); $('token').value = ''; load(); };
$('state').onchange = load;
if (sessionStorage.getItem('blindspot-admin')) load();
`;

adminView.get('/admin', (c) => c.html(PAGE, 200, HEADERS));
adminView.get('/admin.js', (c) => c.body(SCRIPT, 200, { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' }));
