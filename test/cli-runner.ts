import { main } from '../src/main';
import { TEST_SECRET } from './harness';

/** Runs `hub …` in-process with `env` added to the environment, capturing what it prints and
 * its exit code; the environment and exit code are restored afterwards. */
export async function runHub(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const saved = { ...process.env };
  Object.assign(process.env, { HUB_JWT_SECRET: TEST_SECRET, HUB_LOG_LEVEL: 'silent', ...env });
  process.exitCode = 0;
  try {
    await main(argv);
    return { code: Number(process.exitCode ?? 0), out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.exitCode = 0;
    process.env = saved;
    log.mockRestore();
    error.mockRestore();
  }
}
