// The lab's public surface for tests.
export { Lab, type LabOptions, type LabTimings, type KernelRoute } from './lab';
export { Sandbox } from './sandbox';
export { LabProcess } from './lab-process';
export { leftovers, sweep } from './host-state';
export * from './address-plan';
