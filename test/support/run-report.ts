/**
 * What a child process did, for the message of an assertion on its exit status: the status or signal and
 * the end of both of its outputs (a failure's reason may be in either, and a trace can fill stderr).
 */
export function runReport(
  run: { status: number | null; signal?: NodeJS.Signals | null; stdout: string; stderr: string },
  lines = 30,
): string {
  const tail = (text: string) => text.split('\n').slice(-lines).join('\n');
  const how = run.status === null ? `killed by ${run.signal ?? 'a signal'}` : `exit status ${run.status}`;
  return `${how}\n--- stdout (last ${lines} lines) ---\n${tail(run.stdout)}\n--- stderr (last ${lines} lines) ---\n${tail(run.stderr)}`;
}
