import type { Notices } from './notices';

/**
 * Warns `text` once when `signal` aborts (the first SIGINT or SIGTERM). Returns the function
 * that stops listening.
 */
export function announceOnAbort(signal: AbortSignal, notices: Notices, text: string): () => void {
  const announce = () => notices.warn(text);
  signal.addEventListener('abort', announce, { once: true });
  return () => signal.removeEventListener('abort', announce);
}
