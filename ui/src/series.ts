/**
 * Time series for the plots: a fixed number of points per series (the last minutes), stored column by
 * column as uPlot draws them (`[xs, ys1, ys2, …]`, x in seconds). Pure and DOM-free.
 */

/** One plot's data: x (seconds) and one column per line; null where a line has no value. */
export type Columns = [number[], ...(number | null)[][]];

/** A bounded series of points; the oldest go when it is full. */
export class Series {
  readonly columns: Columns;
  /** Points pushed since the page opened (the tests read it to see a plot move). */
  pushed = 0;

  constructor(
    readonly labels: readonly string[],
    private readonly capacity: number,
  ) {
    this.columns = [[], ...labels.map(() => [] as (number | null)[])];
  }

  push(x: number, values: readonly (number | null)[]): void {
    const [xs, ...ys] = this.columns;
    xs.push(x);
    ys.forEach((col, i) => {
      col.push(values[i] ?? null);
    });
    if (xs.length > this.capacity) for (const col of this.columns) col.shift();
    this.pushed++;
  }

  /** The latest value of line `i`, or null. */
  last(i: number): number | null {
    const col = this.columns[i + 1];
    return col === undefined || col.length === 0 ? null : (col[col.length - 1] ?? null);
  }
}
