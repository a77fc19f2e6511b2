/** The commands, for messages and suggestions. */
export const COMMAND_NAMES = ['run', 'rollback', 'status'] as const;

/** Edit distance between two short words. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate closest to `word`, if it is close enough to be a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(word, candidate);
    if (score <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || score < best.score)) {
      best = { candidate, score };
    }
  }
  return best?.candidate;
}

/** The command typed, if any: the first word that is not a flag. */
export function typedCommand(argv: readonly string[]): string | undefined {
  return argv.find((arg) => !arg.startsWith('-'));
}

function unknownArgument(name: string, argv: readonly string[], knownFlags: readonly string[]) {
  const asFlag = argv.some((arg) => arg.replace(/^-+/, '').split('=')[0] === name && arg !== name);
  if (!asFlag) {
    const suggestion = closest(name, COMMAND_NAMES);
    return (
      `unknown command '${name}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}: ` +
      `the commands are ${COMMAND_NAMES.join(', ')}`
    );
  }
  const suggestion = closest(name, knownFlags);
  return `unknown flag --${name}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`;
}

/** yargs lists both spellings of a flag (batch-size, batchSize); keep the one typed. */
function typedNames(list: string, argv: readonly string[]): string[] {
  const names = list.split(',').map((name) => name.trim());
  const typed = names.filter((name) =>
    argv.some((arg) => arg === name || arg.replace(/^-+/, '').split('=')[0] === name),
  );
  return typed.length > 0 ? typed : names.slice(0, 1);
}

/**
 * Rewrites a yargs validation message as one line that says what to fix, followed by where to
 * look. `knownFlags` are the flags the command accepts, for suggestions.
 */
export function describeUsageFailure(
  message: string,
  argv: readonly string[],
  knownFlags: readonly string[],
): string {
  const flat = message.replace(/\s*\n\s*/g, ' ').trim();
  const command = typedCommand(argv);
  const helpFor =
    command !== undefined && (COMMAND_NAMES as readonly string[]).includes(command)
      ? `goal-backfill ${command} --help`
      : 'goal-backfill --help';
  let problem = flat;
  const unknown = /^Unknown arguments?: (.+)$/.exec(flat);
  const missing = /^Not enough arguments following: (.+)$/.exec(flat);
  const choice = /^Invalid values: Argument: ([\w-]+), Given: (.+), Choices: (.+)$/.exec(flat);
  if (unknown?.[1]) {
    problem = typedNames(unknown[1], argv)
      .map((name) => unknownArgument(name, argv, knownFlags))
      .join('; ');
  } else if (missing?.[1]) {
    problem = `--${missing[1]} needs a value`;
  } else if (choice?.[1]) {
    problem = `--${choice[1]} must be one of ${choice[3]?.replaceAll('"', '')} (got ${choice[2]})`;
  }
  return `${problem}; see '${helpFor}'`;
}
