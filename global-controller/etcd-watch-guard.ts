// etcd3 (1.1) throws "Failed to find watcher for IWatchResponse" from its
// watch stream's 'data' listener when etcd sends a response for a watcher the
// client has already let go of (a cancel racing an event, seen at stop under
// load): thrown there, it is an uncaught exception that would end the
// process. Such a response is for nobody: it is dropped instead.
import { WatchManager } from 'etcd3/lib/watch';

interface WatchResponseLike {
  watch_id: string;
}

interface WatchManagerInternals {
  watchers: { id: string | null }[];
  handleResponse(res: WatchResponseLike): void;
}

let guarded = false;

export function guardEtcdWatchResponses(): void {
  if (guarded) return;
  guarded = true;
  const proto = WatchManager.prototype as unknown as WatchManagerInternals;
  const handleResponse = proto.handleResponse;
  proto.handleResponse = function (this: WatchManagerInternals, res: WatchResponseLike): void {
    if (!this.watchers.some((w) => w.id === res.watch_id)) return;
    handleResponse.call(this, res);
  };
}
