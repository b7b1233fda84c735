import { spawn } from 'node:child_process';

/**
 * The V8 settings a serving process needs, in one place; bin/hub.js's first line and `npm start`
 * give the same, so that neither relaunches. --max-semi-space-size=24: a GraphQL response and a
 * live batch allocate many short-lived objects, and about a quarter of what the server allocates
 * is still reachable when a scavenge comes (requests in flight, and what V8's marking keeps for
 * one more cycle), so a scavenge's pause grows with the semi-space: 23 ms at 64 MB, 8 ms at 16 MB
 * (`--trace-gc-nvp`; bench/README.md, "Sixth round"). Against 64 MB, 24 MB gave the dashboard
 * the same requests/s, a p99 10–27 % lower and 50–110 MB less RSS, and the live fan-out a p99 no
 * higher. V8 reads it when the heap is set up, so it must be on the process's command line: `hub
 * serve` relaunches itself with it when it was started without (`node bin/hub.js serve`), and
 * gives it to its cluster workers.
 */
export const SERVER_V8_FLAGS = ['--max-semi-space-size=24'];

/** Set in a relaunched server's environment: it never relaunches again. */
const RELAUNCHED = 'HUB_V8_RELAUNCHED';

const flagName = (flag: string) => flag.split('=')[0];

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
