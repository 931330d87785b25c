// Maps store failures to the API's statuses.
import { EtcdError, GRPCGenericError } from 'etcd3';
import { AlreadyExistsError, ConflictError, DuplicateDocumentError, NotFoundError, StoreUnavailableError } from '../store/errors';
import { MAX_DOCUMENTS_PER_APPLY } from '../store/resource-store';
import { HttpError } from './http-response';

export function storeErrorToHttp(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof StoreUnavailableError) {
    return new HttpError(503, `the resource store (etcd) is unavailable: ${err.message}`, [], { 'retry-after': '2' });
  }
  if (err instanceof ConflictError || err instanceof AlreadyExistsError) return new HttpError(409, err.message);
  if (err instanceof NotFoundError) return new HttpError(404, err.message);
  if (err instanceof DuplicateDocumentError) return new HttpError(400, err.message);
  // One apply is one etcd transaction, bounded by etcd's --max-txn-ops.
  if (err instanceof RangeError) return new HttpError(400, `one apply holds at most ${MAX_DOCUMENTS_PER_APPLY} documents; split the request (${err.message})`);
  // etcd answered with an error of its own (a leader change, a gRPC failure
  // it does not class as recoverable): the store, not the request, failed.
  if (err instanceof GRPCGenericError || err instanceof EtcdError) {
    return new HttpError(503, `the resource store (etcd) failed the request: ${err.message}`, [], { 'retry-after': '2' }, err);
  }
  return new HttpError(500, 'internal error', [], {}, err);
}
