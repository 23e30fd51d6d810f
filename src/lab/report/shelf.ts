/**
 * @module lab/report/shelf
 * The reports folder as the control API shows it: `<dir>/<name>/report.json` for each report (the
 * folder's name is the report's), listed, read as the page's parts, and added to by uploads. An upload
 * is validated, named after its experiment (made safe for a folder name, `-2`, `-3`, … when taken),
 * written with the lab's own writer (so report.md and report.html come with it) and marked with an
 * `uploaded.json` beside it. Every read is bounded: a report.json over {@link MAX_REPORT_BYTES} is refused.
 */
import { mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { describeError } from '../../core/describe-error.js';
import { isSwitchyardError, SwitchyardError } from '../../core/errors.js';
import type {
  LabReportPage as CorePage,
  LabReportShelf as CoreShelf,
  LabReportSummary,
} from '../../core/lab-reports.js';
import { parseExperimentReport } from '../report-schema.js';
import type { ExperimentReport, RunMode } from '../results.js';
import { renderReportParts, reportTitle, type ReportView } from './html.js';
import { writeReport } from './write.js';

/** The reports folder when the config names none: where `experiment run` writes, in the working directory. */
export const DEFAULT_LAB_REPORTS = 'lab-reports';

/** The largest report.json the shelf reads or stores (as written, pretty-printed): 32 MiB. */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

/** The file beside an uploaded report that says it came through the API. */
const UPLOADED = 'uploaded.json';

/** How many `-2`, `-3`, … an upload's name tries before giving up. */
const MAX_SUFFIX = 1000;

/** One report in the list, its modes the lab's. */
export interface LabReportEntry extends LabReportSummary {
  readonly modes: readonly RunMode[];
}

/** One report as a page shows it (see {@link renderReportParts}). */
export type LabReportPage = CorePage<ExperimentReport, ReportView>;

/** The reports folder, with the lab's own types. */
export type LabReportShelf = CoreShelf<LabReportEntry, LabReportPage>;

type Listed = Omit<LabReportEntry, 'uploaded'>;

/** The shelf of the config's `control.labReports` (or {@link DEFAULT_LAB_REPORTS}), from the working directory. */
export function configuredShelf(control: { readonly labReports?: string | undefined }): LabReportShelf {
  return labReportShelf(resolve(control.labReports ?? DEFAULT_LAB_REPORTS));
}

/** The shelf over `dir` (absolute); the folder need not exist until something is uploaded. */
export function labReportShelf(dir: string): LabReportShelf {
  // report.json files parse to the same entry until they change: the list reads each once.
  const seen = new Map<string, { readonly stamp: string; readonly entry: Listed | null }>();

  async function listed(name: string): Promise<Listed | null> {
    const file = join(dir, name, 'report.json');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return null;
    const stamp = `${info.mtimeMs}:${info.size}`;
    const known = seen.get(name);
    if (known?.stamp === stamp) return known.entry;
    const entry = await readReport(file, name).then(
      (report) => entryOf(name, report),
      () => null,
    );
    seen.set(name, { stamp, entry });
    return entry;
  }

  return {
    async list() {
      const folders = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new SwitchyardError('INTERNAL', `cannot list the lab reports in ${dir}: ${describeError(err)}`);
      });
      const names = folders.filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
      const entries: LabReportEntry[] = [];
      for (const name of names) {
        const entry = await listed(name);
        if (entry) entries.push({ ...entry, uploaded: await isFile(join(dir, name, UPLOADED)) });
      }
      for (const name of seen.keys()) if (!names.includes(name)) seen.delete(name);
      return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.name.localeCompare(b.name));
    },

    async read(name) {
      checkName(name);
      const report = await readReport(join(dir, name, 'report.json'), name);
      const parts = showable(report, `lab report "${name}"`);
      return { name, ...parts };
    },

    async store(body) {
      const report = parseExperimentReport(body, 'the uploaded report');
      const size = Buffer.byteLength(JSON.stringify(report, null, 2));
      if (size > MAX_REPORT_BYTES) throw tooLarge('the uploaded report (as report.json)', size);
      showable(report, 'the uploaded report');
      const name = await claimFolder(dir, safeName(report.experiment.name));
      const folder = join(dir, name);
      try {
        await writeFile(join(folder, UPLOADED), JSON.stringify({ uploaded: true }) + '\n', 'utf8');
        await writeReport(folder, report);
      } catch (err) {
        await rm(folder, { recursive: true, force: true });
        throw err;
      }
      seen.delete(name);
      return { name };
    },
  };
}

function entryOf(name: string, report: ExperimentReport): Listed {
  return {
    name,
    title: reportTitle(report),
    experiment: report.experiment.name,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    complete: report.complete,
    modes: report.modes,
    runs: report.runs.length,
  };
}

/**
 * A name from a request names one folder inside the shelf's: no separator, no `..`, nothing a path could
 * climb out with.
 */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.length > 255 || /[/\\\0]/.test(name)) {
    throw new SwitchyardError(
      'ARGUMENTS_INVALID',
      `"${name.slice(0, 100)}" is not a report name: one folder name, without / or \\, not . or ..`,
    );
  }
}

/** An experiment's name as a folder name: letters, digits and `._-` only, not starting with a dot. */
export function safeName(experiment: string): string {
  const safe = experiment
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return safe === '' ? 'report' : safe;
}

/** Makes `<dir>/<base>` or the first free `<base>-2`, `<base>-3`, …; making it is the claim, so two uploads never share one. */
async function claimFolder(dir: string, base: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    for (let n = 1; n <= MAX_SUFFIX; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      try {
        await mkdir(join(dir, name));
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } catch (cause) {
    throw new SwitchyardError(
      'EXPERIMENT_FAILED',
      `cannot make a folder for the report in ${dir}: ${describeError(cause)}`,
      {
        cause,
      },
    );
  }
  throw new SwitchyardError('EXPERIMENT_FAILED', `${dir} already has ${MAX_SUFFIX} reports named "${base}"`);
}

/** report.json at `file`, read within {@link MAX_REPORT_BYTES}, parsed and validated. */
async function readReport(file: string, name: string): Promise<ExperimentReport> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_REPORT_BYTES) throw tooLarge(`lab report "${name}"`, size);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isSwitchyardError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SwitchyardError('LAB_REPORT_NOT_FOUND', `no lab report named "${name}"`);
    }
    throw new SwitchyardError('LAB_REPORT_INVALID', `lab report "${name}" cannot be read: ${describeError(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SwitchyardError('LAB_REPORT_INVALID', `lab report "${name}" is not JSON: ${describeError(err)}`);
  }
  return parseExperimentReport(value, `lab report "${name}"`);
}

/** The report's page parts; a report the schema takes but the pages cannot show is refused as invalid. */
function showable(report: ExperimentReport, what: string): Omit<LabReportPage, 'name'> {
  try {
    return renderReportParts(report);
  } catch (err) {
    if (isSwitchyardError(err)) throw err;
    throw new SwitchyardError('LAB_REPORT_INVALID', `${what} cannot be shown: ${describeError(err)}`);
  }
}

function tooLarge(what: string, bytes: number): SwitchyardError {
  return new SwitchyardError(
    'LAB_REPORT_INVALID',
    `${what} is larger than the ${MAX_REPORT_BYTES / 1024 / 1024} MiB a lab report may have (${bytes} bytes)`,
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
