import type { Writable } from 'node:stream';
import { MultiBar, type SingleBar } from 'cli-progress';
import type { BackfillProgress } from '../../backfill/backfill-options';
import type { StderrLines } from '../output/cli-output';

/** What the bar shows: sessions done / total, the rate and the time left. Fits 80 columns. */
export const PROGRESS_BAR_FORMAT =
  '{bar} {percentage}% | {value}/{total} sessions | {rate} sessions/s | ETA {eta_formatted}';

/**
 * A live cli-progress bar on a terminal's stderr, fed from the backfill's onProgress. It starts
 * on the first report (which brings the total); while it is drawn, the log lines written to
 * `lines` appear above it (cli-progress's `log()`).
 */
export class TerminalProgressBar {
  private bars: MultiBar | null = null;
  private bar: SingleBar | null = null;
  private sessionsBeforeThisInvocation = 0;

  constructor(
    private readonly stderr: Writable,
    private readonly lines: StderrLines,
    /** Sessions per page, to tell a resumed run's earlier sessions from this invocation's. */
    private readonly batchSize: number,
  ) {}

  update(progress: BackfillProgress): void {
    if (this.bar === null) this.start(progress);
    // The rate of this invocation: a resumed run's earlier sessions took no time here.
    const sessions = progress.sessionsProcessed - this.sessionsBeforeThisInvocation;
    const rate = progress.elapsedMs > 0 ? sessions / (progress.elapsedMs / 1000) : null;
    this.bar?.update(progress.sessionsProcessed, {
      rate: rate === null ? '-' : Math.round(rate).toLocaleString('en-US'),
    });
  }

  /** Draws the final state and gives the line back. Safe to call when the bar never started. */
  stop(): void {
    if (this.bars === null) return;
    // stop() draws the bar but drops log lines still waiting for a redraw; update() prints them.
    this.bars.update();
    this.bars.stop();
    this.bars = null;
    this.bar = null;
    this.lines.bar = null;
  }

  private start(first: BackfillProgress): void {
    // The first report comes after one page; a resumed run's counts include earlier pages.
    this.sessionsBeforeThisInvocation = Math.max(
      0,
      first.sessionsProcessed - Math.min(this.batchSize, first.sessionsProcessed),
    );
    this.bars = new MultiBar({
      stream: this.stderr,
      format: PROGRESS_BAR_FORMAT,
      barsize: 20,
      hideCursor: false,
      gracefulExit: false,
    });
    this.bar = this.bars.create(
      Math.max(first.totalSessions, first.sessionsProcessed),
      this.sessionsBeforeThisInvocation,
      { rate: '-' },
    );
    this.lines.bar = this.bars;
  }
}
