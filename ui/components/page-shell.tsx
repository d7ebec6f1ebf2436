import type { ComponentChildren } from 'preact';

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#5c5c5c;--line:#ddd;--ok:#1a7f37;--bad:#b42318;--warn:#9a5b00;--grey:#5c6370}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e8e8e8;--muted:#a8a8a8;--line:#333;--ok:#3fb950;--bad:#ff7b72;--warn:#e3b341;--grey:#9aa4b2}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:52rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.4rem;margin:0 0 1rem}
.overall{padding:.9rem 1rem;border-radius:.5rem;font-weight:600;border:2px solid currentColor;margin-bottom:1.5rem}
ul{list-style:none;padding:0;margin:0;border:1px solid var(--line);border-radius:.5rem}
li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;justify-content:space-between;padding:.75rem 1rem;border-top:1px solid var(--line)}
li:first-child{border-top:0}
.name{font-weight:600;overflow-wrap:anywhere}.meta{color:var(--muted);font-size:.9rem}
.state{font-weight:600}.operational{color:var(--ok)}.degraded{color:var(--warn)}.blind{color:var(--bad)}.unverified,.no_data,.paused{color:var(--grey)}
footer{margin-top:1.5rem;color:var(--muted);font-size:.85rem}
`;

export function PageShell(props: { title: string; refreshS: number; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={String(props.refreshS)} />
        <title>{props.title}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
