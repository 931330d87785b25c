// The KIND argument of `get` and `delete`: any spelling lib/resources accepts
// (`services`, `service`, `Service`), checked here so that a typo gets the
// list of kinds instead of a round trip and a 404.
import { KINDS, pluralOf, resolveKind, type KindName } from '../lib/resources';
import { CliError } from './errors';

export function kindArgument(word: string): KindName {
  const kind = resolveKind(word);
  if (!kind) throw new CliError(`unknown resource kind "${word}" (kinds: ${KINDS.map(pluralOf).join(', ')})`);
  return kind;
}
