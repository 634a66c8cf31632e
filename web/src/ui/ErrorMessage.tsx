import type { ReactNode } from 'react';
import type { ApiError } from './errors';

/** Errors that belong to no single control, announced to screen readers as they appear. */
export function ErrorMessage({ errors, title }: { errors: readonly (ApiError | string)[]; title?: string }) {
  if (errors.length === 0) return null;
  const texts = [...new Set(errors.map((e) => (typeof e === 'string' ? e : e.message)))];
  return (
    <div className="error-message" role="alert">
      {title && <p className="error-title">{title}</p>}
      {texts.length === 1 ? (
        <p>{texts[0]}</p>
      ) : (
        <ul>
          {texts.map((t) => (
            <li key={t}>{t}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A confirmation or a neutral note (role="status": announced politely). */
export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' }) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}
