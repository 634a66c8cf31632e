import { Link } from 'react-router';
import { PageTitle } from '../ui';

export function NotFoundPage() {
  return (
    <section className="page">
      <PageTitle>Page not found</PageTitle>
      <p>
        Nothing lives at this address. <Link to="/">Go to the dashboard</Link>.
      </p>
    </section>
  );
}
