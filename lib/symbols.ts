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
