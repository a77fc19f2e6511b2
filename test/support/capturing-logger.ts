import type { LogFields, Logger } from '../../src/logging';

export interface CapturedEvent {
  level: 'error' | 'warn' | 'info' | 'debug';
  event: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every event, so tests can read what would have been logged. */
export class CapturingLogger implements Logger {
  readonly events: CapturedEvent[] = [];

  error(event: string, fields?: LogFields): void {
    this.events.push({ level: 'error', event, fields });
  }
  warn(event: string, fields?: LogFields): void {
    this.events.push({ level: 'warn', event, fields });
  }
  info(event: string, fields?: LogFields): void {
    this.events.push({ level: 'info', event, fields });
  }
  debug(event: string, fields?: LogFields): void {
    this.events.push({ level: 'debug', event, fields });
  }

  named(event: string): CapturedEvent[] {
    return this.events.filter((captured) => captured.event === event);
  }

  /** Everything logged, as one string, for leak checks. */
  text(): string {
    return JSON.stringify(this.events);
  }
}
