// Static mode: the view comes from one YAML (or JSON) file of resource
// documents (Service, TrafficRoute, ResiliencePolicy, FailoverPolicy, Region)
// plus Instance documents, validated by lib/resources. There is no controller
// and no other region: every instance is local, and healthy unless passive
// health (outlier ejection) says otherwise. reload() re-reads the file (on
// SIGHUP); an invalid file is refused whole and the last view stays.
import * as fs from 'node:fs';
import { formatValidationError, parseDocuments, validateDocuments, type ResourceDocument } from '../../lib/resources';
import type { Logger } from '../../lib/observability/logger';
import { ConfigError } from './config-error';
import type { EdgeView, LocalInstance, ViewSource } from './edge-view';
import { ViewState } from './view-state';

export interface StaticConfig {
  documents: ResourceDocument[];
  // Warnings for things accepted but probably not meant (an instance of
  // another region).
  warnings: string[];
}

// Reads and validates the file; throws ConfigError naming every problem.
export function loadStaticConfig(file: string, region: string): StaticConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as Error).message}`]);
  }
  let raw: unknown[];
  try {
    raw = parseDocuments(text, file);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  const result = validateDocuments(raw);
  if (!result.ok) throw new ConfigError(result.errors.map((e) => `${file}: ${formatValidationError(e)}`));
  const warnings: string[] = [];
  for (const doc of result.documents) {
    if (doc.kind === 'Instance' && doc.spec.region !== undefined && doc.spec.region !== region) {
      warnings.push(
        `${file}: Instance/${doc.metadata.name} names region '${doc.spec.region}' but this edge runs as region '${region}'; in static mode every instance is served as local`,
      );
    }
  }
  return { documents: result.documents, warnings };
}

export function viewFromDocuments(documents: ResourceDocument[], region: string, version: number): EdgeView {
  const state = new ViewState(region, 'static');
  state.setVersion(version);
  const instances = new Map<string, LocalInstance[]>();
  for (const doc of documents) {
    if (doc.kind === 'Instance') {
      const list = instances.get(doc.spec.service) ?? [];
      list.push({
        id: doc.metadata.name,
        service: doc.spec.service,
        address: doc.spec.address,
        port: doc.spec.port,
        weight: doc.spec.weight,
        labels: doc.spec.labels ?? {},
        ...(doc.spec.ports && Object.keys(doc.spec.ports).length > 0 ? { ports: { ...doc.spec.ports } } : {}),
        healthy: true,
      });
      instances.set(doc.spec.service, list);
    } else {
      state.upsert(doc);
    }
  }
  for (const [service, list] of instances) state.setInstances(service, list);
  return state.snapshot();
}

export class StaticSource implements ViewSource {
  readonly kind = 'static' as const;
  private onView: ((view: EdgeView) => void) | undefined;
  private version = 0;
  private loadedAt = 0;
  private lastError: string | undefined;

  constructor(
    private readonly file: string,
    private readonly region: string,
    private readonly logger: Logger,
    // A config already loaded (main validates before forking workers).
    private preloaded?: StaticConfig,
  ) {}

  async start(onView: (view: EdgeView) => void): Promise<void> {
    this.onView = onView;
    const config = this.preloaded ?? loadStaticConfig(this.file, this.region);
    this.preloaded = undefined;
    this.publish(config);
  }

  // Re-reads the file; on error keeps the current view and returns the error.
  reload(): ConfigError | undefined {
    try {
      this.publish(loadStaticConfig(this.file, this.region));
      this.lastError = undefined;
      return undefined;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.lastError = err.message;
      this.logger.error({ file: this.file, errors: err.lines }, 'config reload refused; keeping the last view');
      return err;
    }
  }

  private publish(config: StaticConfig): void {
    for (const warning of config.warnings) this.logger.warn(warning);
    this.version++;
    this.loadedAt = Date.now();
    this.onView?.(viewFromDocuments(config.documents, this.region, this.version));
  }

  async stop(): Promise<void> {
    this.onView = undefined;
  }

  status(): Record<string, unknown> {
    return {
      kind: 'static',
      file: this.file,
      version: this.version,
      loadedAt: this.loadedAt ? new Date(this.loadedAt).toISOString() : undefined,
      lastReloadError: this.lastError,
    };
  }
}
