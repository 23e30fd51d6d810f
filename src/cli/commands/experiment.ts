/**
 * @module cli/commands/experiment
 * `switchyard experiment run FILE`: the policy lab. Runs every policy × scenario × repeat of an
 * experiment file, live and/or simulated, with a progress line, then prints the comparison table and
 * writes report.json, report.md and report.html. Ctrl-C stops the run in progress and keeps the report
 * of the runs done (exit 130); a run that could not be carried out makes the exit 1, after the others.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { SwitchyardError } from '../../core/errors.js';
import { assembleReport } from '../../lab/assemble-report.js';
import { loadExperiment } from '../../lab/experiment.js';
import { renderTable } from '../../lab/report/table.js';
import { writeReport } from '../../lab/report/write.js';
import type { RunMode } from '../../lab/results.js';
import { type Progress, runExperiment } from '../../lab/run-experiment.js';
import { labRunners, usableModes } from '../../lab/runners.js';
import type { CommandIo } from './client.js';

/** The exit code of an experiment stopped by Ctrl-C: 128 + SIGINT, as shells report it. */
export const INTERRUPTED = 130;

const MODES: Readonly<Record<string, readonly RunMode[]>> = { live: ['live'], sim: ['sim'], both: ['live', 'sim'] };

/** `experiment run FILE [--out DIR] [--mode live|sim|both] [--repeat N]`. */
export async function experiment(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'run')
    throw io.usageError(sub ? `unknown experiment command "${sub}"` : 'experiment needs a command: run');
  const { values, positionals } = parseArgs({
    args: rest,
    options: { out: { type: 'string' }, mode: { type: 'string' }, repeat: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw io.usageError('experiment run needs one experiment FILE');
  const modes = MODES[values.mode ?? 'both'];
  if (!modes) throw io.usageError(`--mode must be live, sim or both, not "${values.mode}"`);
  const repeat = values.repeat === undefined ? undefined : Number(values.repeat);
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1 && repeat <= 100_000)) {
    throw io.usageError(`--repeat must be a whole number from 1 to 100000, not "${values.repeat}"`);
  }
  const file = positionals[0]!;
  const loaded = await loadExperiment(file);
  const { usable, skipped } = usableModes(loaded, modes, values.mode !== undefined);
  for (const note of skipped) io.err(`note: ${note}`);
  const out = resolve(values.out ?? `lab-reports/${loaded.name}`);

  const controller = new AbortController();
  let interrupts = 0;
  const interrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(INTERRUPTED);
    io.err('\nstopping: the run in progress ends, the report keeps the runs done (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const line = progressLine(io);
  try {
    const done = await runExperiment(loaded, {
      modes: usable,
      runners: labRunners(),
      signal: controller.signal,
      ...(repeat !== undefined && { repeat }),
      onProgress: line.show,
    });
    line.end();
    const report = assembleReport(loaded, done, usable, repeat);
    await writeReport(out, report);
    io.out('');
    io.out(renderTable(report));
    io.out('');
    for (const verdict of report.verdicts) io.out(`${verdict.mode} · ${verdict.text}`);
    if (report.agreement) {
      const off = report.agreement.filter((a) => !a.agrees);
      io.out('');
      io.out(`live against simulated: ${report.agreement.length - off.length} of ${report.agreement.length} agree`);
      for (const a of off) io.out(`  disagree: ${a.policy} × ${a.scenario}: ${a.why ?? ''}`);
    }
    io.out('');
    io.out(`report: ${out}/report.html (also report.md, report.json)`);
    if (!done.complete) {
      io.err(`interrupted: ${done.runs.length} runs done; the report has them`);
      return INTERRUPTED;
    }
    if (done.failures.length > 0) {
      const which = done.failures.map((f) => `  ${f.mode} ${f.policy} × ${f.scenario} #${f.repeat + 1}: ${f.reason}`);
      throw new SwitchyardError(
        'EXPERIMENT_FAILED',
        `${done.failures.length} of the runs could not be carried out:\n${which.join('\n')}`,
      );
    }
    return 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/** One line rewritten in place on a terminal, a line per run elsewhere. */
function progressLine(io: CommandIo): { show: (p: Progress) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let shown = false;
  const clock = (ms: number) => {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  return {
    show: (p) => {
      if (!tty && !p.result) return;
      const what = `${p.mode} ${p.spec.policy.name} × ${p.spec.scenario.name} #${p.spec.repeat + 1}`;
      const outcome = p.result ? ` → ${p.result.outcome}, ${p.result.failed} failed` : '';
      const text = `run ${p.index} of ${p.total} · ${what}${outcome} · elapsed ${clock(p.elapsedMs)} · ETA ${clock(p.etaMs)}`;
      if (tty) process.stderr.write(`\r\x1b[2K${text}`);
      else io.err(text);
      shown = true;
    },
    end: () => {
      if (tty && shown) process.stderr.write('\n');
    },
  };
}
