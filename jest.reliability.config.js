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
};
