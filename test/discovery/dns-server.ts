// A DNS server on 127.0.0.1 for the tests (node:dgram + dns-packet): it answers from a table
// the test changes while the gateway runs. Names missing from the table get NXDOMAIN.

import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import dnsPacket from 'dns-packet'

export type Record =
  | { type: 'A', address: string }
  | { type: 'SRV', target: string, port: number, weight: number, priority?: number }

export interface DnsServer {
  port: number
  /** name → records; a name absent from it is NXDOMAIN. */
  zone: Map<string, Record[]>
  /** Queries received, by name. */
  queries: string[]
  close (): Promise<void>
}

export async function dnsServer (): Promise<DnsServer> {
  const zone = new Map<string, Record[]>()
  const queries: string[] = []
  const socket = dgram.createSocket('udp4')
  socket.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet
    try {
      query = dnsPacket.decode(msg)
    } catch {
      return
    }
    const q = query.questions?.[0]
    if (q === undefined) return
    queries.push(q.name)
    const records = zone.get(q.name.toLowerCase())
    const answers: dnsPacket.Answer[] = []
    for (const r of records ?? []) {
      if (r.type === 'A' && q.type === 'A') answers.push({ type: 'A', name: q.name, ttl: 1, data: r.address })
      if (r.type === 'SRV' && q.type === 'SRV') answers.push({ type: 'SRV', name: q.name, ttl: 1, data: { target: r.target, port: r.port, weight: r.weight, priority: r.priority ?? 0 } })
    }
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (records === undefined ? 3 : 0),
      questions: query.questions,
      answers
    })
    socket.send(reply, rinfo.port, rinfo.address)
  })
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  return {
    port: (socket.address() as AddressInfo).port,
    zone,
    queries,
    close: () => new Promise(resolve => socket.close(() => resolve()))
  }
}
