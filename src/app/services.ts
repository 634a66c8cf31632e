import type { Authenticator } from '../schema/context';

export type { Services } from '../schema/context';

/** Without the accounts feature wired, every request is anonymous. */
export const anonymous: Authenticator = async () => null;
