import 'reflect-metadata';
import { getMetadataStorage } from 'type-graphql';
import { buildAppSchema } from '../../src/schema/build';
import { resolvers } from '../../src/resolvers';
import { isPublic } from '../../src/schema/access';

/**
 * Every Query, Mutation and Subscription must say who may call it: @Authorized(...) or @Public().
 * An operation nobody decided on fails this test (walks the built schema and type-graphql's metadata).
 */
describe('access rules', () => {
  it('every operation in the schema is @Authorized or @Public', async () => {
    const schema = await buildAppSchema();
    const storage = getMetadataStorage();
    const inSchema = new Set(resolvers);
    const operations = [...storage.queries, ...storage.mutations, ...storage.subscriptions].filter((op) =>
      inSchema.has(op.target as Function),
    );
    expect(operations.length).toBeGreaterThan(10);
    const undecided: string[] = [];
    for (const op of operations) {
      const authorized = storage.authorizedFields.some((a) => a.target === op.target && a.fieldName === op.methodName);
      if (!authorized && !isPublic((op.target as Function).name, op.methodName))
        undecided.push(`${(op.target as Function).name}.${op.methodName}`);
    }
    expect(undecided).toEqual([]);
    // Every root field of the built schema is one of the checked operations.
    const checked = new Set(operations.map((o) => o.schemaName));
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) =>
      t ? Object.keys(t.getFields()) : [],
    );
    expect(roots.filter((f) => !checked.has(f))).toEqual([]);
  });

  it('the auth operations of the API contract (docs/auth.md) are all there', async () => {
    const schema = await buildAppSchema();
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    for (const name of [
      'register',
      'verifyEmail',
      'resendVerificationEmail',
      'login',
      'verifyTwoFactor',
      'refreshSession',
      'logout',
      'logoutAllSessions',
      'requestPasswordReset',
      'resetPassword',
      'changePassword',
      'beginTwoFactorEnrollment',
      'confirmTwoFactorEnrollment',
      'disableTwoFactor',
      'regenerateRecoveryCodes',
      'setUserRole',
      'setUserDisabled',
      'resetUserTwoFactor',
    ]) {
      expect(mutations).toContain(name);
    }
  });
});
