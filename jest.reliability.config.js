/** `npm run test:reliability`: concurrency, load, database restart, shutdown and fuzzing. They
 * start the built server (`npm run build` first) and their own PostgreSQL where they need to
 * break it, so they run one file at a time. */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability', '<rootDir>/test/scale/processes', '<rootDir>/test/pooler'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
  // One worker process, not the runner's own, replaced between files once it holds more than
  // this: a file's servers, sockets and fast-check cases must not weigh on the next. In one
  // process, races + ws-fuzz + fuzz (in that order) once grew to the 4 GB heap limit in CI and
  // once here (1.1-1.7 GB in four other runs); each file alone stays under 700 MB.
  workerIdleMemoryLimit: '512MB',
};
