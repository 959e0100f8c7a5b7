/** Wire-format constants and scratch space shared by the OSC decoder and encoder. */

/** How deeply '[' … ']' arrays may nest, decoding and encoding alike. */
export const MAX_ARRAY_DEPTH = 16;
/** OSC 1.0 spec: a bundle starts with the OSC-string "#bundle". */
export const BUNDLE_HEADER = Uint8Array.of(0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x00);
/** Big-endian float conversion through 8 scratch bytes, without a DataView per packet. */
export const scratch = new DataView(new ArrayBuffer(8));
export const scratchBytes = new Uint8Array(scratch.buffer);
