// A view source that is handed its views: for embedding the gateway and for
// tests that change the view while requests run.
import type { EdgeView, ViewSource } from './edge-view';

export class MemorySource implements ViewSource {
  readonly kind = 'static' as const;
  private onView: ((view: EdgeView) => void) | undefined;

  constructor(private view: EdgeView) {}

  async start(onView: (view: EdgeView) => void): Promise<void> {
    this.onView = onView;
    onView(this.view);
  }

  set(view: EdgeView): void {
    this.view = view;
    this.onView?.(view);
  }

  async stop(): Promise<void> {
    this.onView = undefined;
  }

  status(): Record<string, unknown> {
    return { kind: 'memory', version: this.view.version };
  }
}
