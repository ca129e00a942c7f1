/**
 * The tables of a results page as data: one object per row, keyed by the table's header cells, so a
 * benchmark that reports in Markdown also leaves a RESULTS-*.json that scripts and charts can read.
 */
export function markdownTables(markdown: string): Record<string, string>[][] {
  const tables: Record<string, string>[][] = [];
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, "")
      .split("|")
      .map((c) => c.trim());
  const lines = markdown.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.trim().startsWith("|") || !/^\|\s*-{3}/.test(lines[i + 1]!.trim())) continue;
    const header = cells(lines[i]!);
    const rows: Record<string, string>[] = [];
    for (i += 2; i < lines.length && lines[i]!.trim().startsWith("|"); i++) {
      const row = cells(lines[i]!);
      rows.push(Object.fromEntries(header.map((h, j) => [h, row[j] ?? ""])));
    }
    tables.push(rows);
  }
  return tables;
}
