import { Writable } from 'node:stream';

/** What a live display does around each line written beneath it. */
export interface LineHooks {
  beforeLine(): void;
  afterLine(): void;
}

/**
 * The CLI's stderr for log lines and notices. While a live progress bar holds the terminal's
 * last line, it is told before and after each line, so it can clear itself and redraw below.
 */
export class StderrLines extends Writable {
  private hooks: LineHooks | null = null;

  constructor(private readonly target: Writable) {
    super();
  }

  /** Calls `hooks` around each line written, until {@link StderrLines.detach}. */
  attach(hooks: LineHooks): void {
    this.hooks = hooks;
  }

  detach(): void {
    this.hooks = null;
  }

  /** Writes one line now, bypassing the stream's buffering, so it keeps its order with others. */
  line(text: string): void {
    this.send(`${text}\n`);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.send(chunk);
    done();
  }

  private send(chunk: Buffer | string): void {
    this.hooks?.beforeLine();
    this.target.write(chunk);
    this.hooks?.afterLine();
  }
}
