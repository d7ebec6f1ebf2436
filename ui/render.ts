import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { GapReportPage, type GapPageProps } from './pages/gap-report.tsx';
import { StatusPage, type StatusPageProps } from './pages/status-page.tsx';

export function renderStatusPage(props: StatusPageProps): string {
  return `<!doctype html>${renderToString(h(StatusPage, props))}`;
}

export function renderGapPage(props: GapPageProps): string {
  return `<!doctype html>${renderToString(h(GapReportPage, props))}`;
}
