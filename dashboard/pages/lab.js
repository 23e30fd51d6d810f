// @ts-check
/**
 * @module dashboard/pages/lab
 * `/lab`: the policy lab reports in the server's reports folder, and a file input that uploads a
 * report.json and opens it; `/lab/<name>`: one report, its markup (the lab's own HTML report body)
 * with its charts drawn by the lab's shared drawing script.
 */
import { api } from '../api.js';
import { epochOf, formatTime } from '../format.js';
import { h, link, replace, showAlert, table } from '../ui/dom.js';

/**
 * @typedef {import('../types.js').LabReportEntry} LabReportEntry
 * @typedef {import('../types.js').LabReportAnswer} LabReportAnswer
 */

/** The largest report.json the API takes. */
export const UPLOAD_LIMIT_BYTES = 32 * 1024 * 1024;

/** A report's link. */
function reportLink(/** @type {string} */ name, /** @type {string} */ text) {
  return link(`/lab/${encodeURIComponent(name)}`, text);
}

/**
 * Uploads a report.json and resolves with its name on the server.
 * @param {File} file
 * @returns {Promise<string>}
 */
async function upload(file) {
  if (file.size > UPLOAD_LIMIT_BYTES) throw new Error(`${file.name} is larger than the 32 MB a report may be.`);
  const text = await file.text();
  /** @type {{ name: string }} */
  const answer = await api('/v1/lab/reports', { method: 'POST', rawBody: text });
  return answer.name;
}

/**
 * Renders the list of reports with the upload.
 * @type {import('../app.js').Page}
 */
export function renderList(main, ctx) {
  ctx.setTitle('Lab');
  const list = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Loading reports…'));
  const input = h('input', { id: 'lab-upload', type: 'file', accept: '.json,application/json' });
  const uploadPlace = h(
    'div',
    { class: 'upload stack' },
    h('label', { for: input.id }, 'Open a report.json'),
    input,
    h(
      'p',
      { class: 'muted' },
      'A report written by switchyard experiment run; it is kept with the reports of this server.',
    ),
  );
  main.append(
    h('h1', { tabindex: -1 }, 'Policy lab'),
    h('section', { 'aria-labelledby': 'lab-reports' }, h('h2', { id: 'lab-reports' }, 'Reports'), list),
    h('section', { 'aria-labelledby': 'lab-open' }, h('h2', { id: 'lab-open' }, 'Open a report'), uploadPlace),
  );
  let live = true;
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    showAlert(uploadPlace, null);
    input.disabled = true;
    upload(file)
      .then((name) => {
        if (live) ctx.navigate(`/lab/${encodeURIComponent(name)}`);
      })
      .catch((/** @type {unknown} */ err) => showAlert(uploadPlace, err instanceof Error ? err.message : String(err)))
      .finally(() => {
        input.disabled = false;
        input.value = '';
      });
  });
  void api('/v1/lab/reports')
    .then((answer) => {
      const reports = /** @type {{ reports: LabReportEntry[] }} */ (answer).reports;
      if (reports.length === 0) {
        replace(
          list,
          h('p', {}, 'No reports yet: run an experiment (switchyard experiment run) or open a report.json.'),
        );
        return;
      }
      replace(
        list,
        table(
          'Lab reports, newest first',
          ['Report', 'Experiment', 'Started', 'Finished', 'Complete', 'Modes', 'Runs', 'Source'],
          reports.map((r) => [
            reportLink(r.name, r.title || r.name),
            r.experiment,
            formatTime(epochOf(r.startedAt)),
            formatTime(epochOf(r.finishedAt)),
            r.complete ? 'yes' : 'no (interrupted)',
            (r.modes ?? []).join(', '),
            String(r.runs),
            r.uploaded ? 'uploaded' : 'run here',
          ]),
        ),
      );
    })
    .catch((/** @type {unknown} */ err) => {
      replace(list);
      showAlert(list, err instanceof Error ? err.message : String(err));
    });
  return () => {
    live = false;
  };
}

/**
 * Renders one report: its markup, then its charts.
 * @type {import('../app.js').Page}
 */
export function renderReport(main, ctx, name = '') {
  ctx.setTitle(`Lab report ${name}`);
  const heading = h('h1', { tabindex: -1 }, `Lab report ${name}`);
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the report…'));
  main.append(h('p', {}, link('/lab', '← All reports')), heading, body);
  let live = true;
  void api(`/v1/lab/reports/${encodeURIComponent(name)}`)
    .then((answer) => {
      if (!live) return;
      const r = /** @type {LabReportAnswer} */ (answer);
      heading.textContent = r.title || `Lab report ${name}`;
      ctx.setTitle(r.title || name);
      const report = h('div', { class: 'lab-report' });
      // The lab's own markup, made by this server from the report (no scripts, no style attributes).
      report.innerHTML = r.markup;
      replace(body, report);
      // The report's markup has its own h1 (the title): it replaces the page's, focus included.
      const own = report.querySelector('h1');
      if (own) {
        const focused = document.activeElement === heading;
        heading.remove();
        own.setAttribute('tabindex', '-1');
        if (focused) own.focus();
      }
      if (typeof window.drawLabCharts === 'function') window.drawLabCharts(report, r.report, r.view);
      else
        showAlert(
          body,
          'The charts could not be drawn: the lab chart script did not load. The tables have every figure.',
        );
    })
    .catch((/** @type {unknown} */ err) => {
      replace(body);
      showAlert(body, err instanceof Error ? err.message : String(err));
    });
  return () => {
    live = false;
  };
}
