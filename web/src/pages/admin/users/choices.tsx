// What the users page's controls share: the roles and plans offered, their options, and the line under a row's
// control that says why the server refused it.
import type { ReactNode } from 'react';
import type { Plan, Role } from '../../../gql/graphql';

export const ROLES: readonly Role[] = ['ADMIN', 'CLINICIAN', 'RESEARCHER'];
export const PLANS: readonly Plan[] = ['FREE', 'PRO'];

/** One <option> per value, named in lower case. */
export function enumOptions(values: readonly string[]): ReactNode {
  return values.map((v) => (
    <option key={v} value={v}>
      {v.toLowerCase()}
    </option>
  ));
}

/** A row control's refusal in words, announced as it appears. */
export function InlineError({ message }: { message?: string }): ReactNode {
  return message ? (
    <p className="field-error" role="alert">
      {message}
    </p>
  ) : null;
}
