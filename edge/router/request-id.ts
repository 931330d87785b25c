// x-request-id values for requests that arrive without one: a random prefix
// per process and a counter, so an id costs a string concatenation rather
// than a random UUID per request, and stays unique across edges and workers.
import { randomBytes } from 'node:crypto';

export class RequestIdGenerator {
  private readonly prefix = randomBytes(6).toString('hex');
  private counter = 0;

  next(): string {
    this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.prefix}-${this.counter.toString(36)}`;
  }
}
