// The shared UI kit: import from '../../ui' (or '../ui').
export { Button, type ButtonProps } from './Button';
export { Field, FieldFrame, SelectField, type FieldProps, type SelectFieldProps } from './Field';
export { ErrorMessage, Notice } from './ErrorMessage';
export { ProgressBar } from './ProgressBar';
export { Slider, type SliderProps } from './Slider';
export { Table, type Column, type TableProps } from './Table';
export { PageTitle } from './PageTitle';
export { apiErrors, fieldMatches, useGraphQLErrors, viewErrors, type ApiError, type GraphQLErrorView } from './errors';
export { formatBytes, formatDate, formatDateTime, formatPercent } from './format';
