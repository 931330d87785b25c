// `meridian token create|list|revoke --instance`: instance tokens, scoped to a
// region and a service, for `meridian register` and `deregister`.
import { CliError } from '../errors';
import type { ParsedArgs } from '../args';

export const instanceTokenUsage = '';

export async function createInstanceToken(_args: ParsedArgs): Promise<void> {
  throw new CliError('instance tokens are not available yet');
}

export async function listInstanceTokens(_args: ParsedArgs): Promise<void> {
  throw new CliError('instance tokens are not available yet');
}

export async function revokeInstanceToken(_args: ParsedArgs, _id: string): Promise<void> {
  throw new CliError('instance tokens are not available yet');
}
