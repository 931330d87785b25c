// What bootstrap prints: one numbered line per step as it goes, then a
// summary. Secrets are never part of a line; a secret file says so instead.
import { octal } from './apply-files';
import type { Step, StepOutcome, StepStatus } from './steps';

const DRY_RUN_WORDS: Record<StepStatus, string> = { created: 'would create', changed: 'would change', unchanged: 'unchanged', skipped: 'skipped' };

export class Progress {
  private readonly counts = new Map<StepStatus, number>();
  private index = 0;

  constructor(
    private readonly total: number,
    private readonly dryRun: boolean,
    private readonly write: (line: string) => void,
  ) {}

  step(step: Step, outcome: StepOutcome): void {
    this.index += 1;
    this.counts.set(outcome.status, (this.counts.get(outcome.status) ?? 0) + 1);
    const status = this.dryRun ? DRY_RUN_WORDS[outcome.status] : outcome.status;
    const note = outcome.note ? ` (${outcome.note})` : '';
    this.write(`[${this.index}/${this.total}] ${describe(step)}: ${status}${note}`);
  }

  summary(): string {
    const order: StepStatus[] = ['created', 'changed', 'unchanged', 'skipped'];
    const words = this.dryRun ? DRY_RUN_WORDS : undefined;
    const parts = order.filter((s) => this.counts.has(s)).map((s) => `${this.counts.get(s)} ${words ? words[s] : s}`);
    return `${this.dryRun ? 'dry run, nothing written' : 'done'}: ${parts.join(', ')}`;
  }
}

function describe(step: Step): string {
  switch (step.kind) {
    case 'file':
      return `${step.verb ?? 'writing'} ${step.path}${step.secret ? ` (mode ${octal(step.mode)}, contents not shown)` : ''}`;
    case 'dir':
      return `creating ${step.path}/ (mode ${octal(step.mode)})`;
    case 'link':
      return `${step.verb ?? 'linking'} ${step.path} -> ${step.target}`;
    case 'action':
      return step.title;
  }
}
