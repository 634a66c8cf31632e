import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { CPU_STEPS, cpuStepRows, HTTP_STEP, stepTarget } from '../../bench/peer/cpu-steps';

describe('the peer bench CPU by step', () => {
  it('finds every step it wraps as a function in the source (a rename fails here, not silently in the bench)', () => {
    const src = path.join(projectRoot, 'src');
    for (const s of CPU_STEPS) {
      const { holder, key } = stepTarget(src, s);
      expect(typeof holder[key]).toBe('function');
    }
    expect(new Set(CPU_STEPS.map((s) => s.step)).size).toBe(CPU_STEPS.length);
  });

  it('refuses a step whose function is gone', () => {
    const src = path.join(projectRoot, 'src');
    expect(() =>
      stepTarget(src, { step: 'x', depth: 1, module: 'inference/preprocess', name: 'decodeAndResized' }),
    ).toThrow(/cpu step "x": inference\/preprocess.decodeAndResized is not a function/);
    expect(() =>
      stepTarget(src, { step: 'y', depth: 1, module: 'modules/jobs/runner/runner', name: 'JobRunner', method: 'fly' }),
    ).toThrow(/JobRunner.fly is not a function/);
  });

  it('divides by the images, keeps the list order with nesting shown, and leaves out steps never called', () => {
    const claim = CPU_STEPS.find((s) => s.step === 'claim')!;
    const run = CPU_STEPS.find((s) => s.step.startsWith('job run'))!;
    const rows = cpuStepRows(
      'postgresql',
      {
        [claim.step]: { calls: 4, cpuMs: 6, wallMs: 10 },
        [HTTP_STEP]: { calls: 4, cpuMs: 80, wallMs: 100 },
        [run.step]: { calls: 4, cpuMs: 30, wallMs: 44 },
        'progress events': { calls: 24, cpuMs: 3, wallMs: 6 },
      },
      4,
    );
    expect(rows).toEqual([
      {
        mode: 'postgresql',
        step: HTTP_STEP,
        'calls per image': 1,
        'CPU ms per image': 20,
        'CPU ms per call': 20,
        'wall ms per call': 25,
      },
      {
        mode: 'postgresql',
        step: `  ${run.step}`,
        'calls per image': 1,
        'CPU ms per image': 7.5,
        'CPU ms per call': 7.5,
        'wall ms per call': 11,
      },
      {
        mode: 'postgresql',
        step: '    claim',
        'calls per image': 1,
        'CPU ms per image': 1.5,
        'CPU ms per call': 1.5,
        'wall ms per call': 2.5,
      },
      {
        mode: 'postgresql',
        step: '    progress events',
        'calls per image': 6,
        'CPU ms per image': 0.75,
        'CPU ms per call': 0.125,
        'wall ms per call': 0.25,
      },
    ]);
  });
});
