import { Writable } from 'node:stream';
import type { MultiBar } from 'cli-progress';

/**
 * The CLI's stderr for log lines and notices. While a live progress bar is drawn, lines go
 * through its `log()`, which prints them above the bar; otherwise straight to the target.
 */
export class StderrLines extends Writable {
  /** The live bar, while one is drawn. */
  bar: MultiBar | null = null;

  constructor(private readonly target: Writable) {
    super();
  }

  /** Writes one line now, bypassing the stream's buffering, so it keeps its order with others. */
  line(text: string): void {
    this.send(`${text}\n`);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.send(chunk.toString('utf8'));
    done();
  }

  private send(text: string): void {
    if (this.bar === null) this.target.write(text);
    else this.bar.log(text);
  }
}
