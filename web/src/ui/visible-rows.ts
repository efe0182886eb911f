/**
 * Which rows of a long table to put in the page: those in view and a few around them. The objects table renders
 * only these (tens of rows), so it stays usable with a slide's 100,000 objects.
 */
export function visibleRows(scrollTop: number, viewHeight: number, rowHeight: number, count: number, overscan = 8): { first: number; last: number } {
  if (count === 0) return { first: 0, last: 0 };
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}
