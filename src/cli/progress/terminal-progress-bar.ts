import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { BackfillProgress } from '../../backfill/backfill-options';
import type { StderrLines } from '../output/stderr-lines';
import { formatRate, formatTimeLeft, progressFigures } from './progress-figures';
import { TerminalStream } from './terminal-stream';

/** What the bar shows: sessions done / total, the rate and the time left. Fits 80 columns. */
export const PROGRESS_BAR_FORMAT =
  '{bar} {percentage}% | {value}/{total} sessions | {rate} sessions/s | ETA {timeLeft}';

const CLEAR_LINE = '\r\x1b[K';
const SAVE_CURSOR = '\x1b7';

/**
 * A live cli-progress bar on stderr, fed from the backfill's onProgress. It starts on the first
 * report (which brings the total) and shares the terminal with log lines written to `lines`.
 */
export class TerminalProgressBar {
  private bar: SingleBar | null = null;
  private sessionsBeforeThisInvocation = 0;
  private readonly terminal: TerminalStream;

  constructor(
    stderr: Writable,
    private readonly lines: StderrLines,
    /** Sessions per page, to tell a resumed run's earlier sessions from this invocation's. */
    private readonly batchSize: number,
  ) {
    this.terminal = new TerminalStream(stderr);
  }

  update(progress: BackfillProgress): void {
    if (this.bar === null) this.start(progress);
    const figures = progressFigures({
      sessionsProcessed: progress.sessionsProcessed,
      totalSessions: progress.totalSessions,
      sessionsThisInvocation: progress.sessionsProcessed - this.sessionsBeforeThisInvocation,
      elapsedMs: progress.elapsedMs,
    });
    this.bar?.update(progress.sessionsProcessed, {
      rate: formatRate(figures.sessionsPerSecond),
      timeLeft: formatTimeLeft(figures.secondsLeft),
    });
  }

  /** Draws the final state and gives the line back. Safe to call when the bar never started. */
  stop(): void {
    if (this.bar === null) return;
    this.bar.stop();
    this.bar = null;
    this.lines.detach();
  }

  private start(first: BackfillProgress): void {
    // The first report comes after one page; a resumed run's counts include earlier pages.
    this.sessionsBeforeThisInvocation = Math.max(
      0,
      first.sessionsProcessed - Math.min(this.batchSize, first.sessionsProcessed),
    );
    this.bar = new SingleBar({
      stream: this.terminal,
      format: PROGRESS_BAR_FORMAT,
      barsize: 20,
      // Log lines may scroll the bar away; redraw every frame, not only when it changed.
      forceRedraw: true,
      hideCursor: false,
      gracefulExit: false,
    });
    this.bar.start(Math.max(first.totalSessions, first.sessionsProcessed), 0, {
      rate: '-',
      timeLeft: '?',
    });
    this.lines.attach({
      beforeLine: () => this.terminal.write(CLEAR_LINE),
      // The bar returns to the saved cursor when it stops: keep that at the line it now owns.
      afterLine: () => this.terminal.write(SAVE_CURSOR),
    });
  }
}
