import { AuditAction } from '../../src/modules/audit';
import { AUDIT_ACTIONS, actionWords } from '../../web/src/pages/admin/audit/audit-actions';

/**
 * The audit page's words: every action the server can write has its own (an action without words
 * would show as its code and be missing from the page's action filter), and the filter lists no
 * action the server does not have.
 */
const serverActions = Object.values(AuditAction).sort();

it('every AuditAction the server writes has words, and is in the action filter', () => {
  expect(serverActions.filter((a) => actionWords(a) === a)).toEqual([]);
  expect(AUDIT_ACTIONS.map(([a]) => a).sort()).toEqual(serverActions);
});

it('the words are distinct, none empty', () => {
  const words = AUDIT_ACTIONS.map(([, w]) => w);
  expect(new Set(words).size).toBe(words.length);
  expect(words.every((w) => w.trim().length > 0)).toBe(true);
});

it('the ensemble actions read as what an admin did to a classification ensemble', () => {
  expect(
    ['ENSEMBLE_CREATED', 'ENSEMBLE_UPDATED', 'ENSEMBLE_DELETED'].map((a) => actionWords(a as AuditAction)),
  ).toEqual(['Classification ensemble created', 'Classification ensemble changed', 'Classification ensemble deleted']);
});
