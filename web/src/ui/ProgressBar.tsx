/**
 * Progress of a long action. `value` from 0 to 1; undefined while the amount is unknown (indeterminate).
 * A native <progress> carries the role, the value and (through aria-label) the name for assistive technology.
 */
export function ProgressBar({ label, value, detail }: { label: string; value?: number; detail?: string }) {
  const clamped = value === undefined ? undefined : Math.min(1, Math.max(0, value));
  return (
    <div className="progress">
      <div className="progress-row">
        <span className="progress-label">{label}</span>
        <span className="progress-value">
          {detail ?? (clamped === undefined ? '' : `${Math.round(clamped * 100)}%`)}
        </span>
      </div>
      <progress aria-label={label} max={1} value={clamped} />
    </div>
  );
}
