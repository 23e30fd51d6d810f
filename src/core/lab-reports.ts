/**
 * @module core/lab-reports
 * The policy lab's reports folder as the control API serves it: what a listed report says of itself, a
 * report as its page shows it, and the shelf that lists, reads and stores them. The lab fills these
 * in (with its own report type); the API serves them without knowing the lab.
 */

/** One report in the list. */
export interface LabReportSummary {
  readonly name: string;
  readonly title: string;
  /** The experiment's name. */
  readonly experiment: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly complete: boolean;
  readonly modes: readonly string[];
  /** How many runs report.json has. */
  readonly runs: number;
  /** Whether it came through the control API rather than being written here by an experiment. */
  readonly uploaded: boolean;
}

/**
 * One report as a page shows it: its body markup (sections, tables, `data-chart` placeholders; no
 * script, no style attribute), and the `report` and `view` that `drawLabCharts(root, report, view)`
 * draws the placeholders from.
 */
export interface LabReportPage<Report = unknown, View = unknown> {
  readonly name: string;
  readonly title: string;
  readonly markup: string;
  readonly report: Report;
  readonly view: View;
}

/** The reports folder. */
export interface LabReportShelf<
  Summary extends LabReportSummary = LabReportSummary,
  Page extends LabReportPage = LabReportPage,
> {
  /** Every readable report, newest first (by startedAt); unreadable or invalid ones are left out. */
  list(): Promise<readonly Summary[]>;
  /** One report's page parts; LAB_REPORT_NOT_FOUND, or LAB_REPORT_INVALID when it cannot be read. */
  read(name: string): Promise<Page>;
  /** Validates and stores an uploaded report.json; LAB_REPORT_INVALID naming the first bad field. */
  store(body: unknown): Promise<{ readonly name: string }>;
}
