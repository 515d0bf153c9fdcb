/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entropy pool: every random byte of the engine and the vault comes from
 * here (through mls_entropy_rng()). It follows the randomness wrapper of
 * RFC 8937 ("Randomness Improvements for Security Protocols"):
 *
 *   RFC 8937 section 3:
 *     G'(n) = Expand(Extract(H(Sig(sk, tag1)), G(L)), tag2, n)
 *
 * with H = SHA-256, Extract/Expand = HKDF-SHA256 (RFC 5869), the KDF of
 * cipher suite 1 through mls/crypto.h (mls_crypto_hkdf_*_into: no guarded
 * allocation per call). SHA-256 is used whatever the suites of the groups:
 * L = M = 32 bytes is ample for a randomness extractor, and one fixed hash
 * keeps the construction one documented thing.
 *
 * The engine has no I/O and no globals, so the sources are callbacks:
 *
 *   primary    G: getrandom(2) / libsodium randombytes_buf in the daemon.
 *              32 FRESH bytes (L) are drawn for every extraction block.
 *   secondary  optional and slow (the TPM's TPM2_GetRandom): 32 bytes are
 *              pulled when it is set, on mls_entropy_reseed(), and before an
 *              extraction once `interval` extraction blocks have passed since
 *              the last pull (MLS_ENTROPY_RESEED_DEFAULT suits a hardware
 *              TPM; 0 means "only when set and on explicit reseed").
 *              An automatic pull runs inside that extraction, which then
 *              waits for the source; a caller that cannot wait sets 0 and
 *              calls mls_entropy_reseed() from its idle time instead.
 *   mix        any other input (e.g. TPM bytes relayed from another
 *              process) folded into the state at once.
 *   hedge      H(Sig(sk, tag1)), the RFC 8937 key, from a signature that
 *              the caller (the vault) made over mls_entropy_hedge_label().
 *
 * The construction (all integers big-endian, "||" concatenation, Extract and
 * Expand HKDF-SHA256, S the 32-byte pool state, K the 32-byte hedge key or
 * the empty salt when no hedge is set; HKDF treats an empty salt as 32 zero
 * bytes, RFC 5869 section 2.2):
 *
 *   mix(label, x):   h  = Extract(salt = label, IKM = x)
 *                    S' = Extract(salt = S, IKM = MLS_ENTROPY_TAG_MIX || h)
 *   creation:        S0 = 32 zero bytes; S = mix("init", G(32))
 *   extraction block number c (a pool-wide counter from 0; this is tag2 of
 *   RFC 8937 section 4), n <= 32 bytes:
 *                    PRK = Extract(salt = K, IKM = G(32) || S)
 *                    out = Expand(PRK, MLS_ENTROPY_TAG_OUTPUT || u64(c), n)
 *                    S'  = Expand(PRK, MLS_ENTROPY_TAG_STATE  || u64(c), 32)
 *                    S is overwritten by S' (the old state is gone)
 *
 * This is RFC 8937's G' with G(L) replaced by G(L) || S: the state carries
 * earlier fresh input, secondary and mixed bytes forward; it can only add
 * entropy. The output and the next state are two labels of one PRK: the new
 * state does not reveal the output, nor (HMAC being one-way) the PRK or the
 * old state. Forward security: whoever reads the pool after an extraction
 * learns nothing about earlier outputs.
 *
 * Requests above 32 bytes are served as consecutive blocks, each a complete
 * G' invocation (fresh primary input, own counter, own ratchet step), as
 * RFC 8937 section 6 says ("invoking G' multiple times and concatenating
 * the results"): section 3 requires L >= n - L', so one Expand must not
 * stretch a 32-byte key too far. The engine's largest request is a private
 * key or secret of at most 66 bytes (3 blocks); the primary is asked for
 * the fresh input of up to 8 blocks in one call, so a long request costs
 * one syscall per 256 output bytes, not one per block. A ChaCha20 key
 * stream would be faster for bulk output, but nothing in MLS needs bulk
 * output and it would leave the RFC's construction.
 *
 * Failure (decided: fail closed): if the primary fails, the request fails
 * with MLS_E_ENTROPY and the whole output buffer is wiped. Nothing is ever
 * output that was derived without fresh primary input, not even when a
 * hedge is set: the hedge defends against a WEAK generator, not a missing
 * one, and a pool whose state was duplicated (fork, VM snapshot) would
 * repeat its outputs without fresh input (RFC 8937 section 9). The state is
 * not touched by a failed block; blocks of the same request that completed
 * before the failure have advanced it normally (a full ratchet step each),
 * so the state is always either unchanged or safely advanced, never half
 * updated. A failing secondary does not fail extractions (the primary still
 * provides fresh input): it is counted in the stats and tried again after
 * another interval; mls_entropy_reseed() reports it to the caller.
 *
 * Hot path: every PrivateMessage draws its fresh 4-byte reuse_guard here
 * (RFC 9420 section 6.3.1, R-6.3.1-6), as do UpdatePath leaf secrets
 * (R-7.4-3), epoch-0 secrets (R-11-6), psk_nonces (R-8.4-2) and HPKE
 * ephemerals. Measured (this machine, hedged, getrandom primary): about
 * 2.5 us per extraction of 4 or of 32 bytes (median), against 0.3 us for
 * randombytes_buf alone; three HMAC-SHA256 per block.
 *
 * Memory: the state, the hedge key and the scratch for fresh input live in
 * one guarded allocation (sodium_malloc) made by mls_entropy_new(); an
 * extraction allocates nothing and wipes its stack temporaries. It is not
 * sodium_mprotect'ed between uses (two syscalls per 4-byte reuse_guard would
 * cost more than the extraction).
 *
 * fork(): parent and child hold the same state, counter and hedge. With a
 * working primary their outputs diverge at the next block anyway; with a
 * broken one they would not (RFC 8937 section 9: no guarantee when the
 * state is cloned), so a process that forks with a pool should
 * mls_entropy_mix() something process-specific (its pid) on both sides, or
 * better, create its pools after the fork.
 *
 * A pool is not thread-safe (the engine and the vault are single-threaded).
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_ENTROPY_H
#define MLS_ENTROPY_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/rng.h"

#define MLS_ENTROPY_STATE_LEN 32 /* S, K, PRK: SHA-256 output (M = L) */
#define MLS_ENTROPY_FRESH_LEN 32 /* G(L) per block, L = 32 */
#define MLS_ENTROPY_BLOCK_LEN 32 /* at most n = 32 bytes out per block */
/* A reasonable secondary interval for a hardware TPM (TPM2_GetRandom takes
 * milliseconds): one pull per 4096 blocks, i.e. about one per 4096 messages. */
#define MLS_ENTROPY_RESEED_DEFAULT 4096

/* HKDF labels of the construction (the byte strings, without NUL). The
 * output and state labels differ in length, so the two info strings
 * (label || u64 counter) can never be equal. */
#define MLS_ENTROPY_TAG_MIX "mlskeyd entropy v1 mix"
#define MLS_ENTROPY_TAG_OUTPUT "mlskeyd entropy v1 output"
#define MLS_ENTROPY_TAG_STATE "mlskeyd entropy v1 state"
/* Mix labels used by the pool itself. */
#define MLS_ENTROPY_MIX_INIT "init"
#define MLS_ENTROPY_MIX_SECONDARY "secondary"

/* A source of bytes: fill(ctx, buf, len) fills buf[0..len) and returns 0,
 * or anything else for a failure (the pool reports MLS_E_ENTROPY). */
struct mls_entropy_source {
        int (*fill)(void *ctx, uint8_t *buf, size_t len);
        void *ctx;
};

struct mls_entropy;

/*
 * A new pool over primary (copied; its ctx is borrowed and must outlive the
 * pool). Draws 32 bytes from primary for S0: MLS_E_ENTROPY if it fails,
 * MLS_E_INVALID_ARGUMENT for a NULL source or callback, MLS_E_NOMEM.
 */
MLS_MUST_CHECK int mls_entropy_new(const struct mls_entropy_source *primary,
                                   struct mls_entropy **ret);
/* mls_entropy_new with the system RNG (mls_rng_system: libsodium's
 * randombytes, getrandom) as the primary source. */
MLS_MUST_CHECK int mls_entropy_new_system(struct mls_entropy **ret);
/* Wipes and frees; NULL is a no-op. */
void mls_entropy_free(struct mls_entropy *pool);
void mls_entropy_freep(struct mls_entropy **pool);
#define _mls_entropy_ _mls_cleanup_(mls_entropy_freep)

/*
 * Sets (replaces) the secondary source (copied; ctx borrowed) and pulls 32
 * bytes from it at once, mixed with label "secondary". interval: pull again
 * before the extraction block that follows `interval` blocks after the last
 * pull; 0 = only at this call and on mls_entropy_reseed(). secondary NULL
 * removes the source. Returns MLS_E_ENTROPY if the first pull fails (the
 * source is then NOT installed).
 */
MLS_MUST_CHECK int mls_entropy_set_secondary(struct mls_entropy *pool,
                                             const struct mls_entropy_source *secondary,
                                             uint64_t interval);
/* Pulls 32 bytes from the secondary now (restarting its interval) and
 * mixes them in. 0 without a secondary; MLS_E_ENTROPY if it fails. */
MLS_MUST_CHECK int mls_entropy_reseed(struct mls_entropy *pool);

/* Folds bytes[0..len) into the state now (mix() above). label: a
 * non-empty C string of at most 255 bytes naming the input; len may be 0. */
MLS_MUST_CHECK int mls_entropy_mix(struct mls_entropy *pool, const char *label,
                                   const uint8_t *bytes, size_t len);

/*
 * RFC 8937 section 3: the hedge key K = H(Sig(sk, tag1)) = SHA-256(sig).
 * sig: the signature the identity's key made over a tag1 built by
 * mls_entropy_hedge_label() (1..MLS_ENTROPY_SIG_MAX bytes; the pool keeps
 * only its hash, in guarded memory, and the caller should wipe sig: "MUST
 * NOT be used or exposed beyond its role in this computation"). Replaces a
 * previous hedge; sig NULL with len 0 removes the hedge. The signature must
 * be deterministic (Ed25519, Ed448) or made with an entropy source
 * independent of the primary (a TPM's), RFC 8937 sections 3 and 9.
 */
#define MLS_ENTROPY_SIG_MAX 1024
MLS_MUST_CHECK int mls_entropy_set_hedge(struct mls_entropy *pool, const uint8_t *sig,
                                         size_t len);
/* A further identity's signature over its tag1: the hedge if the pool has
 * none yet (the first one that succeeds, whatever failed before), else
 * mixed into the state (mix() with label "hedge"); never replaces a
 * hedge. */
MLS_MUST_CHECK int mls_entropy_add_hedge(struct mls_entropy *pool, const uint8_t *sig,
                                         size_t len);

/*
 * tag1 of RFC 8937 section 4, the message the identity key signs:
 *
 *   0xFF || "mlskeyd RFC 8937 hedge v1" || u64 counter || random[32]
 *        || u16 context_len || context
 *
 * The leading 0xFF is a varint with the reserved 0b11 prefix, so tag1 can
 * never parse as an MLS SignContent (whose first field is a vector): a
 * signature over it is not an MLS signature of anything (section 4: "select
 * a value for tag1 that is different than the form allowed by those other
 * uses"). counter: the caller's count of hedges made with this key (e.g.
 * persisted, so a restored snapshot still differs by its random bytes);
 * random: 32 bytes from the caller's rng; context: the section 4
 * "information specific to the process" (machine id, boot id, pid, start
 * time, the identity's public key...), at most MLS_ENTROPY_CONTEXT_MAX
 * bytes, may be empty. ret_label is malloc-owned.
 *
 * Why tag1 must be fresh per pool, not a constant: the counter c (tag2)
 * restarts at 0 with every pool, and with a constant primary S0 is the
 * same at every start, so a restarted daemon with a broken generator would
 * repeat its outputs if it reused the same Sig(sk, tag1). A tag1 that
 * differs per process (persisted counter, boot id, pid, start time in the
 * context) gives every pool its own key K and avoids that (section 4: tags
 * "never collide with another contender or owner of the private key").
 *
 * Several identities: set_hedge keeps one key. Signatures of further
 * identities over their own tag1 can be folded in with mls_entropy_mix()
 * (they then make the secret state, rather than the key, unknown to anyone
 * without those private keys).
 */
#define MLS_ENTROPY_HEDGE_RANDOM_LEN 32
#define MLS_ENTROPY_CONTEXT_MAX 1024
#define MLS_ENTROPY_HEDGE_DS "mlskeyd RFC 8937 hedge v1"
MLS_MUST_CHECK int mls_entropy_hedge_label(uint64_t counter,
                                           const uint8_t random[MLS_ENTROPY_HEDGE_RANDOM_LEN],
                                           const uint8_t *context, size_t context_len,
                                           struct mls_bytes *ret_label);
/* For the vault, before it signs what it is asked to: 0 if label[0..len)
 * is exactly a tag1 of the form above, else MLS_E_INVALID_MESSAGE. */
MLS_MUST_CHECK int mls_entropy_hedge_label_check(const uint8_t *label, size_t len);

/* Fills buf[0..len) (any len; 0 is a no-op). MLS_E_ENTROPY if the primary
 * failed (buf is then wiped), MLS_E_INVALID_ARGUMENT for NULL arguments. */
MLS_MUST_CHECK int mls_entropy_fill(struct mls_entropy *pool, uint8_t *buf, size_t len);

/* The pool as the engine's rng (mls/rng.h): fill = mls_entropy_fill.
 * Valid as long as the pool. */
const struct mls_rng *mls_entropy_rng(struct mls_entropy *pool);

struct mls_entropy_stats {
        uint64_t blocks;             /* extraction blocks so far (next counter) */
        uint64_t primary_failures;
        uint64_t secondary_pulls;    /* successful */
        uint64_t secondary_failures;
        uint64_t mixes;              /* mls_entropy_mix calls that succeeded */
        bool hedged;
        bool has_secondary;
};
void mls_entropy_get_stats(const struct mls_entropy *pool, struct mls_entropy_stats *ret_stats);

/*
 * One ratchet step, the pure function the pool runs per block (exposed so
 * tests can check the construction):
 *
 *   PRK = Extract(salt = hedge_key or empty, IKM = fresh || state)
 *   out[0..out_len) = Expand(PRK, MLS_ENTROPY_TAG_OUTPUT || u64(counter))
 *   new_state       = Expand(PRK, MLS_ENTROPY_TAG_STATE  || u64(counter))
 *
 * hedge_key: NULL or MLS_ENTROPY_STATE_LEN bytes. out_len: 1..32. new_state
 * may be the same buffer as state (the pool ratchets in place); out must not
 * overlap state, new_state or fresh. PRK and the concatenation are wiped.
 * new_state is written last, only on success: on failure out is wiped
 * (MLS_E_INVALID_ARGUMENT leaves it untouched) and new_state is untouched,
 * so an in-place ratchet that fails leaves the state as it was.
 */
MLS_MUST_CHECK int mls_entropy_ratchet(const uint8_t *hedge_key,
                                       const uint8_t state[MLS_ENTROPY_STATE_LEN],
                                       const uint8_t fresh[MLS_ENTROPY_FRESH_LEN],
                                       uint64_t counter, uint8_t *out, size_t out_len,
                                       uint8_t new_state[MLS_ENTROPY_STATE_LEN]);

#endif
