import type { ButtonHTMLAttributes } from 'react';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'primary' | 'secondary' | 'danger' | 'quiet';
  /** While true the button is disabled and says it is working (aria-busy); its label stays its accessible name. */
  busy?: boolean;
}

/** A button; `type="button"` unless told otherwise, so none submits a form by accident. */
export function Button({ variant = 'secondary', busy = false, className, disabled, children, ...rest }: ButtonProps) {
  return (
    <button
      type="button"
      {...rest}
      className={['button', `button-${variant}`, className].filter(Boolean).join(' ')}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {children}
      {busy && <span className="spinner" aria-hidden="true" />}
    </button>
  );
}
