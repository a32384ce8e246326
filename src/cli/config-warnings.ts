/** Warnings already printed by this command (a command loads its configuration more than once). */
export const printedWarnings = new Set<string>();

/** A new command starts: its warnings print again (the CLI runs in-process in tests). */
export function resetConfigWarnings(): void {
  printedWarnings.clear();
}
