// The seed note's haproxy.cfg (the CentOS/RHEL default frontend and backends, plus its stats
// page), with `mode http`, timeouts and a `bind` so that both HAProxy 2.6 and we serve it as
// written; ports are the caller's. Used by the decision and the proxy benchmarks alike.

export interface SeedPorts {
  frontend: number
  stats: number
  /** `server static` and `server app1` */
  up1: number
  /** `server app2` */
  up2: number
}

export function seedConfig (p: SeedPorts): string {
  return `global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend  main
    bind 127.0.0.1:${p.frontend}
    acl url_static       path_beg       -i /static /images /javascript /stylesheets
    acl url_static       path_end       -i .jpg .gif .png .css .js

    use_backend static          if url_static
    default_backend             app

backend static
    balance     roundrobin
    server      static 127.0.0.1:${p.up1} check

backend app
    balance     roundrobin
    server  app1 127.0.0.1:${p.up1} check
    server  app2 127.0.0.1:${p.up2} check

listen stats
  bind  127.0.0.1:${p.stats}
  mode  http
  stats enable
  stats uri /haproxy_stats
  stats auth  admin:admin
`
}
