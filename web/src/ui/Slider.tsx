import { useId } from 'react';

export interface SliderProps {
  label: string;
  value: number;
  onChange(value: number): void;
  min?: number;
  max?: number;
  step?: number;
  /** How the value reads (e.g. as a percentage); also given to assistive technology as aria-valuetext. */
  format?(value: number): string;
}

/** A labelled range input that shows its value. Arrow keys move it by `step`. */
export function Slider({ label, value, onChange, min = 0, max = 1, step = 0.01, format }: SliderProps) {
  const id = useId();
  const text = format ? format(value) : String(value);
  return (
    <div className="slider">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        aria-valuetext={text}
        onChange={(e) => onChange(Number(e.currentTarget.value))}
      />
      <output htmlFor={id}>{text}</output>
    </div>
  );
}
