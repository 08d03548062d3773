/**
 * @packageDocumentation
 * `@rsp/tlv`: the byte-level codecs every other lib stands on. Pure code, no I/O.
 *
 * - {@link encodeTlv} / {@link decodeTlv} / {@link decodeTlvs}: BER-TLV (ISO/IEC 8825-1) with multi-byte
 *   tags and long lengths; decoded TLVs keep their `raw` received bytes for signature checks.
 * - {@link encodeDgi} / {@link decodeDgis}: GlobalPlatform DGI format for STORE DATA.
 * - {@link encodeCommandApdu} / {@link decodeCommandApdu} / {@link encodeResponseApdu} /
 *   {@link decodeResponseApdu}: ISO/IEC 7816-4 APDUs, short and extended, with {@link SW} status words.
 * - {@link hex} / {@link fromHex}: strict hex helpers.
 *
 * Every malformed input raises a {@link TlvError} subclass (stable `code`), never another exception.
 */
export * from './errors';
export * from './hex';
export * from './ber-tlv';
export * from './dgi';
export * from './apdu';
