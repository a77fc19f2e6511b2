/** The backends that held a lock through every try, as the one-line errors name them. */
export function describeLockHolders(pids: readonly number[]): string {
  return pids.length > 0 ? `backend pid ${pids.join(', ')}` : 'other transactions';
}
