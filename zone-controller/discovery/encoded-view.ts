// A view is encoded once, not once per proxy: every subscriber is handed the
// same View object for an update, so its parts' bytes are kept with it
// (weakly) and each proxy's stream writes those bytes. The Watch method's
// serializer passes bytes through and still encodes anything else.
import type * as grpc from '@grpc/grpc-js';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import { viewParts } from '../../lib/grpc/view-parts';

type Serialize = (value: View) => Buffer;

const encoded = new WeakMap<View, Buffer[]>();

// The parts of `view`, encoded with the Watch method's own serializer.
export function encodedViewParts(view: View, serialize: Serialize): Buffer[] {
  let parts = encoded.get(view);
  if (parts === undefined) {
    parts = viewParts(view).map((part) => serialize(part));
    encoded.set(view, parts);
  }
  return parts;
}

// The Discovery service definition with Watch taking pre-encoded views, and
// the serializer it had (for encodedViewParts).
export function withEncodedWatch(service: grpc.ServiceDefinition): { service: grpc.ServiceDefinition; serializeView: Serialize } {
  const watch = service.Watch as grpc.MethodDefinition<unknown, View>;
  const serializeView = watch.responseSerialize as Serialize;
  const passThrough = (value: View | Buffer): Buffer => (Buffer.isBuffer(value) ? value : serializeView(value));
  return { service: { ...service, Watch: { ...watch, responseSerialize: passThrough as Serialize } }, serializeView };
}
