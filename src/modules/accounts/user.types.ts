import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Plan, Role } from '../../entities/user';
import { Node } from '../../schema/node';

registerEnumType(Role, {
  name: 'Role',
  description: 'ADMIN manages users and models; CLINICIAN owns patients; RESEARCHER reads de-identified data',
  valuesConfig: {
    ADMIN: {
      description:
        'Everything a clinician may, on every patient, plus users, roles, models, the audit log and systemStatus',
    },
    CLINICIAN: {
      description: 'The default for new accounts: own patients (and those shared with them), images, results',
    },
    RESEARCHER: { description: 'Reads de-identified lesionMetrics and lesionMetricsSummary only; no patient data' },
  },
});
registerEnumType(Plan, {
  name: 'Plan',
  description: 'The billing plan, which sets the monthly quotas (myDashboard shows the limits and their use)',
  valuesConfig: {
    FREE: { description: 'The default: the QUOTA_FREE_* monthly limits' },
    PRO: { description: 'The higher QUOTA_PRO_* monthly limits' },
  },
});

@ObjectType('User', {
  description:
    "An account: yourself (me), a patient's owner or sharee, or (for admins) any account in users. See docs/auth.md",
  implements: Node,
})
export class UserType {
  @Field(() => ID, {
    description: 'Globally unique id; what node(id), setUserRole, setUserDisabled and sharePatient take',
  })
  id!: string;

  @Field(() => String, { description: 'Sign-in address, trimmed and lower-cased; unique' })
  email!: string;

  @Field(() => String, { nullable: true, description: 'Display name; null when none was given at sign-up' })
  name?: string | null;

  @Field(() => Role, { description: 'What the account may do; changed by an admin with setUserRole' })
  role!: Role;

  @Field(() => Plan, { description: 'Sets the monthly upload, prediction and segmentation quotas' })
  plan!: Plan;

  @Field(() => Date, { description: 'When the account was registered' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Last complete sign-in (after 2FA); null if never signed in' })
  lastLoginAt?: Date | null;
}
