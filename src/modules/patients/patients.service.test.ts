import { Sex } from '../../entities/patient';
import { cleanPatientInput } from './patients.service';
import { pageSize } from '../../infra/pagination';

describe('patient input', () => {
  const today = new Date('2026-11-21T00:00:00Z');

  it('trims text and keeps the fields', () => {
    expect(
      cleanPatientInput(
        { externalId: ' MRN-1 ', displayName: ' Jane ', dateOfBirth: '1970-05-01', sex: Sex.FEMALE, notes: '  ' },
        today,
      ),
    ).toEqual({
      externalId: 'MRN-1',
      displayName: 'Jane',
      dateOfBirth: '1970-05-01',
      sex: Sex.FEMALE,
      notes: null,
    });
  });

  it('names the field at fault', () => {
    const field = (input: Parameters<typeof cleanPatientInput>[0]) => {
      try {
        cleanPatientInput(input, today);
      } catch (e) {
        return (e as { extensions: { code: string; field: string } }).extensions;
      }
      return null;
    };
    expect(field({ externalId: '', displayName: 'x' })).toEqual({ code: 'BAD_USER_INPUT', field: 'input.externalId' });
    expect(field({ externalId: 'a', displayName: 'x'.repeat(201) })).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.displayName',
    });
    expect(field({ externalId: 'a', displayName: 'x', dateOfBirth: '2026-02-30' })).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.dateOfBirth',
    });
    expect(field({ externalId: 'a', displayName: 'x', dateOfBirth: '2026-11-22' })).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.dateOfBirth',
    });
    expect(field({ externalId: 'a', displayName: 'x', dateOfBirth: '2026-11-21' })).toBeNull();
  });

  it('bounds page sizes to 1..100, 20 by default', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    for (const bad of [0, 101, 1.5, -1]) expect(() => pageSize(bad)).toThrow(/first must be between 1 and 100/);
  });
});
