// A real server process (`hub serve`, from the sources) for the multi-process tests; see processes.ts.
import { main } from '../../../src/main';

void main(['serve', '--no-migrate']);
