// docs/prometheus/prometheus.yml uses the demo's default ports as its
// example: it must name every part's metrics address, and nothing else.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../../test-support/repo-root';
import { demoLayout } from './demo-layout';

describe('docs/prometheus/prometheus.yml', () => {
  it("scrapes the demo's global controller, zone controllers, edges and ingresses at their default ports", () => {
    const config = parse(fs.readFileSync(path.join(repoRoot(), 'docs', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets).sort()]));
    const layout = demoLayout(0);
    const at = (ports: number[]) => ports.map((p) => `127.0.0.1:${p}`).sort();
    assert.deepEqual(jobs, {
      'meridian-global-controller': at([layout.globalHttp]),
      'meridian-zone-controller': at(layout.regions.map((r) => r.zoneHttp)),
      'meridian-edge': at(layout.regions.map((r) => r.edgeAdmin)),
      'meridian-ingress': at(layout.regions.map((r) => r.ingressAdmin)),
    });
    for (const j of config.scrape_configs) assert.equal(j.metrics_path ?? '/metrics', '/metrics', j.job_name);
  });
});
