import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { StatusPage, type StatusPageProps } from './pages/status-page.tsx';

export function renderStatusPage(props: StatusPageProps): string {
  return `<!doctype html>${renderToString(h(StatusPage, props))}`;
}
