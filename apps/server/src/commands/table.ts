/**
 * Plain-text tables for the `crossauth` tool's listings.
 * @module
 */

/**
 * Lines of a table with left-aligned columns separated by two spaces (no trailing spaces).
 * @param headers - column titles
 * @param rows - cells, one array per row
 */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}
