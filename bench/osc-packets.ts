/** Pre-encoded OSC packets for the osc group, through the adapter's own codec. */
import { encodeMessage } from '../adapters/osc/codec.js';

/** Byte offset of the int32 argument in `/relay ,i seq` and `/ping ,i seq` (8 address + 4 type tag bytes). */
export const SEQ_OFFSET = 12;

/**
 * Encodes `address ,i seq` for seq = base … base + count - 1 into one buffer and returns one view per
 * packet (all of one size; throws otherwise).
 */
export function encodeSeqPackets(address: string, base: number, count: number): Uint8Array[] {
  const first = encodeMessage(address, [{ type: 'i', value: base }]);
  const size = first.length;
  const all = new Uint8Array(size * count);
  const out: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const packet = i === 0 ? first : encodeMessage(address, [{ type: 'i', value: base + i }]);
    if (packet.length !== size) throw new Error(`packet ${i} is ${packet.length} bytes, expected ${size}`);
    all.set(packet, i * size);
    out[i] = all.subarray(i * size, (i + 1) * size);
  }
  return out;
}
