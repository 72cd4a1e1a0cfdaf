// Sample fetches and converters HAProxy 2.6 documents (configuration.txt §7.3.1–§7.3.6) that
// this engine does not evaluate: layer-4 counters, stick tables, TLS details, bodies, internal
// states. Known by name so that the checker can say "not supported by fastify-haproxy" (an alert:
// a condition on one would silently never match) rather than "unknown". In a `mode tcp` proxy,
// which the gateway refuses to run anyway, a fetch is only a warning, so that the TCP sections of
// configs HAProxy accepts keep passing `-c`. Fetches are grouped by output type, which picks the
// ACL match method there.

import type { SampleType } from './sample.js'

export const UNSUPPORTED_FETCHES: ReadonlyMap<string, SampleType> = new Map<string, SampleType>(([
  ['int', [
    'avg_queue', 'base32', 'bc_dst_port', 'bc_err', 'bc_http_major', 'bc_src_port', 'be_conn_free',
    'be_server_timeout', 'be_sess_rate', 'be_tunnel_timeout', 'connslots', 'cpu_calls', 'cpu_ns_avg', 'cpu_ns_tot',
    'cur_server_timeout', 'cur_tunnel_timeout', 'distcc_param', 'dst_conn', 'fc_fackets',
    'fc_http_major', 'fc_lost', 'fc_reordering', 'fc_retrans', 'fc_rtt', 'fc_rttvar', 'fc_sacked', 
    'fc_unacked', 'fe_client_timeout', 'fe_conn', 'fe_req_rate', 'fe_sess_rate', 'internal.htx.data', 'internal.htx.free',
    'internal.htx.free_data', 'internal.htx.nbblks', 'internal.htx.size', 'internal.htx.used', 'internal.htx_blk.size', 'lat_ns_avg', 'lat_ns_tot',
    'prio_class', 'prio_offset', 'proc', 'rdp_cookie_cnt', 'rep_ssl_hello_type', 
    'res.ssl_hello_type', 'sc_clr_gpc', 'sc_get_gpc', 'sc_get_gpt', 'sc_gpc_rate', 'sc_inc_gpc', 'so_id', 'src_clr_gpc', 'src_get_gpc', 'src_get_gpt',
    'src_gpc_rate', 'src_inc_gpc', 'srv_conn_free', 'srv_iweight', 'srv_sess_rate',
    'srv_uweight', 'srv_weight', 'ssl_bc_alg_keysize', 'ssl_bc_err', 'ssl_bc_use_keysize', 'ssl_c_ca_err', 'ssl_c_ca_err_depth', 'ssl_c_err',
    'ssl_c_version', 'ssl_f_version', 'ssl_fc_alg_keysize', 'ssl_fc_cipherlist_xxh', 'ssl_fc_protocol_hello_id', 'ssl_fc_use_keysize',
    'ssl_s_version', 'thread', 'url32'
  ]],
  ['str', [
    'bc_err_str',
    'cookie', 'distcc_body', 'fc_pp_authority', 'fc_pp_unique_id', 'fe_defbe', 
    'internal.htx_blk.data', 'internal.htx_blk.hdrname', 'internal.htx_blk.hdrval', 'internal.htx_blk.start_line', 'internal.htx_blk.type',     'rdp_cookie', 'req.hdrs_bin',     'req.rdp_cookie', 'req_ver', 
    'res.hdrs_bin', 'resp_ver', 
    'ssl_bc_cipher', 'ssl_bc_client_random', 'ssl_bc_err_str', 'ssl_bc_npn', 'ssl_bc_protocol', 'ssl_bc_server_random', 'ssl_bc_session_id',
    'ssl_bc_session_key', 'ssl_bc_unique_id', 'ssl_c_chain_der', 'ssl_c_key_alg', 
    'ssl_c_sig_alg', 'ssl_f_key_alg', 
    'ssl_f_sig_alg', 'ssl_fc_cipherlist_bin',
    'ssl_fc_cipherlist_hex', 'ssl_fc_cipherlist_str', 'ssl_fc_client_early_traffic_secret', 'ssl_fc_client_handshake_traffic_secret', 'ssl_fc_client_random', 'ssl_fc_client_traffic_secret_0', 'ssl_fc_early_exporter_secret', 'ssl_fc_ecformats_bin',
    'ssl_fc_eclist_bin', 'ssl_fc_exporter_secret', 'ssl_fc_extlist_bin', 'ssl_fc_npn', 'ssl_fc_server_handshake_traffic_secret', 'ssl_fc_server_random',
    'ssl_fc_server_traffic_secret_0', 'ssl_fc_session_id', 'ssl_fc_session_key', 'ssl_fc_unique_id', 'ssl_s_chain_der', 'ssl_s_der', 'ssl_s_i_dn',
    'ssl_s_key_alg', 'ssl_s_notafter', 'ssl_s_notbefore', 'ssl_s_s_dn', 'ssl_s_serial', 'ssl_s_sha1', 'ssl_s_sig_alg'
  ]],
  ['ip', [
    'bc_dst', 'bc_src'
  ]],
  ['bool', [
    'dst_is_local', 'fc_dst_is_local', 'fc_src_is_local', 'http_first_req', 'internal.htx.has_eom', 'internal.strm.is_htx',
    'src_is_local',
    'ssl_bc', 'ssl_bc_is_resumed', 'ssl_fc_has_early', 
    'stopping'
  ]],
  ['meth', [
    'meth'
  ]]
] as Array<[SampleType, string[]]>).flatMap(([type, names]) => names.map((n): [string, SampleType] => [n, type])))

/** Converters of HAProxy 2.6 (§7.3.1) that this engine does not evaluate. */
export const UNSUPPORTED_CONVERTERS: ReadonlySet<string> = new Set([
  'aes_gcm_dec', 'cpl', 'debug', 'htonl',
  'jwt_header_query', 'jwt_payload_query', 'jwt_verify', 'language', 'ltime', 'protobuf', 'table_gpc', 'table_gpc_rate', 'table_gpt', 'ungrpc', 'utime'
])
