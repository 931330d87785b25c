// Holds the parts of a view sent over several discovery messages (`more` set
// on all but the last) and gives them back as one message when the last
// comes, so the proxy applies a large view at once and never serves half of
// it. A service named in several parts has the instances of all of them.
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';

// A zone's parts are about 1 MiB each (lib/grpc/view-parts.ts): this is
// far beyond any view a zone at its registry caps sends, and bounds what a
// broken zone could make the proxy hold.
export const MAX_VIEW_PARTS = 4096;

export class ViewPartsAssembler {
  private parts: View__Output[] = [];

  // The whole view when `msg` completes one (or is whole by itself);
  // undefined while parts are outstanding. Throws past MAX_VIEW_PARTS.
  add(msg: View__Output): View__Output | undefined {
    if (msg.more) {
      if (this.parts.length >= MAX_VIEW_PARTS) {
        this.parts = [];
        throw new Error(`a view in more than ${MAX_VIEW_PARTS} parts`);
      }
      this.parts.push(msg);
      return undefined;
    }
    if (this.parts.length === 0) return msg;
    const parts = [...this.parts, msg];
    this.parts = [];
    return joinParts(parts);
  }

  // Parts held of a view not yet complete (dropped when the stream breaks).
  get pending(): number {
    return this.parts.length;
  }

  reset(): void {
    this.parts = [];
  }
}

function joinParts(parts: View__Output[]): View__Output {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const services = new Set<string>();
  for (const p of parts) for (const s of p.instanceServices ?? []) services.add(s);
  return {
    version: last.version,
    full: first.full,
    region: first.region,
    resources: parts.flatMap((p) => p.resources ?? []),
    removedResources: parts.flatMap((p) => p.removedResources ?? []),
    instances: parts.flatMap((p) => p.instances ?? []),
    instanceServices: [...services],
    regions: parts.flatMap((p) => p.regions ?? []),
    removedRegions: parts.flatMap((p) => p.removedRegions ?? []),
    keptResources: parts.flatMap((p) => p.keptResources ?? []),
    more: false,
  };
}
