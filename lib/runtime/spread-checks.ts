// `spread-checks <0..50>` (configuration.txt §3.2): checks and agent checks are not sent at exact
// intervals; each interval is drawn anew within ± that percent of the configured one, so that
// servers sharing a host are not all probed in the same instant.

/** The next interval: `inter` moved by up to ± `percent` % (uniformly, as `random` draws). */
export function spreadInterval (inter: number, percent: number, random: () => number): number {
  if (percent <= 0) return inter
  return Math.round(inter + inter * percent / 100 * (2 * random() - 1))
}
