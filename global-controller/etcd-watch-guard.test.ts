// A watch response for a watcher etcd3 already let go of is dropped, not
// thrown out of the stream's 'data' listener (an uncaught exception).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WatchManager } from 'etcd3/lib/watch';
import { guardEtcdWatchResponses } from './etcd-watch-guard';

type HandleResponse = (this: unknown, res: { watch_id: string; canceled?: boolean; events?: unknown[] }) => void;

describe('etcd watch responses', () => {
  it('drops a response for a watcher the client no longer has, and still delivers one for a watcher it has', () => {
    guardEtcdWatchResponses();
    const handle = (WatchManager.prototype as unknown as { handleResponse: HandleResponse }).handleResponse;
    const manager = { watchers: [] as unknown[], backoff: null, initialBackoff: { next: () => null } };
    assert.doesNotThrow(() => handle.call(manager, { watch_id: '7', canceled: false, events: [] }));

    const seen: unknown[] = [];
    const watcher = { id: '8', emit: (...args: unknown[]) => seen.push(args) };
    const withWatcher = { ...manager, watchers: [watcher], handleUpdateResponse: (w: unknown, res: unknown) => seen.push([w, res]) };
    handle.call(withWatcher, { watch_id: '8', canceled: false, events: [] });
    assert.equal(seen.length, 1, 'the known watcher got its response');
  });
});
