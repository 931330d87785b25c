// Turns a burst of "the zone's facts changed" into one report: the first
// change arms a timer, the changes until it fires ride along.
export class ReportCoalescer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: () => void,
    private readonly windowMs: number,
  ) {}

  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, this.windowMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
