import { AppError } from '../../../infra/errors';
import { failureReason } from './failures';
import { ProgressTracker } from './progress-tracker';
import { PermanentJobError } from '../queue/queue';

describe('ProgressTracker', () => {
  it('counts finished images plus the stage share of the one in flight, and never goes back', () => {
    const t = new ProgressTracker(4, 0);
    expect(t.progress(0.5)).toBe(0.125);
    expect(t.finishImage()).toBe(0.25);
    expect(t.progress(0.1)).toBeCloseTo(0.275, 10);
    expect(t.progress(0)).toBeCloseTo(0.275, 10); // an overlapping image at an earlier stage does not move it back
    expect(t.finishImage()).toBeCloseTo(0.5, 10);
    const resumed = new ProgressTracker(4, 3); // a retry that found 3 images stored
    expect(resumed.progress(0)).toBe(0.75);
    expect(resumed.finishImage()).toBe(1);
  });
});

describe('failureReason', () => {
  it('keeps client-safe codes and messages and hides everything else', () => {
    expect(failureReason(new AppError('MODEL_UNAVAILABLE', 'x@1 is UNLOADED'))).toEqual({
      code: 'MODEL_UNAVAILABLE',
      message: 'x@1 is UNLOADED',
    });
    expect(failureReason(new PermanentJobError('image 1 no longer exists', 'NOT_FOUND'))).toEqual({
      code: 'NOT_FOUND',
      message: 'image 1 no longer exists',
    });
    const fs = Object.assign(new Error("ENOENT: no such file or directory, open '/data/files/ab/cd/abcd'"), {
      code: 'ENOENT',
    });
    expect(failureReason(fs)).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'internal error while running the job',
    });
    expect(failureReason('weird')).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'internal error while running the job',
    });
  });
});
