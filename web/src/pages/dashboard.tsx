// The home page: the account's usage (totals, this month's quotas and what is left of them).
// Researchers have no dashboard in the API (myDashboard is FORBIDDEN to them): they see their account only.
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { useAuth } from '../app/auth';
import { ErrorMessage, PageTitle, ProgressBar, apiErrors, formatDate, formatDateTime } from '../ui';

const DashboardQuery = graphql(`
  query Dashboard {
    me {
      id
      email
      name
      role
      createdAt
      lastLoginAt
      twoFactorEnabled
    }
    myDashboard {
      email
      createdAt
      lastLoginAt
      plan
      totalPatients
      totalUploads
      totalPredictions
      uploadQuota {
        limit
        used
        remaining
        resetsAt
      }
      predictionQuota {
        limit
        used
        remaining
        resetsAt
      }
      segmentationQuota {
        limit
        used
        remaining
        resetsAt
      }
    }
  }
`);

interface Quota {
  limit: number;
  used: number;
  remaining: number;
  resetsAt: string;
}

function QuotaRow({ label, quota }: { label: string; quota: Quota }) {
  return (
    <ProgressBar
      label={label}
      value={quota.limit > 0 ? quota.used / quota.limit : 1}
      detail={`${quota.used} of ${quota.limit} used · ${quota.remaining} left`}
    />
  );
}

export function DashboardPage() {
  const { user } = useAuth();
  const [{ data, fetching, error }] = useQuery({ query: DashboardQuery });
  const me = data?.me;
  const dash = data?.myDashboard;
  // FORBIDDEN on myDashboard is the researcher's normal answer, not an error worth showing.
  const errors = apiErrors(error).filter((e) => !(e.code === 'FORBIDDEN' && user?.role === 'RESEARCHER'));

  return (
    <section className="page">
      <PageTitle>Dashboard</PageTitle>
      <ErrorMessage errors={errors} />
      {fetching && !data && <p role="status">Loading your account…</p>}
      {me && (
        <dl className="facts" aria-label="Your account">
          <div>
            <dt>Email</dt>
            <dd>{dash?.email ?? me.email}</dd>
          </div>
          <div>
            <dt>Member since</dt>
            <dd>{formatDate(dash?.createdAt ?? me.createdAt)}</dd>
          </div>
          <div>
            <dt>Last sign-in</dt>
            <dd>{formatDateTime(dash?.lastLoginAt ?? me.lastLoginAt)}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{me.role.toLowerCase()}</dd>
          </div>
          {dash && (
            <div>
              <dt>Plan</dt>
              <dd>{dash.plan}</dd>
            </div>
          )}
          <div>
            <dt>Two-step verification</dt>
            <dd>
              {me.twoFactorEnabled ? 'On' : 'Off'} · <Link to="/security">Change</Link>
            </dd>
          </div>
        </dl>
      )}
      {dash && (
        <>
          <h2>Totals</h2>
          <dl className="stats" aria-label="Totals since you registered">
            <div>
              <dt>Patients</dt>
              <dd>{dash.totalPatients}</dd>
            </div>
            <div>
              <dt>Uploads</dt>
              <dd>{dash.totalUploads}</dd>
            </div>
            <div>
              <dt>Predictions</dt>
              <dd>{dash.totalPredictions}</dd>
            </div>
          </dl>
          <h2>This month</h2>
          <p className="muted">
            Quotas of the {dash.plan} plan; they reset on {formatDate(dash.uploadQuota.resetsAt)}.
          </p>
          <div className="quotas">
            <QuotaRow label="Uploads" quota={dash.uploadQuota} />
            <QuotaRow label="Predictions" quota={dash.predictionQuota} />
            <QuotaRow label="Segmentations" quota={dash.segmentationQuota} />
          </div>
        </>
      )}
    </section>
  );
}
