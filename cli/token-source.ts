// The bearer token a command sends: its flag, else its environment variable
// (empty counts as not given), held to the one token rule (lib/auth/token-rule)
// before it leaves, so a truncated or mis-pasted token is named here, with
// where it came from, rather than answered with a bare 401.
import { checkToken } from '../lib/auth/token-rule';
import { CliError } from './errors';

export function commandToken(flagValue: string | undefined, flag: string, env: NodeJS.ProcessEnv, envName: string): string | undefined {
  const [value, source] = flagValue ? [flagValue, flag] : env[envName] ? [env[envName], envName] : [undefined, ''];
  if (value === undefined) return undefined;
  try {
    return checkToken(value, source);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}
