/**
 * A bad argument from a client, carrying the field at fault. Stands in for
 * `new AppError('BAD_USER_INPUT', message, { field })` from src/errors.ts until that exists:
 * swapping means changing this one function.
 */
export class InferenceInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceInputError';
  }
}

export function badUserInput(field: string, message: string): InferenceInputError {
  return new InferenceInputError(field, message);
}
