// Runs `runGateway` on the given config files (a child process for the standalone-mode tests).
import { runGateway } from '../../lib/serve.js'

runGateway(process.argv.slice(2), {}).then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
})
