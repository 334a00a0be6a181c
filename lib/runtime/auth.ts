/**
 * Bearer-token checks shared by every HTTP surface (the monitoring API's auth plugin and the scoring
 * service's guards), so there is one comparison to get right.
 *
 * - Constant time: the presented token and every configured token are hashed with SHA-256 (so all
 *   buffers have the same 32-byte length and `crypto.timingSafeEqual` applies without a length check
 *   that would leak the token's length), and the presented hash is compared against *every*
 *   configured hash without an early exit, so timing reveals neither which token matched, nor how
 *   many tokens are configured before it, nor how many bytes matched.
 * - Hashing the presented token costs time linear in its length, which depends only on what the
 *   caller sent, never on a secret.
 * - Audit names never carry the token: `actorOf` gives `token:<8 hex of sha256>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface TokenSet {
  /** true when the presented token equals one of the set; constant time in the token contents. */
  matches(presented: string): boolean;
  /** Configured (non-empty) tokens. */
  readonly size: number;
}

export function tokenSet(tokens: readonly string[]): TokenSet {
  // Empty entries (e.g. a trailing comma in API_WRITE_TOKENS) would let an empty bearer through.
  const hashes = tokens.filter((t) => t.length > 0).map(sha256);
  return {
    size: hashes.length,
    matches(presented) {
      const h = sha256(presented);
      let ok = false;
      // No short-circuit: timingSafeEqual runs for every configured token, matched or not.
      for (const k of hashes) ok = timingSafeEqual(h, k) || ok;
      return ok;
    },
  };
}

/**
 * `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), else null. The token may
 * be any visible ASCII (a superset of RFC 6750's b64token, so operators' generated tokens work).
 * Headers above 4 KiB are refused before the regular expression runs.
 */
export function bearerToken(header: string | undefined): string | null {
  if (!header || header.length > 4096) return null;
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return m ? m[1]! : null;
}

/** Audit name of a caller: a short hash prefix, never the token. */
export function actorOf(token: string): string {
  return `token:${sha256(token).toString('hex').slice(0, 8)}`;
}
