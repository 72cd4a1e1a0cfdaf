// Shared by the tests of cut sessions (on-marked-down, on-marked-up, shutdown sessions): the
// termination state an access line records, read from a proxy's `log stdout` output.

import { waitFor } from '../gateway/fixtures.js'

/** The termination state logged for `path`, once its line is out. */
export async function termination (output: () => string, path: string): Promise<string> {
  let state = ''
  await waitFor(() => {
    const line = output().split('\n').find(l => l.includes(`"GET ${path} HTTP/1.1"`))
    state = line === undefined ? '' : / (\S{4}) \d+\/\d+\/\d+\/\d+\/\d+ /.exec(line)?.[1] ?? line
    return state !== ''
  }, `the log line of ${path}`, 10_000)
  return state
}
