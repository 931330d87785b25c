// The resource schema module: every part validates resources through here.
import type { KindName } from './kinds';

export { parseDuration, isDuration } from './duration';
export { KINDS, type KindName, isKindName, resolveKind, pluralOf, singularOf } from './kinds';
export * from './schemas';
export {
  validateDocument,
  validateDocuments,
  formatValidationError,
  type ValidationError,
  type ValidationResult,
  type DocumentValidationResult,
} from './validate';
export { DocumentLimitError, parseDocuments, toYaml, type ParseLimits } from './parse';

// The identity of a resource across the system (store keys, maps, messages): "Service/echo".
export function resourceKey(kind: KindName, name: string): string {
  return `${kind}/${name}`;
}
