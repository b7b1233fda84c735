/**
 * Progress of long CLI work (`hub seed`, `hub purge`, `hub migrate`): one line per step with its
 * running time, and a summary, on a terminal. Quiet when stderr is not a TTY (scripts, CI, pipes)
 * or with `--quiet`, so nothing but the command's one-line result reaches a log. Progress goes to
 * stderr; the result stays on stdout, where scripts read it.
 */
export interface Progress {
  /** A step begins (`seed: users…`). */
  step(label: string): void;
  /** The step that began ends, with what it did (`4 rows`). */
  done(detail: string): void;
  /** Something finished that had no announced start (a migration, a batch): with the time since the last line. */
  tick(text: string): void;
  /** The command's closing summary (steps and total time). */
  summary(text: string): void;
}

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream; now?: () => number } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const active = !options.quiet && stream.isTTY === true;
  const started = now();
  let current: { label: string; at: number } | undefined;
  let last = started;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  return {
    step(label) {
      current = { label, at: now() };
      if (active) stream.write(`  ${label}…\n`);
    },
    done(detail) {
      if (active && current) stream.write(`  ${current.label}: ${detail} (${seconds(now() - current.at)})\n`);
      current = undefined;
    },
    tick(text) {
      const at = now();
      if (active) stream.write(`  ${text} (${seconds(at - last)})\n`);
      last = at;
    },
    summary(text) {
      if (active) stream.write(`${text} in ${seconds(now() - started)}\n`);
    },
  };
}

