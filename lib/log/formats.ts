// HAProxy's built-in log formats as the log-format strings configuration.txt §8.2 declares them
// equivalent to (`option tcplog`, `option httplog [clf]`, `option httpslog`).

export const TCPLOG_FORMAT = '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq'

export const HTTPLOG_FORMAT = '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r'

export const CLF_FORMAT = '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl'

export const HTTPSLOG_FORMAT = HTTPLOG_FORMAT +
  ' %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc'

/** The format a `mode tcp` proxy logs with: HAProxy falls back to `option tcplog` from the HTTP ones. */
export function sessionFormat (format: string | null): string | null {
  return format === HTTPLOG_FORMAT || format === CLF_FORMAT || format === HTTPSLOG_FORMAT ? TCPLOG_FORMAT : format
}
