// Meridian parts as real child processes for tests.
import { PartProcess as BasePartProcess, waitFor } from '../../lib/process/part-process';
import { MERIDIAN_BIN } from '../../test-support/repo-root';

export { waitFor };

// `node bin/meridian ARGS`, debug logs in DIR/NAME.log.
export class PartProcess extends BasePartProcess {
  constructor(name: string, args: string[], dir: string, env: NodeJS.ProcessEnv = {}) {
    super({ name, command: process.execPath, args: [MERIDIAN_BIN(), ...args], logDir: dir, env: { MERIDIAN_LOG_LEVEL: 'debug', ...env } });
  }
}
