/** A text value as one CSV field: always quoted, quotes doubled, so commas and newlines survive. */
export function csvText(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}
