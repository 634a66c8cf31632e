// API errors in words next to the control that caused them. The server puts the argument at fault in
// `extensions.field` ("email", "input.password", "members[1].weight") and a stable word in `extensions.reason`;
// a page asks for the error of each of its fields and shows the rest above the form.
import { useMemo } from 'react';
import type { CombinedError } from 'urql';

export interface ApiError {
  message: string;
  code?: string;
  field?: string;
  reason?: string;
}

/** Messages for reasons whose server wording is written for developers rather than for the person at the form. */
const REASON_WORDS: Record<string, string> = {
  EMAIL_NOT_VERIFIED: 'Confirm your email address first: open the link we mailed you.',
  USER_DISABLED: 'This account is disabled. Ask an administrator.',
};

const CODE_WORDS: Record<string, string> = {
  RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
  FORBIDDEN: 'Your role may not do this.',
};

/** Every error of an urql result, one shape (a network failure included). */
export function apiErrors(error: CombinedError | null | undefined): ApiError[] {
  if (!error) return [];
  const list: ApiError[] = error.graphQLErrors.map((e) => {
    const ext = (e.extensions ?? {}) as Record<string, unknown>;
    const code = typeof ext.code === 'string' ? ext.code : undefined;
    const reason = typeof ext.reason === 'string' ? ext.reason : undefined;
    const field = typeof ext.field === 'string' ? ext.field : undefined;
    const words = (reason && REASON_WORDS[reason]) || (code && !field && CODE_WORDS[code]) || e.message;
    return { message: words, code, field, reason };
  });
  if (error.networkError) {
    list.push({ message: 'The server could not be reached. Check your connection and try again.', code: 'NETWORK' });
  }
  return list;
}

/** Whether `field` (as the server names it) belongs to the control named `name`: "input.email" to "email" too. */
export function fieldMatches(field: string, name: string): boolean {
  if (field === name) return true;
  if (field.startsWith(`${name}.`) || field.startsWith(`${name}[`)) return true;
  const last = field.split('.').pop();
  return last === name;
}

export interface GraphQLErrorView {
  /** Errors by control name: pass to <Field error=...>. */
  fieldError(name: string): string | undefined;
  /** Errors that belong to none of `fields`: show them with <ErrorMessage>. */
  others: ApiError[];
  all: ApiError[];
}

/** Splits an urql error between the form's controls (`fields`) and the rest. */
export function viewErrors(error: CombinedError | null | undefined, fields: readonly string[]): GraphQLErrorView {
  const all = apiErrors(error);
  const owner = (e: ApiError) => (e.field ? fields.find((f) => fieldMatches(e.field!, f)) : undefined);
  return {
    all,
    fieldError: (name) => all.find((e) => owner(e) === name)?.message,
    others: all.filter((e) => owner(e) === undefined),
  };
}

/** viewErrors, memoised for a component. */
export function useGraphQLErrors(error: CombinedError | null | undefined, fields: readonly string[]): GraphQLErrorView {
  const key = fields.join('\u0000');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => viewErrors(error, fields), [error, key]);
}
