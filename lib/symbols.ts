// Hidden slots on node requests, one Symbol each (as fastify's lib/symbols.js).

/** The bytes that followed an upgrade request's head (node's 'upgrade' event `head`), for the tunnel. */
export const kUpgradeHead = Symbol('fastify-haproxy.request.upgradeHead')

/** The `name` of the bind that accepted a socket (`so_name`). */
export const kBindName = Symbol('fastify-haproxy.socket.bindName')

/**
 * The gateway's onRequest hook, kept on the Fastify instance so the CLI can route requests whose
 * URL Fastify's router refuses (a bad `%` sequence), as HAProxy forwards them.
 */
export const kGatewayHook = Symbol('fastify-haproxy.instance.gatewayHook')

/**
 * Not an option: a registration whose options carry this key set to `true` leaves the app's
 * reply headers off the responses the gateway writes. Only bench/hook-cost.ts sets it, to measure
 * what carrying them costs against the same app without it (README, Benchmarks (h)).
 */
export const kBenchNoHeaderMerge = Symbol.for('fastify-haproxy.bench.noHeaderMerge')

/** On a response: its head is written as given (HAProxy's parser's own answers, errors.ts parserErrorPage). */
export const kVerbatimHead = Symbol('fastify-haproxy.response.verbatimHead')
