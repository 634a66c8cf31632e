import { operationLabeler } from './metrics';

describe('operationLabeler', () => {
  it('keeps GraphQL-like names up to the cap and folds the rest into "other"', () => {
    const label = operationLabeler(2);
    expect(label('Me', true)).toBe('Me');
    expect(label('Patients', true)).toBe('Patients');
    expect(label('Me', true)).toBe('Me');
    expect(label('Third', true)).toBe('other');
    expect(label('bad name; drop table', true)).toBe('other');
    expect(label(undefined, true)).toBe('anonymous');
    expect(label('Me', false)).toBe('invalid');
  });
});
