// The store's failures, one class per way a caller must react: retry later
// (StoreUnavailableError), re-read and retry (ConflictError), report to the
// user (NotFoundError, AlreadyExistsError, DuplicateDocumentError), or resend
// everything (CompactedError). `code` lets callers map them without instanceof;
// the resource is `kind` + `resourceName` (`name` is the error class's name).

function describeRevision(revision: number): string {
  return revision === 0 ? 'it does not exist' : `it is at resourceVersion ${revision}`;
}

// etcd cannot be reached (down, partitioned, or not answering within the call deadline).
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(
    readonly operation: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`etcd is unavailable, cannot ${operation}: ${detail}; check that etcd is running and reachable from the global controller`, options);
    this.name = 'StoreUnavailableError';
  }
}

// Optimistic concurrency failed: the resource is not at the revision the caller expected.
export class ConflictError extends Error {
  readonly code = 'CONFLICT';
  constructor(
    readonly kind: string,
    readonly resourceName: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(
      `${kind}/${resourceName} was changed by someone else: expected ${expectedRevision === 0 ? 'it not to exist' : `resourceVersion ${expectedRevision}`}, but ${describeRevision(actualRevision)}; read it again and retry`,
    );
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly kind: string,
    readonly resourceName: string,
  ) {
    super(`${kind}/${resourceName} not found`);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends Error {
  readonly code = 'ALREADY_EXISTS';
  constructor(
    readonly kind: string,
    readonly resourceName: string,
    readonly actualRevision: number,
  ) {
    super(`${kind}/${resourceName} already exists (resourceVersion ${actualRevision})`);
    this.name = 'AlreadyExistsError';
  }
}

// One apply names the same resource twice; etcd cannot write a key twice in one transaction.
export class DuplicateDocumentError extends Error {
  readonly code = 'DUPLICATE_DOCUMENT';
  constructor(
    readonly kind: string,
    readonly resourceName: string,
  ) {
    super(`${kind}/${resourceName} appears more than once in one apply; nothing was applied`);
    this.name = 'DuplicateDocumentError';
  }
}

// etcd no longer holds the history after this revision (compacted), so
// changes since then cannot be replayed: the caller needs a full snapshot.
export class CompactedError extends Error {
  readonly code = 'COMPACTED';
  constructor(
    readonly fromRevisionExclusive: number,
    detail: string,
  ) {
    super(`etcd cannot replay changes after revision ${fromRevisionExclusive}: ${detail}`);
    this.name = 'CompactedError';
  }
}
