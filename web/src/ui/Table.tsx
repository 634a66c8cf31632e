import { useId, type ReactNode } from 'react';

export interface Column<Row> {
  /** Header text. */
  header: ReactNode;
  /** The cell of one row. */
  cell(row: Row): ReactNode;
  /** Right-aligned numbers. */
  numeric?: boolean;
}

export interface TableProps<Row> {
  caption: ReactNode;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey(row: Row): string;
  /** Shown in place of the rows when there are none. */
  empty?: ReactNode;
  /** Hide the caption visually (it still names the table for screen readers). */
  hideCaption?: boolean;
}

/**
 * A data table with a caption and column headers (scope=col), scrolling sideways on narrow screens. The scrolling
 * box is a region named by the caption that takes keyboard focus, so it can be scrolled without a pointer.
 */
export function Table<Row>({ caption, columns, rows, rowKey, empty, hideCaption }: TableProps<Row>) {
  const captionId = useId();
  return (
    <div className="table-wrap" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table className="table">
        <caption id={captionId} className={hideCaption ? 'visually-hidden' : undefined}>
          {caption}
        </caption>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col" className={c.numeric ? 'numeric' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="table-empty">
                {empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={rowKey(row)}>
                {columns.map((c, i) => (
                  <td key={i} className={c.numeric ? 'numeric' : undefined}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
