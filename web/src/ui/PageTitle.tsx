import { useEffect, type ReactNode } from 'react';

/** The page's <h1>, also the document title ("Patients · Dermagraph"), with optional actions beside it. */
export function PageTitle({ children, title, actions }: { children: ReactNode; title?: string; actions?: ReactNode }) {
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} · Dermagraph` : 'Dermagraph';
  }, [text]);
  return (
    <div className="page-title">
      <h1>{children}</h1>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}
