// `hub` run from the TypeScript sources in a child process (see child-server.ts, `from: 'sources'`).
import { main } from '../../src/main';

void main(process.argv.slice(2));
