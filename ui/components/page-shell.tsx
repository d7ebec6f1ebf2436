import type { ComponentChildren } from 'preact';

/** The page's only CSS, inline (no extra request); the Content-Security-Policy allows it by its hash. */
export const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#595959;--line:#d0d0d0;--panel:#f6f7f8;--ok:#1a7f37;--bad:#b42318;--warn:#8a5300;--part:#c2410c;--grey:#5c6370;--maint:#1d4ed8;--nodata:#e4e6e9}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e8e8e8;--muted:#a8a8a8;--line:#3a3f45;--panel:#1a1e23;--ok:#3fb950;--bad:#ff7b72;--warn:#e3b341;--part:#fb923c;--grey:#9aa4b2;--maint:#79a6ff;--nodata:#262b31}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:52rem;margin:0 auto;padding:1.25rem .75rem}
h1{font-size:1.4rem;margin:0 0 1rem}h2{font-size:1.1rem;margin:1.75rem 0 .6rem}h3{font-size:1rem;margin:0}
a{color:inherit}
.overall{padding:.9rem 1rem;border-radius:.5rem;font-weight:600;border:2px solid currentColor;margin:0 0 .75rem}
.banner{padding:.7rem 1rem;border-radius:.5rem;background:var(--panel);border-left:4px solid var(--warn);margin:0 0 .75rem}
.banner.grey{border-left-color:var(--grey)}
.coverage{color:var(--muted);margin:0 0 1rem}
ul,ol{list-style:none;padding:0;margin:0}
.box{border:1px solid var(--line);border-radius:.5rem}
.box>li{padding:.75rem 1rem;border-top:1px solid var(--line)}.box>li:first-child{border-top:0}
.row{display:flex;flex-wrap:wrap;gap:.25rem 1rem;justify-content:space-between}
.group>.name{font-weight:700}.group ul{margin-top:.5rem;border-left:2px solid var(--line);padding-left:.75rem}.group ul>li{padding:.5rem 0}
.name{font-weight:600;overflow-wrap:anywhere}.meta{color:var(--muted);font-size:.875rem}
.state{font-weight:600}
.operational,.ok{color:var(--ok)}.degraded_performance,.degraded{color:var(--warn)}.partial_outage{color:var(--part)}.major_outage,.blind{color:var(--bad)}.under_maintenance{color:var(--maint)}.unverified,.no_data,.stopped,.unknown{color:var(--grey)}
.bars{display:flex;gap:1px;height:1.6rem;margin:.4rem 0 .1rem}.bars i{flex:1 1 0;min-width:1px;border-radius:1px;background:var(--ok)}
.bars .d-degraded{background:var(--warn)}.bars .d-blind{background:var(--bad)}.bars .d-unknown{background:var(--grey)}.bars .d-paused{background:var(--maint)}
.bars .d-no_data{background:repeating-linear-gradient(135deg,var(--nodata) 0 3px,transparent 3px 6px);outline:1px solid var(--nodata);outline-offset:-1px}
.scale{display:flex;justify-content:space-between}
details{margin-top:.25rem}summary{cursor:pointer;color:var(--muted);font-size:.875rem}
.days li{font-size:.875rem}
article{padding:.75rem 1rem;border:1px solid var(--line);border-radius:.5rem;margin-bottom:.75rem}
article ol{margin-top:.5rem}article ol li{padding:.35rem 0;border-top:1px dashed var(--line)}
.body{white-space:pre-line;overflow-wrap:anywhere;margin:.15rem 0 0}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
`;

export function PageShell(props: { title: string; refreshS: number; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={String(props.refreshS)} />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title}</title>
        {/* No icon: a browser would otherwise ask for /favicon.ico on every first visit. */}
        <link rel="icon" href="data:," />
        <link rel="alternate" type="application/atom+xml" href="/history.atom" title="Incident history (Atom)" />
        <link rel="alternate" type="application/rss+xml" href="/history.rss" title="Incident history (RSS)" />
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
