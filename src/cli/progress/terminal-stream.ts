import { Writable } from 'node:stream';

/** The width assumed when the terminal does not report one. */
const FALLBACK_COLUMNS = 80;

/**
 * A stream that tells cli-progress it is a terminal and forwards to `target`. The CLI decides
 * whether stderr is a terminal (the injected `isTTY`), not the stream it was handed.
 */
export class TerminalStream extends Writable {
  readonly isTTY = true;

  constructor(private readonly target: Writable) {
    super();
  }

  get columns(): number {
    const columns = (this.target as { columns?: unknown }).columns;
    return typeof columns === 'number' && columns > 0 ? columns : FALLBACK_COLUMNS;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.target.write(chunk);
    done();
  }
}
