// The syntax of TRUSTED_PROXIES: IP addresses and CIDR ranges, as node:net's BlockList takes them.
import { BlockList, isIP } from "node:net";

/** One entry of TRUSTED_PROXIES, parsed: an address or a range, with its family. */
export interface AddressRange {
  address: string;
  prefix: number | undefined;
  family: "ipv4" | "ipv6";
}

/** `10.0.0.0/8`, `fd00::/8`, `127.0.0.1` or `::1` parsed; undefined when it is none of these. */
export function parseAddressRange(entry: string): AddressRange | undefined {
  const [address = "", prefixText, ...rest] = entry.split("/");
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? "ipv4" : "ipv6";
  if (prefixText === undefined) return { address, prefix: undefined, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family };
}

/** A BlockList holding every entry (entries that do not parse are left out; the schema refuses them). */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const r = parseAddressRange(entry);
    if (!r) continue;
    if (r.prefix === undefined) list.addAddress(r.address, r.family);
    else list.addSubnet(r.address, r.prefix, r.family);
  }
  return list;
}
