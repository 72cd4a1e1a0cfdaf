// Hidden slots on node requests, one Symbol each (as fastify's lib/symbols.js).

/** The bytes that followed an upgrade request's head (node's 'upgrade' event `head`), for the tunnel. */
export const kUpgradeHead = Symbol('fastify-haproxy.request.upgradeHead')
