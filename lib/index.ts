// Public surface: the plugin (default export) and the library functions the CLI is built on.

import { haproxyRouter } from './plugin.js'

export default haproxyRouter
export { haproxyRouter, Gateway } from './plugin.js'
export type { HaproxyRouterOptions, HaproxyHandle, GatewayLogger } from './plugin.js'
export type { RequestRoute } from './runtime/forward.js'
export { runGateway, keepHalfOpen } from './serve.js'
export type { GatewayRunOptions } from './serve.js'
export { parseConfig, loadConfig } from './config/parse.js'
export { checkConfig } from './check.js'
export { formatDiagnostic } from './config/diagnostics.js'
export * as errors from './errors.js'
export type * from './config/model.js'
export type { HttpTxn, Decision, HttpResponseView } from './acl/txn.js'
export type { BackendView, ServerView, FrontendView, ServerAdminState, ServerOpState, CheckResult } from './runtime/state.js'
export type { StatsModel } from './stats/model.js'
