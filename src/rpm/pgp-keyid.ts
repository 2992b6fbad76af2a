/**
 * Issuer key id of an OpenPGP signature packet (RFC 4880 / RFC 9580), as
 * stored in an RPM signature header. Only the packet framing and the
 * subpackets are read; the signature itself is not verified.
 */

const SIGNATURE_PACKET_TAG = 2;
const SUBPACKET_ISSUER = 16;
const SUBPACKET_ISSUER_FINGERPRINT = 33;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

interface Packet {
  tag: number;
  body: Uint8Array;
}

/** First packet of `bytes` (old or new format framing), or undefined if malformed. */
function firstPacket(bytes: Uint8Array): Packet | undefined {
  const b0 = bytes[0];
  if (b0 === undefined || (b0 & 0x80) === 0) return undefined;
  let tag: number;
  let len: number;
  let at: number;
  if (b0 & 0x40) {
    tag = b0 & 0x3f;
    const l0 = bytes[1] ?? 0;
    if (l0 < 192) {
      len = l0;
      at = 2;
    } else if (l0 < 224) {
      len = ((l0 - 192) << 8) + (bytes[2] ?? 0) + 192;
      at = 3;
    } else if (l0 === 255) {
      len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(2);
      at = 6;
    } else {
      return undefined; // partial body lengths are not used for signatures
    }
  } else {
    tag = (b0 >> 2) & 0x0f;
    const lt = b0 & 3;
    if (lt === 0) [len, at] = [bytes[1] ?? 0, 2];
    else if (lt === 1) [len, at] = [((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0), 3];
    else if (lt === 2) [len, at] = [new DataView(bytes.buffer, bytes.byteOffset).getUint32(1), 5];
    else [len, at] = [bytes.length - 1, 1];
  }
  if (at + len > bytes.length) return undefined;
  return { tag, body: bytes.subarray(at, at + len) };
}

/** Issuer key id found in a subpacket area, as 16 hex digits. */
function issuerInSubpackets(area: Uint8Array): string | undefined {
  let at = 0;
  let fromFingerprint: string | undefined;
  while (at < area.length) {
    const l0 = area[at] ?? 0;
    let len: number;
    if (l0 < 192) {
      len = l0;
      at += 1;
    } else if (l0 < 255) {
      len = ((l0 - 192) << 8) + (area[at + 1] ?? 0) + 192;
      at += 2;
    } else {
      len = new DataView(area.buffer, area.byteOffset).getUint32(at + 1);
      at += 5;
    }
    if (len === 0 || at + len > area.length) return fromFingerprint;
    const type = (area[at] ?? 0) & 0x7f;
    const body = area.subarray(at + 1, at + len);
    if (type === SUBPACKET_ISSUER && body.length === 8) return hex(body);
    if (type === SUBPACKET_ISSUER_FINGERPRINT && body.length > 1) {
      const fp = body.subarray(1);
      // v4 key id = last 8 bytes of the fingerprint; v5/v6 = first 8 bytes.
      if (body[0] === 4 && fp.length === 20) fromFingerprint = hex(fp.subarray(12));
      else if (fp.length === 32) fromFingerprint = hex(fp.subarray(0, 8));
    }
    at += len;
  }
  return fromFingerprint;
}

/**
 * The 16-hex issuer key id of a signature packet (v3: the key id field; v4/v6:
 * the issuer subpacket, else the issuer-fingerprint subpacket, hashed area
 * first), lower case; `undefined` when the bytes hold no readable signature.
 */
export function signatureIssuer(packet: Uint8Array): string | undefined {
  try {
    return issuerOf(packet);
  } catch (e) {
    // DataView reads past a truncated packet: not a readable signature.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

function issuerOf(packet: Uint8Array): string | undefined {
  const p = firstPacket(packet);
  if (!p || p.tag !== SIGNATURE_PACKET_TAG) return undefined;
  const b = p.body;
  const version = b[0];
  if (version === 3 || version === 2) {
    // version, hashed-length (5), sigtype, time(4), key id(8)
    return b.length >= 15 ? hex(b.subarray(7, 15)) : undefined;
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (version === 4 || version === 5) {
    if (b.length < 6) return undefined;
    const hashedLen = view.getUint16(4);
    const hashed = b.subarray(6, 6 + hashedLen);
    const unhashedAt = 6 + hashedLen;
    if (unhashedAt + 2 > b.length) return undefined;
    const unhashed = b.subarray(unhashedAt + 2, unhashedAt + 2 + view.getUint16(unhashedAt));
    return issuerInSubpackets(hashed) ?? issuerInSubpackets(unhashed);
  }
  if (version === 6) {
    if (b.length < 8) return undefined;
    const hashedLen = view.getUint32(4);
    const hashed = b.subarray(8, 8 + hashedLen);
    const unhashedAt = 8 + hashedLen;
    if (unhashedAt + 4 > b.length) return undefined;
    const unhashed = b.subarray(unhashedAt + 4, unhashedAt + 4 + view.getUint32(unhashedAt));
    return issuerInSubpackets(hashed) ?? issuerInSubpackets(unhashed);
  }
  return undefined;
}

/** Lower-case 8-hex short key id (last 8 hex digits of the issuer key id). */
export function shortKeyId(packet: Uint8Array): string | undefined {
  return signatureIssuer(packet)?.slice(-8);
}

/** Decode a base64 string (rpm v6 OPENPGP tag entries) without Node's Buffer. */
export function decodeBase64(text: string): Uint8Array | undefined {
  try {
    const bin = atob(text.replace(/\s+/g, ""));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
