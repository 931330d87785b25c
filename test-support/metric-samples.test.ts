import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { familyTypes, findSample, readSamples } from './metric-samples';

const TEXT = `# HELP meridian_edge_requests_total requests answered
# TYPE meridian_edge_requests_total counter
meridian_edge_requests_total{service="echo",region="fra",status_class="2xx",part="edge"} 7
meridian_edge_requests_total{service="a \\"quoted\\", \\\\ one",region="iad",status_class="5xx",part="edge"} 1
# TYPE meridian_edge_request_duration_seconds histogram
meridian_edge_request_duration_seconds_bucket{le="+Inf",service="echo"} 9
meridian_edge_view_version 3
`;

describe('metric samples', () => {
  it('finds a series by name and labels and returns its value', () => {
    const samples = readSamples(TEXT);
    assert.equal(findSample(samples, 'meridian_edge_requests_total', { region: 'fra', status_class: '2xx' })?.value, 7);
    assert.equal(findSample(samples, 'meridian_edge_requests_total', { service: 'a "quoted", \\ one' })?.labels.region, 'iad');
    assert.equal(findSample(samples, 'meridian_edge_view_version')?.value, 3);
    assert.equal(findSample(samples, 'meridian_edge_request_duration_seconds_bucket', { le: '+Inf' })?.value, 9);
    assert.equal(findSample(samples, 'meridian_edge_requests_total', { region: 'sin' }), undefined);
    assert.equal(samples.length, 4);
  });

  it('tells each family by its TYPE line', () => {
    assert.deepEqual([...familyTypes(TEXT)], [
      ['meridian_edge_requests_total', 'counter'],
      ['meridian_edge_request_duration_seconds', 'histogram'],
    ]);
  });
});
