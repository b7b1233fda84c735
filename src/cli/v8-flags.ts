import { spawn } from 'node:child_process';

/**
 * The V8 settings a serving process needs, in one place; bin/hub.js's first line and `npm start`
 * give the same, so that neither relaunches.
 *
 * - --max-semi-space-size=24: a scavenge's pause grows with what is still reachable when it comes,
 *   a share of the semi-space (bench/README.md, "Sixth round": 23 ms at 64 MB, 8 ms at 16 MB; 24 MB
 *   gave the same requests/s as 64, a lower p99 and less RSS).
 * - --no-allocation-site-pretenuring: V8 allocates the objects of an allocation site straight in
 *   old space once enough of them survived scavenges. The sites of a server's answers (rows, their
 *   strings, result values) were pretenured, and each such object then held young ones through
 *   every scavenge: 1.6 MB promoted per scavenge at the 10-session dashboard, 7–9 ms pauses. Without
 *   it, 65 kB and 2–4 ms; 1,261 -> 1,446 requests/s (bench/README.md, "Tenth round").
 *
 * V8 reads them when the heap is set up, so they must be on the process's command line: `hub
 * serve` relaunches itself with them when it was started without (`node bin/hub.js serve`), and
 * gives them to its cluster workers.
 */
export const SERVER_V8_FLAGS = ['--max-semi-space-size=24', '--no-allocation-site-pretenuring'];

/** Set in a relaunched server's environment: it never relaunches again. */
const RELAUNCHED = 'HUB_V8_RELAUNCHED';

/** A flag's name without its value, its `no-` and its spelling (V8 reads `_` as `-`): the operator's
 * `--allocation-site-pretenuring` is a choice about `--no-allocation-site-pretenuring`. */
const flagName = (flag: string) => flag.split('=')[0].replace(/_/g, '-').replace(/^--no-/, '--');

/** The serving flags not already given on the command line or in NODE_OPTIONS (a flag given
 * there, with any value, is the operator's choice and is kept). */
export function missingV8Flags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter(Boolean).map(flagName));
  return SERVER_V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** Node arguments for a process that serves: `execArgv` with the missing serving flags. */
export function serverExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  return [...execArgv, ...missingV8Flags(execArgv, process.env.NODE_OPTIONS)];
}

/** Whether this process is a server relaunched by `relaunchWithV8Flags`. */
export function isRelaunched(): boolean {
  return process.env[RELAUNCHED] === '1';
}

/**
 * When this process lacks a serving flag, runs the same command again in a child process that
 * has them and stands in for it: the child shares stdio, gets SIGTERM/SIGINT/SIGHUP forwarded,
 * and this process exits as the child did. Returns false (nothing done) when the flags are
 * there. The child stops, as on SIGTERM, when this process dies without forwarding (its IPC
 * channel closes; see serve.ts).
 */
export function relaunchWithV8Flags(): boolean {
  if (isRelaunched() || missingV8Flags(process.execArgv, process.env.NODE_OPTIONS).length === 0) return false;
  const child = spawn(process.execPath, [...serverExecArgv(), ...process.argv.slice(1)], {
    env: { ...process.env, [RELAUNCHED]: '1' },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  const forward = (signal: NodeJS.Signals) => void child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.once('error', (error) => {
    process.stderr.write(`hub serve: could not relaunch with ${SERVER_V8_FLAGS.join(' ')}: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  return true;
}
