/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine (DESIGN.md section 2): every identity's public part and
 * external PSKs, the KeyPackage private halves, every group's state
 * (mls/group.h). It parses all untrusted MLS input and runs under the
 * engine's seccomp allowlist: two sockets, memory, randomness, the clock.
 *
 * It serves the broker one request at a time (pipelined by id) through the
 * op table of daemon/proto.h. Every state change is serialized, sealed by
 * the vault (engine -> vault request) and returned in the reply's writes,
 * which the broker makes durable before it answers its caller. Signatures
 * are vault requests too: the engine never holds a signature private key.
 *
 * Object plaintexts (sealed by the vault):
 *   IdentityMetadata (inside the vault's SealedIdentity):
 *     struct { uint8 format = 1; uint32 owner; uint32 uids<V>;
 *              uint32 gids<V>; uint16 cipher_suite;
 *              opaque credential_identity<V>; opaque signature_key<V>;
 *              opaque label<V>; uint8 tpm_bound;
 *              ExternalPsk psks<V>; } -- { opaque id<V>; opaque psk<V>; }
 *   key package and group: the wrappers of daemon/proto.h
 *     (mkd_wrap_encode): format 1 for key packages, format 2 (with the
 *     epoch clock of the automatic self-update) for groups;
 *     state: mls_key_package_priv_save / mls_group_save.
 */
#include "config.h"

#include "daemon/engine.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef MKD_TEST_OPS
#include <fcntl.h>
#include <sys/syscall.h>

#include "mls/group-internal.h"
#endif

#include "daemon/ipc.h"
#include "daemon/log.h"
#include "daemon/object.h"
#include "daemon/proto.h"
#include "daemon/sandbox.h"
#include "daemon/serve.h"
#include "mls/crypto.h"
#include "mls/entropy.h"
#include "mls/group.h"
#include "mls/messages.h"

#define OBJ_ID_LEN 16
_Static_assert(OBJ_ID_LEN == MKD_MANIFEST_ID_BYTES, "manifest entries hold engine object ids");
#define IDENTITY_FORMAT 1 /* IdentityMetadata.format */

struct engine;

struct eng_psk {
        struct mls_bytes id;
        struct mls_secret *value;
};

struct eng_identity {
        struct engine *e;
        uint8_t id[OBJ_ID_LEN];
        uint64_t version;
        uint32_t owner;
        uint32_t *uids;
        size_t n_uids;
        uint32_t *gids;
        size_t n_gids;
        const struct mls_suite *suite;
        struct mls_bytes pub;
        struct mls_bytes label;
        bool tpm;
        struct mls_credential cred; /* basic; identity = credential_identity */
        struct eng_psk *psks;
        size_t n_psks;
        struct mls_signer signer;
};

struct eng_kp {
        uint8_t id[OBJ_ID_LEN];
        uint8_t identity[OBJ_ID_LEN];
        uint64_t version;
        struct mls_key_package_priv *priv;
};

struct eng_group {
        uint8_t id[OBJ_ID_LEN];
        uint8_t identity[OBJ_ID_LEN];
        uint64_t version;
        struct mls_group *g;
        /* Sender reservation: the saved state resumes our own ratchets of
         * epoch res_epoch at generation res_until (see save_group). */
        uint64_t res_epoch;
        uint64_t res_until; /* 0: nothing reserved */
        /* The automatic self-update's clock (ms, CLOCK_REALTIME; see
         * h_self_update): when this daemon saw the group enter epoch
         * since_epoch (its current one once saved), and its last
         * self-update (0: none). Saved with the group (format 2). */
        uint64_t epoch_since;
        uint64_t since_epoch;
        uint64_t self_update_at;
};

/*
 * Application messages sent per durable write. Encrypt does not write the
 * group for every message: a write saves our own ratchets SEND_RESERVE
 * generations ahead (mls_group_save_ahead), and the messages of those
 * generations are then sent from memory. After a crash the group reloads
 * past them, so no generation (key and nonce) is ever used twice and every
 * acknowledged message stays acknowledged; receivers see a gap of at most
 * SEND_RESERVE generations, well inside their forward window
 * (max_forward_distance, 1000 by default). The saved ratchet secret is the
 * stepped one, so the state at rest cannot derive the reserved keys.
 */
#define SEND_RESERVE 128

/* One manifest entry: a stored object and its newest version.
 *   struct { uint8 type; opaque id[16]; uint64 version; } entries<V>;
 * in ascending (type, id) order. */
struct man_entry {
        uint8_t type;
        uint8_t id[OBJ_ID_LEN];
        uint64_t version;
};

/* The writes of one request. */
struct eng_write {
        uint8_t type;
        uint8_t id[OBJ_ID_LEN];
        uint64_t version;
        bool del;
        struct mls_bytes blob;
};

struct eng_writes {
        struct eng_write *v;
        size_t n;
};

struct engine {
        int broker_fd;
        int vault_fd;
        uint32_t vault_req_id;
        struct mkd_ipc_rbuf vault_rb;
        /* Guarded blocks for the frames and writers of every request. */
        struct mls_gpool *pool;
        struct mkd_op_gate gate;
        /* Rollback protection (the vault's ROLLBACK comment): the manifest
         * of every stored object, written with every write set. */
        bool rb;
        struct man_entry *man;
        size_t n_man;
        bool man_loaded;
        uint64_t man_version;
        unsigned man_deferred; /* non-critical write sets since the last manifest */
        /* All randomness of the engine (mls/entropy): getrandom, hedged by
         * the identities' keys through the vault (RFC 8937), and the
         * vault's pool (the TPM's RNG) mixed in at start and every
         * RANDOM_REFRESH requests. */
        struct mls_entropy *entropy;
        const struct mls_rng *rng;
        uint64_t hedges;
        uint64_t requests;
        struct eng_identity **ids;
        size_t n_ids;
        struct eng_kp **kps;
        size_t n_kps;
        struct eng_group **groups;
        size_t n_groups;
        size_t self_update_next; /* where the next SELF_UPDATE looks first */
#ifdef MKD_TEST_OPS
        /* --enable-test-ops: every secret this engine has held (see
         * test_journal_snapshot), a list of tagged values, secure memory. */
        struct mls_writer test_journal;
        size_t test_n;
#endif
};

/* ---- helpers ---- */

static void
writes_clear(struct eng_writes *w)
{
        for (size_t i = 0; i < w->n; i++)
                mls_bytes_clear(&w->v[i].blob);
        free(w->v);
        w->v = NULL;
        w->n = 0;
}

static int
writes_add(struct eng_writes *w, uint8_t type, const uint8_t id[OBJ_ID_LEN], uint64_t version,
           struct mls_bytes *blob)
{
        struct eng_write *nv = realloc(w->v, (w->n + 1) * sizeof(*nv));

        if (!nv)
                return MLS_E_NOMEM;
        w->v = nv;
        nv = &w->v[w->n++];
        memset(nv, 0, sizeof(*nv));
        nv->type = type;
        memcpy(nv->id, id, OBJ_ID_LEN);
        nv->version = version;
        if (blob) {
                nv->blob = *blob;
                *blob = (struct mls_bytes){ 0 };
        } else {
                nv->del = true;
        }
        return 0;
}

/* writes_add of a copy of a sealed blob the vault returned (val points
 * into the vault's reply frame). */
static int
writes_add_sealed(struct eng_writes *w, uint8_t type, const uint8_t id[OBJ_ID_LEN],
                  uint64_t version, const struct mkd_val *val)
{
        struct mls_bytes blob = { 0 };
        int r;

        MLS_TRY(mls_bytes_copy(&blob, val->p, val->len));
        r = writes_add(w, type, id, version, &blob);
        mls_bytes_clear(&blob); /* taken on success */
        return r;
}

static void
die_peer(const char *what, int r)
{
        mkd_log_code(MKD_LOG_ERR, r, "%s", what);
        _exit(1);
}

static int
random_id(struct engine *e, uint8_t id[OBJ_ID_LEN])
{
        return mls_rng_fill(e->rng, id, OBJ_ID_LEN);
}

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): the self-update's
 * clock, saved with the groups, so wall-clock time across restarts. */
static uint64_t
now_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
                return 0;
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Seconds since the Unix epoch (lifetimes, the hedge context). */
static uint64_t
now_seconds(void)
{
        return now_ms() / 1000;
}

static void
identity_free(struct eng_identity *idn)
{
        if (!idn)
                return;
        free(idn->uids);
        free(idn->gids);
        mls_bytes_clear(&idn->pub);
        mls_bytes_clear(&idn->label);
        mls_credential_clear(&idn->cred);
        for (size_t i = 0; i < idn->n_psks; i++) {
                mls_bytes_clear(&idn->psks[i].id);
                mls_secret_free(idn->psks[i].value);
        }
        free(idn->psks);
        free(idn);
}

static void
identity_freep(struct eng_identity **p)
{
        identity_free(*p);
}

static void
kp_free(struct eng_kp *k)
{
        if (!k)
                return;
        mls_key_package_priv_free(k->priv);
        free(k);
}

static void
group_free(struct eng_group *g)
{
        if (!g)
                return;
        mls_group_free(g->g);
        free(g);
}

/* The element of arr[0..n) (pointers to objects with an `id` of
 * OBJ_ID_LEN bytes) whose id is idp[0..len), or NULL. */
#define FIND_BY_ID(arr, n, idp, len)                                                    \
        __extension__({                                                                 \
                __typeof__((arr)[0]) f_ = NULL;                                         \
                for (size_t i_ = 0; (len) == OBJ_ID_LEN && i_ < (n) && !f_; i_++)       \
                        if (memcmp((arr)[i_]->id, (idp), OBJ_ID_LEN) == 0)              \
                                f_ = (arr)[i_];                                         \
                f_;                                                                     \
        })

static struct eng_identity *
find_identity(struct engine *e, const uint8_t *id, size_t len)
{
        return FIND_BY_ID(e->ids, e->n_ids, id, len);
}

static struct eng_group *
find_group(struct engine *e, const uint8_t *id, size_t len)
{
        return FIND_BY_ID(e->groups, e->n_groups, id, len);
}

static struct eng_kp *
find_kp(struct engine *e, const uint8_t *id, size_t len)
{
        return FIND_BY_ID(e->kps, e->n_kps, id, len);
}

/* The group of identity idn with this MLS group_id. */
static struct eng_group *
find_group_by_gid(struct engine *e, const uint8_t identity[OBJ_ID_LEN], const uint8_t *gid,
                  size_t len)
{
        for (size_t i = 0; i < e->n_groups; i++) {
                size_t l;
                const uint8_t *p = mls_group_id(e->groups[i]->g, &l);

                if (memcmp(e->groups[i]->identity, identity, OBJ_ID_LEN) == 0 && l == len &&
                    memcmp(p, gid, len) == 0)
                        return e->groups[i];
        }
        return NULL;
}

#define PUSH(arr, n, x)                                                         \
        ({                                                                      \
                __typeof__(arr) na_ = realloc((arr), ((n) + 1) * sizeof(*(arr))); \
                int rp_ = 0;                                                    \
                if (!na_)                                                       \
                        rp_ = MLS_E_NOMEM;                                       \
                else {                                                          \
                        (arr) = na_;                                            \
                        (arr)[(n)++] = (x);                                     \
                }                                                               \
                rp_;                                                            \
        })

static void
remove_at(void **arr, size_t *n, size_t i)
{
        arr[i] = arr[*n - 1];
        (*n)--;
}

/* ---- the vault channel ---- */

/* One synchronous request to the vault. On success *ret_frame holds the
 * reply (vals point into it). A vault error status is returned as its
 * code; a broken channel or a malformed reply ends the engine (the broker
 * restarts both children). */
static int
vault_call(struct engine *e, uint16_t opcode, const struct mkd_val *args,
           struct mkd_ipc_frame *ret_frame, struct mkd_val *ret_vals)
{
        const struct mkd_op *op = mkd_proto_vault_op(opcode);
        _mls_writer_ struct mls_writer a = { 0 }, w = { 0 };
        struct mkd_ipc_request req;
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_reply rep = { 0 };
        int r;

        mls_writer_init_pool(&a, e->pool);
        mls_writer_init_pool(&w, e->pool);
        MLS_TRY(mkd_proto_encode(&a, op->args, args));
        req = (struct mkd_ipc_request){
                .id = ++e->vault_req_id, .op = opcode, .caller_uid = 0,
                .args = a.buf, .args_len = a.len,
        };
        MLS_TRY(mkd_ipc_request_write(&w, &req));
        r = mkd_ipc_send_blocking(e->vault_fd, w.buf, w.len);
        if (r < 0)
                die_peer("the vault is gone", r);
        r = mkd_ipc_recv_blocking(&e->vault_rb, e->vault_fd, &f);
        if (r != MKD_IPC_FRAME)
                die_peer("reading from the vault", r < 0 ? r : MLS_E_IO);
        r = mkd_ipc_reply_parse(f.data, f.len, &rep);
        if (r < 0)
                die_peer("malformed reply from the vault", r);
        if (rep.id != req.id || rep.n_writes != 0) {
                mkd_ipc_reply_clear(&rep);
                die_peer("unexpected reply from the vault", MLS_E_INVALID_MESSAGE);
        }
        if (rep.status != 0) {
                r = mkd_ipc_err_from_status(rep.status);
                mkd_ipc_reply_clear(&rep);
                return r;
        }
        r = mkd_proto_decode(op->result, rep.result, rep.result_len, ret_vals);
        mkd_ipc_reply_clear(&rep);
        if (r < 0)
                die_peer("malformed result from the vault", r);
        *ret_frame = f;
        f = (struct mkd_ipc_frame){ 0 };
        return 0;
}

/* struct mls_signer callback: SignWithLabel by the vault. */
static int
vault_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
           struct mls_bytes *ret_sig)
{
        struct eng_identity *idn = ctx;
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val a[3], out[1];

        a[MKD_VG_ID] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
        a[MKD_VG_LABEL] = mkd_val_bytes((const uint8_t *)label, strlen(label));
        a[MKD_VG_CONTENT] = mkd_val_bytes(content, len);
        MLS_TRY(vault_call(idn->e, MKD_V_SIGN, a, &f, out));
        return mls_bytes_copy(ret_sig, out[0].p, out[0].len);
}

static int
env_external_psk(void *ctx, const uint8_t *psk_id, size_t len, struct mls_secret **ret_psk)
{
        struct eng_identity *idn = ctx;

        for (size_t i = 0; i < idn->n_psks; i++)
                if (idn->psks[i].id.len == len && memcmp(idn->psks[i].id.data, psk_id, len) == 0)
                        return mls_secret_dup(idn->psks[i].value, ret_psk);
        return MLS_E_UNKNOWN_PSK;
}

static const struct mls_group *
env_find_group(void *ctx, const uint8_t *group_id, size_t len)
{
        struct eng_identity *idn = ctx;
        struct eng_group *g = find_group_by_gid(idn->e, idn->id, group_id, len);

        return g ? g->g : NULL;
}

static void
make_env(struct eng_identity *idn, struct mls_env *env)
{
        *env = (struct mls_env){
                .rng = idn->e->rng,
                .signer = &idn->signer,
                .now = now_seconds(),
                .external_psk = env_external_psk,
                .find_group = env_find_group,
                .ctx = idn,
        };
}

static void
identity_init_signer(struct eng_identity *idn)
{
        idn->signer = (struct mls_signer){
                .sign = vault_sign, .ctx = idn, .pub = idn->pub.data, .pub_len = idn->pub.len,
        };
}

/* ---- object encodings ---- */

static int
identity_metadata(const struct eng_identity *idn, struct mls_writer *w)
{
        size_t mark;

        MLS_TRY(mls_writer_u8(w, IDENTITY_FORMAT));
        MLS_TRY(mls_writer_u32(w, idn->owner));
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (size_t i = 0; i < idn->n_uids; i++)
                MLS_TRY(mls_writer_u32(w, idn->uids[i]));
        MLS_TRY(mls_writer_vec_end(w, mark));
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (size_t i = 0; i < idn->n_gids; i++)
                MLS_TRY(mls_writer_u32(w, idn->gids[i]));
        MLS_TRY(mls_writer_vec_end(w, mark));
        MLS_TRY(mls_writer_u16(w, idn->suite->id));
        MLS_TRY(mls_writer_opaque(w, idn->cred.identity.data, idn->cred.identity.len));
        MLS_TRY(mls_writer_opaque(w, idn->pub.data, idn->pub.len));
        MLS_TRY(mls_writer_opaque(w, idn->label.data, idn->label.len));
        MLS_TRY(mls_writer_u8(w, idn->tpm ? 1 : 0));
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (size_t i = 0; i < idn->n_psks; i++) {
                MLS_TRY(mls_writer_opaque(w, idn->psks[i].id.data, idn->psks[i].id.len));
                MLS_TRY(mls_writer_opaque(w, idn->psks[i].value->data, idn->psks[i].value->len));
        }
        return mls_writer_vec_end(w, mark);
}

static int
read_u32_vec(struct mls_reader *r, uint32_t **ret, size_t *ret_n)
{
        struct mls_reader sub;
        _mls_free_ uint32_t *v = NULL;
        size_t n;

        MLS_TRY(mls_reader_vec(r, &sub));
        if (sub.left % 4 || sub.left / 4 > MKD_CAP_ACL)
                return MLS_E_BAD_STATE;
        n = sub.left / 4;
        if (n) {
                v = calloc(n, sizeof(*v));
                if (!v)
                        return MLS_E_NOMEM;
                for (size_t i = 0; i < n; i++)
                        MLS_TRY(mls_reader_u32(&sub, &v[i]));
        }
        *ret = MLS_TAKE(v);
        *ret_n = n;
        return 0;
}

static int
identity_from_metadata(struct engine *e, const uint8_t id[OBJ_ID_LEN], const uint8_t *p,
                       size_t len, struct eng_identity **ret)
{
        _mls_cleanup_(identity_freep) struct eng_identity *idn = NULL;
        struct mls_reader r, sub;
        uint8_t fmt, tpm;
        uint16_t suite;

        idn = calloc(1, sizeof(*idn));
        if (!idn)
                return MLS_E_NOMEM;
        idn->e = e;
        memcpy(idn->id, id, OBJ_ID_LEN);
        idn->cred.credential_type = MLS_CREDENTIAL_BASIC;
        mls_reader_init(&r, p, len);
        MLS_TRY(mls_reader_u8(&r, &fmt));
        if (fmt != IDENTITY_FORMAT)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u32(&r, &idn->owner));
        MLS_TRY(read_u32_vec(&r, &idn->uids, &idn->n_uids));
        MLS_TRY(read_u32_vec(&r, &idn->gids, &idn->n_gids));
        MLS_TRY(mls_reader_u16(&r, &suite));
        idn->suite = mls_suite_get(suite);
        if (!idn->suite)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_opaque(&r, &idn->cred.identity));
        MLS_TRY(mls_reader_opaque(&r, &idn->pub));
        MLS_TRY(mls_reader_opaque(&r, &idn->label));
        MLS_TRY(mls_reader_u8(&r, &tpm));
        if (tpm > 1)
                return MLS_E_BAD_STATE;
        idn->tpm = tpm;
        MLS_TRY(mls_reader_vec(&r, &sub));
        while (!mls_reader_empty(&sub)) {
                struct eng_psk psk = { 0 };
                int x;

                MLS_TRY(mls_reader_opaque(&sub, &psk.id));
                x = mls_reader_opaque_secret(&sub, &psk.value);
                if (x == 0)
                        x = PUSH(idn->psks, idn->n_psks, psk);
                if (x < 0) {
                        mls_bytes_clear(&psk.id);
                        mls_secret_free(psk.value);
                        return x;
                }
        }
        MLS_TRY(mls_reader_done(&r));
        identity_init_signer(idn);
        *ret = MLS_TAKE(idn);
        return 0;
}

/* A key package: {format 1, identity, state} (daemon/proto.h). */
static int
wrap_state(const uint8_t identity[OBJ_ID_LEN], const struct mls_secret *state,
           struct mls_writer *w)
{
        const struct mkd_wrapped o = {
                .identity = identity, .identity_len = OBJ_ID_LEN,
                .state = state->data, .state_len = state->len,
        };

        return mkd_wrap_encode(w, &o);
}

/* A group: {format 2, identity, state, epoch_since, self_update_at}. */
static int
wrap_group(const struct eng_group *g, const struct mls_writer *state, struct mls_writer *w)
{
        const struct mkd_wrapped o = {
                .identity = g->identity, .identity_len = OBJ_ID_LEN,
                .state = state->buf, .state_len = state->len,
                .has_times = true, .epoch_since = g->epoch_since,
                .self_update_at = g->self_update_at,
        };

        return mkd_wrap_encode(w, &o);
}

static int
unwrap_state(const uint8_t *p, size_t len, struct mkd_wrapped *ret)
{
        struct mkd_wrapped o;

        MLS_TRY(mkd_wrap_decode(p, len, &o));
        if (o.identity_len != OBJ_ID_LEN)
                return MLS_E_BAD_STATE;
        *ret = o;
        return 0;
}

/* ---- sealing writes ---- */

static int
seal_object(struct engine *e, uint8_t type, const uint8_t id[OBJ_ID_LEN], uint64_t version,
            const struct mls_writer *pt, struct eng_writes *wl)
{
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val a[4], out[1];
        int r;

        a[MKD_VX_TYPE] = mkd_val_u(type);
        a[MKD_VX_ID] = mkd_val_bytes(id, OBJ_ID_LEN);
        a[MKD_VX_VERSION] = mkd_val_u(version);
        a[MKD_VX_DATA] = mkd_val_bytes(pt->buf, pt->len);
        r = vault_call(e, MKD_V_SEAL, a, &f, out);
        if (r < 0)
                die_peer("the vault refused to seal", r);
        return writes_add_sealed(wl, type, id, version, &out[0]);
}

static int
save_group_ex(struct engine *e, struct eng_group *g, bool reserve, struct eng_writes *wl)
{
        _mls_writer_ struct mls_writer state = { 0 }, w = { 0 };
        uint64_t epoch = mls_group_epoch(g->g), next;
        uint32_t ahead = 0;

        /* Guarded blocks from the engine's pool: a save allocates nothing. */
        mls_writer_init_pool(&state, e->pool);
        mls_writer_init_pool(&w, e->pool);
        /* Keep what is reserved (a save must never move the saved ratchet
         * back below a generation already handed out), or reserve anew. */
        MLS_TRY(mls_group_own_generation(g->g, &next));
        if (reserve)
                ahead = SEND_RESERVE;
        else if (g->res_epoch == epoch && g->res_until > next)
                ahead = g->res_until - next < SEND_RESERVE ? (uint32_t)(g->res_until - next)
                                                           : SEND_RESERVE;
        /* A new epoch (or a new group): the self-update's clock starts. */
        if (g->epoch_since == 0 || g->since_epoch != epoch) {
                g->epoch_since = now_ms();
                g->since_epoch = epoch;
        }
        MLS_TRY(mls_group_save_ahead_to(g->g, ahead, &state));
        MLS_TRY(wrap_group(g, &state, &w));
        MLS_TRY(seal_object(e, MKD_OBJ_GROUP, g->id, ++g->version, &w, wl));
        g->res_epoch = epoch;
        g->res_until = next + ahead;
        return 0;
}

static int
save_group(struct engine *e, struct eng_group *g, struct eng_writes *wl)
{
        return save_group_ex(e, g, false, wl);
}

static int
save_kp(struct engine *e, struct eng_kp *k, struct eng_writes *wl)
{
        _mls_secret_ struct mls_secret *state = NULL;
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init_secure(&w);
        MLS_TRY(mls_key_package_priv_save(k->priv, &state));
        MLS_TRY(wrap_state(k->identity, state, &w));
        return seal_object(e, MKD_OBJ_KEYPACKAGE, k->id, ++k->version, &w, wl);
}

static int
save_identity(struct engine *e, struct eng_identity *idn, struct eng_writes *wl)
{
        _mls_writer_ struct mls_writer md = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val a[3], out[1];
        int r;

        mls_writer_init_secure(&md);
        MLS_TRY(identity_metadata(idn, &md));
        a[MKD_VS_ID] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
        a[MKD_VS_VERSION] = mkd_val_u(idn->version + 1);
        a[MKD_VS_METADATA] = mkd_val_bytes(md.buf, md.len);
        r = vault_call(e, MKD_V_IDENTITY_SEAL, a, &f, out);
        if (r < 0)
                die_peer("the vault refused to seal an identity", r);
        idn->version++;
        return writes_add_sealed(wl, MKD_OBJ_IDENTITY, idn->id, idn->version, &out[0]);
}

/* ---- result encodings ---- */

static int
encode_identity_info(const struct eng_identity *idn, struct mls_bytes *ret)
{
        _mls_writer_ struct mls_writer w = { 0 }, uids = { 0 }, gids = { 0 };
        struct mkd_val v[MKD_II_N];

        mls_writer_init(&w);
        mls_writer_init(&uids);
        mls_writer_init(&gids);
        for (size_t i = 0; i < idn->n_uids; i++)
                MLS_TRY(mkd_list_u32_append(&uids, idn->uids[i]));
        for (size_t i = 0; i < idn->n_gids; i++)
                MLS_TRY(mkd_list_u32_append(&gids, idn->gids[i]));
        v[MKD_II_ID] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
        v[MKD_II_OWNER] = mkd_val_u(idn->owner);
        v[MKD_II_UIDS] = mkd_val_list(uids.buf, uids.len, idn->n_uids);
        v[MKD_II_GIDS] = mkd_val_list(gids.buf, gids.len, idn->n_gids);
        v[MKD_II_SUITE] = mkd_val_u(idn->suite->id);
        v[MKD_II_CREDENTIAL] = mkd_val_bytes(idn->cred.identity.data, idn->cred.identity.len);
        v[MKD_II_PUB] = mkd_val_bytes(idn->pub.data, idn->pub.len);
        v[MKD_II_LABEL] = mkd_val_bytes(idn->label.data, idn->label.len);
        v[MKD_II_TPM] = mkd_val_u(idn->tpm);
        MLS_TRY(mkd_proto_encode(&w, mkd_schema_identity_info, v));
        return mls_writer_finish(&w, ret);
}

static int
encode_summary(const struct eng_group *g, struct mls_bytes *ret)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_bytes auth = { 0 };
        struct mkd_val v[MKD_GS_N];
        const uint8_t *gid;
        size_t gid_len;
        int r;

        mls_writer_init(&w);
        gid = mls_group_id(g->g, &gid_len);
        MLS_TRY(mls_group_epoch_authenticator(g->g, &auth));
        v[MKD_GS_ID] = mkd_val_bytes(g->id, OBJ_ID_LEN);
        v[MKD_GS_IDENTITY] = mkd_val_bytes(g->identity, OBJ_ID_LEN);
        v[MKD_GS_GROUP_ID] = mkd_val_bytes(gid, gid_len);
        v[MKD_GS_SUITE] = mkd_val_u(mls_group_suite(g->g)->id);
        v[MKD_GS_EPOCH] = mkd_val_u(mls_group_epoch(g->g));
        v[MKD_GS_OWN_LEAF] = mkd_val_u(mls_group_own_leaf(g->g));
        v[MKD_GS_PENDING] = mkd_val_u(mls_group_has_pending(g->g));
        v[MKD_GS_REMOVED] = mkd_val_u(mls_group_is_removed(g->g));
        v[MKD_GS_AUTH] = mkd_val_bytes(auth.data, auth.len);
        r = mkd_proto_encode(&w, mkd_schema_group_summary, v);
        mls_bytes_clear(&auth);
        MLS_TRY(r);
        return mls_writer_finish(&w, ret);
}

/* Result = summary + one blob. */
static int
result_summary_bytes(const struct mkd_op *op, const struct eng_group *g, const uint8_t *p,
                     size_t len, struct mls_writer *res)
{
        struct mls_bytes s = { 0 };
        struct mkd_val v[2];
        int r;

        MLS_TRY(encode_summary(g, &s));
        v[0] = mkd_val_bytes(s.data, s.len);
        v[1] = mkd_val_bytes(p, len);
        r = mkd_proto_encode(res, op->result, v);
        mls_bytes_clear(&s);
        return r;
}

static int
result_summary(const struct mkd_op *op, const struct eng_group *g, struct mls_writer *res)
{
        struct mls_bytes s = { 0 };
        struct mkd_val v[1];
        int r;

        MLS_TRY(encode_summary(g, &s));
        v[0] = mkd_val_bytes(s.data, s.len);
        r = mkd_proto_encode(res, op->result, v);
        mls_bytes_clear(&s);
        return r;
}

/* ---- request context ---- */

struct req {
        struct engine *e;
        const struct mkd_op *op;
        uint32_t uid;
        const struct mkd_val *a;
        struct mls_writer *res;
        struct eng_writes *wl;
        /* Its writes need a new rollback counter value (all but the
         * receipt of application messages). */
        bool critical;
};

static int
req_identity(struct req *q, size_t field, struct eng_identity **ret)
{
        struct eng_identity *idn = find_identity(q->e, q->a[field].p, q->a[field].len);

        if (!idn)
                return MLS_E_NOT_FOUND;
        *ret = idn;
        return 0;
}

static int
req_group(struct req *q, struct eng_group **ret_g, struct eng_identity **ret_idn)
{
        struct eng_group *g = find_group(q->e, q->a[MKD_GR_GROUP].p, q->a[MKD_GR_GROUP].len);
        struct eng_identity *idn;

        if (!g)
                return MLS_E_NOT_FOUND;
        idn = find_identity(q->e, g->identity, OBJ_ID_LEN);
        if (!idn)
                return MLS_E_NOT_FOUND;
        *ret_g = g;
        *ret_idn = idn;
        return 0;
}

/* Group options at a[base..]: max_past_epochs, ... (MKD_GO_*). */
static int
group_options(const struct mkd_val *go, struct mls_group_options *o)
{
        mls_group_options_default(o);
        o->max_past_epochs = (uint32_t)go[MKD_GO_MAX_PAST_EPOCHS].u;
        o->max_past_generations = (uint32_t)go[MKD_GO_MAX_PAST_GENERATIONS].u;
        o->max_forward_distance = (uint32_t)go[MKD_GO_MAX_FORWARD_DISTANCE].u;
        o->handshake_private = go[MKD_GO_HANDSHAKE_PRIVATE].u != 0;
        if (o->max_past_epochs > MLS_GROUP_MAX_PAST_EPOCHS_LIMIT)
                return MLS_E_INVALID_ARGUMENT;
        return 0;
}

/* GroupContext extensions from the create options: external_senders (a
 * list of encoded ExternalSender structs) and required_capabilities. */
static int
group_extensions(const struct mkd_val *go, struct mls_extension_list *ext)
{
        if (go[MKD_GO_EXTERNAL_SENDERS].n) {
                _mls_writer_ struct mls_writer w = { 0 };
                struct mkd_list_iter it;
                const uint8_t *p;
                size_t len, mark;
                struct mls_external_senders es = { 0 };
                const struct mls_extension *x;
                int r;

                mls_writer_init(&w);
                MLS_TRY(mls_writer_vec_begin(&w, &mark));
                mkd_list_iter_init(&it, &go[MKD_GO_EXTERNAL_SENDERS]);
                while (mkd_list_next_bytes(&it, &p, &len))
                        MLS_TRY(mls_writer_raw(&w, p, len));
                MLS_TRY(mls_writer_vec_end(&w, mark));
                MLS_TRY(mls_extension_list_add(ext, MLS_EXT_EXTERNAL_SENDERS, w.buf, w.len));
                x = mls_extension_list_find(ext, MLS_EXT_EXTERNAL_SENDERS);
                r = mls_extension_get_external_senders(x, &es);
                if (r < 0)
                        return MLS_E_INVALID_ARGUMENT;
                mls_external_senders_clear(&es); /* only checked */
        }
        if (go[MKD_GO_REQUIRED_CAPABILITIES].len) {
                struct mls_required_capabilities rc = { 0 };
                int r = mls_required_capabilities_from_bytes(go[MKD_GO_REQUIRED_CAPABILITIES].p,
                                                             go[MKD_GO_REQUIRED_CAPABILITIES].len,
                                                             &rc);

                if (r < 0)
                        return MLS_E_INVALID_ARGUMENT;
                mls_required_capabilities_clear(&rc);
                MLS_TRY(mls_extension_list_add(ext, MLS_EXT_REQUIRED_CAPABILITIES,
                                               go[MKD_GO_REQUIRED_CAPABILITIES].p,
                                               go[MKD_GO_REQUIRED_CAPABILITIES].len));
        }
        return 0;
}

/* A list value of opaque elements as an array of borrowed mls_bytes
 * (views; only .data/.len are set, never freed). */
static int
list_views(const struct mkd_val *list, struct mls_bytes **ret)
{
        struct mkd_list_iter it;
        struct mls_bytes *v;
        const uint8_t *p;
        size_t len, i = 0;

        v = calloc(list->n ? list->n : 1, sizeof(*v));
        if (!v)
                return MLS_E_NOMEM;
        mkd_list_iter_init(&it, list);
        while (i < list->n && mkd_list_next_bytes(&it, &p, &len)) {
                v[i].data = (uint8_t *)p;
                v[i].len = len;
                i++;
        }
        *ret = v;
        return 0;
}

static int
add_group(struct engine *e, struct eng_identity *idn, struct mls_group **g,
          struct eng_group **ret)
{
        struct eng_group *ng = calloc(1, sizeof(*ng));
        const uint8_t *gid;
        size_t len;
        int r;

        if (!ng)
                return MLS_E_NOMEM;
        gid = mls_group_id(*g, &len);
        if (find_group_by_gid(e, idn->id, gid, len)) {
                free(ng);
                return MLS_E_GROUP_EXISTS;
        }
        r = random_id(e, ng->id);
        if (r == 0)
                r = PUSH(e->groups, e->n_groups, ng);
        if (r < 0) {
                free(ng);
                return r;
        }
        memcpy(ng->identity, idn->id, OBJ_ID_LEN);
        ng->g = MLS_TAKE(*g);
        *ret = ng;
        return 0;
}

static void
drop_group(struct engine *e, struct eng_group *g)
{
        for (size_t i = 0; i < e->n_groups; i++)
                if (e->groups[i] == g) {
                        remove_at((void **)e->groups, &e->n_groups, i);
                        break;
                }
        group_free(g);
}

/* ---- handlers ---- */

/* ---- entropy ---- */

#define RANDOM_REFRESH 4096

/* RFC 8937: the vault signs a fresh tag1 with the identity's key; the
 * first signature keys the hedge, later ones are mixed in. A failure is
 * logged and leaves the pool working (getrandom is still fresh input). */
static void
entropy_hedge(struct engine *e, const struct eng_identity *idn)
{
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        uint8_t rnd[MLS_ENTROPY_HEDGE_RANDOM_LEN], ctx[MLS_ENTROPY_CONTEXT_MAX];
        struct mls_bytes label = { 0 };
        struct mkd_val a[2], out[1];
        size_t n;
        int r;

        n = (size_t)snprintf((char *)ctx, sizeof(ctx), "engine pid=%ld t=%llu ", (long)getpid(),
                             (unsigned long long)now_seconds());
        if (n + idn->pub.len <= sizeof(ctx)) {
                memcpy(ctx + n, idn->pub.data, idn->pub.len);
                n += idn->pub.len;
        }
        r = mls_rng_fill(e->rng, rnd, sizeof(rnd));
        if (r == 0)
                r = mls_entropy_hedge_label(e->hedges++, rnd, ctx, n, &label);
        if (r == 0) {
                a[MKD_VH_ID] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
                a[MKD_VH_LABEL] = mkd_val_bytes(label.data, label.len);
                r = vault_call(e, MKD_V_HEDGE, a, &f, out);
        }
        if (r == 0)
                r = mls_entropy_add_hedge(e->entropy, out[0].p, out[0].len);
        mls_bytes_clear(&label);
        if (r < 0)
                mkd_log_code(MKD_LOG_WARNING, r, "hedging the entropy pool");
}

/* The vault's pool output (with the TPM's RNG) into ours. */
static void
entropy_from_vault(struct engine *e)
{
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val out[1];
        int r = vault_call(e, MKD_V_RANDOM, NULL, &f, out);

        if (r == 0)
                r = mls_entropy_mix(e->entropy, "vault", out[0].p, out[0].len);
        if (r < 0)
                mkd_log_code(MKD_LOG_WARNING, r, "mixing the vault's randomness");
}

/* ---- manifest ---- */

/* Receipts of application messages per manifest write (the vault's
 * ROLLBACK comment). */
#define MANIFEST_BATCH 64

static int
man_cmp(uint8_t type, const uint8_t *id, const struct man_entry *m)
{
        if (type != m->type)
                return type < m->type ? -1 : 1;
        return memcmp(id, m->id, OBJ_ID_LEN);
}

/* The entry of (type, id), or the insertion position in *ret_pos. */
static struct man_entry *
man_find(struct engine *e, uint8_t type, const uint8_t *id, size_t *ret_pos)
{
        size_t lo = 0, hi = e->n_man;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = man_cmp(type, id, &e->man[mid]);

                if (c == 0)
                        return &e->man[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (ret_pos)
                *ret_pos = lo;
        return NULL;
}

static int
man_set(struct engine *e, uint8_t type, const uint8_t *id, uint64_t version, bool del)
{
        size_t pos = 0;
        struct man_entry *m = man_find(e, type, id, &pos), *nm;

        if (m && del) {
                pos = (size_t)(m - e->man);
                memmove(m, m + 1, (e->n_man - pos - 1) * sizeof(*m));
                e->n_man--;
                return 0;
        }
        if (m) {
                m->version = version;
                return 0;
        }
        if (del)
                return 0;
        nm = realloc(e->man, (e->n_man + 1) * sizeof(*nm));
        if (!nm)
                return MLS_E_NOMEM;
        e->man = nm;
        memmove(&e->man[pos + 1], &e->man[pos], (e->n_man - pos) * sizeof(*nm));
        e->man[pos] = (struct man_entry){ .type = type, .version = version };
        memcpy(e->man[pos].id, id, OBJ_ID_LEN);
        e->n_man++;
        return 0;
}

static int
man_decode_entry(void *ud, uint8_t type, const uint8_t *id, uint64_t version)
{
        return man_set(ud, type, id, version, false);
}

static int
man_decode(struct engine *e, const uint8_t *p, size_t len)
{
        return mkd_manifest_decode(p, len, man_decode_entry, e);
}

/* The manifest in memory follows a request's writes. */
static int
man_apply(struct engine *e, const struct eng_writes *wl)
{
        for (size_t i = 0; i < wl->n; i++)
                MLS_TRY(man_set(e, wl->v[i].type, wl->v[i].id, wl->v[i].version, wl->v[i].del));
        return 0;
}

/* After a request's writes: the manifest that lists them, sealed under
 * the rollback counter by the vault, appended as the set's last write. */
static int
man_write(struct engine *e, struct eng_writes *wl)
{
        static const uint8_t zero_id[OBJ_ID_LEN];
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_val a[2], out[1];
        size_t mark;

        mls_writer_init(&w);
        MLS_TRY(man_apply(e, wl));
        MLS_TRY(mls_writer_vec_begin(&w, &mark));
        for (size_t i = 0; i < e->n_man; i++)
                MLS_TRY(mkd_manifest_entry_encode(&w, e->man[i].type, e->man[i].id,
                                                  e->man[i].version));
        MLS_TRY(mls_writer_vec_end(&w, mark));
        a[MKD_VM_VERSION] = mkd_val_u(e->man_version + 1);
        a[MKD_VM_DATA] = mkd_val_bytes(w.buf, w.len);
        MLS_TRY(vault_call(e, MKD_V_MANIFEST_SEAL, a, &f, out));
        e->man_version++;
        return writes_add_sealed(wl, MKD_OBJ_MANIFEST, zero_id, e->man_version, &out[0]);
}

/* Loading: an object older than its manifest entry, or missing from the
 * manifest, is a rollback of that file. (Newer is fine: a crash between
 * the object's write and the manifest's.) */
static int
man_check(struct engine *e, uint8_t type, const uint8_t *id, uint64_t version)
{
        struct man_entry *m;

        if (!e->man_loaded)
                return 0;
        m = man_find(e, type, id, NULL);
        if (!m) {
                mkd_log_err("rollback detected: a %s object that the manifest does not list "
                            "(deleted, or restored from an old copy)",
                            mkd_obj_type_name(type));
                return MLS_E_ROLLBACK;
        }
        if (version < m->version) {
                mkd_log_err("rollback detected: a %s object of version %llu, the manifest says "
                            "%llu",
                            mkd_obj_type_name(type), (unsigned long long)version,
                            (unsigned long long)m->version);
                return MLS_E_ROLLBACK;
        }
        /* Newer: the next manifest lists what is on disk now. */
        m->version = version;
        return 0;
}

/* Rollback protection without a manifest yet (the key was just sealed,
 * or the counter never moved): the first manifest lists every object that
 * loaded, not only those of the first write set. */
static int
man_from_loaded(struct engine *e)
{
        for (size_t i = 0; i < e->n_ids; i++)
                MLS_TRY(man_set(e, MKD_OBJ_IDENTITY, e->ids[i]->id, e->ids[i]->version, false));
        for (size_t i = 0; i < e->n_kps; i++)
                MLS_TRY(man_set(e, MKD_OBJ_KEYPACKAGE, e->kps[i]->id, e->kps[i]->version, false));
        for (size_t i = 0; i < e->n_groups; i++)
                MLS_TRY(man_set(e, MKD_OBJ_GROUP, e->groups[i]->id, e->groups[i]->version, false));
        return 0;
}

static int
h_load(struct req *q)
{
        struct engine *e = q->e;
        const struct mkd_val *a = q->a;
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val va[4], out[3];
        struct mkd_wrapped wr;

        if (a[MKD_LOAD_ID].len != OBJ_ID_LEN)
                return MLS_E_BAD_STATE;
        if (a[MKD_LOAD_TYPE].u == MKD_OBJ_MANIFEST) {
                int r;

                va[MKD_VO_VERSION] = a[MKD_LOAD_VERSION];
                va[MKD_VO_BLOB] = a[MKD_LOAD_BLOB];
                r = vault_call(e, MKD_V_MANIFEST_OPEN, va, &f, out);
                if (r == MLS_E_NOT_FOUND)
                        return 0; /* no rollback protection: a stale manifest */
                MLS_TRY(r);
                e->n_man = 0;
                r = man_decode(e, out[0].p, out[0].len);
                if (r < 0) {
                        e->n_man = 0;
                        return r;
                }
                e->man_loaded = true;
                e->man_version = a[MKD_LOAD_VERSION].u;
                return 0;
        }
        MLS_TRY(man_check(e, (uint8_t)a[MKD_LOAD_TYPE].u, a[MKD_LOAD_ID].p,
                          a[MKD_LOAD_VERSION].u));
        switch (a[MKD_LOAD_TYPE].u) {
        case MKD_OBJ_IDENTITY: {
                struct eng_identity *idn = NULL;
                int r;

                if (find_identity(e, a[MKD_LOAD_ID].p, OBJ_ID_LEN))
                        return MLS_E_BAD_STATE;
                va[MKD_VL_ID] = a[MKD_LOAD_ID];
                va[MKD_VL_VERSION] = a[MKD_LOAD_VERSION];
                va[MKD_VL_BLOB] = a[MKD_LOAD_BLOB];
                MLS_TRY(vault_call(e, MKD_V_IDENTITY_LOAD, va, &f, out));
                MLS_TRY(identity_from_metadata(e, a[MKD_LOAD_ID].p, out[MKD_VLR_METADATA].p,
                                               out[MKD_VLR_METADATA].len, &idn));
                idn->version = a[MKD_LOAD_VERSION].u;
                if (idn->suite->id != out[MKD_VLR_SUITE].u || idn->pub.len != out[MKD_VLR_PUB].len ||
                    memcmp(idn->pub.data, out[MKD_VLR_PUB].p, idn->pub.len) != 0) {
                        identity_free(idn);
                        return MLS_E_BAD_STATE;
                }
                r = PUSH(e->ids, e->n_ids, idn);
                if (r < 0)
                        identity_free(idn);
                return r;
        }
        case MKD_OBJ_KEYPACKAGE:
        case MKD_OBJ_GROUP: {
                va[MKD_VX_TYPE] = a[MKD_LOAD_TYPE];
                va[MKD_VX_ID] = a[MKD_LOAD_ID];
                va[MKD_VX_VERSION] = a[MKD_LOAD_VERSION];
                va[MKD_VX_DATA] = a[MKD_LOAD_BLOB];
                MLS_TRY(vault_call(e, MKD_V_UNSEAL, va, &f, out));
                MLS_TRY(unwrap_state(out[0].p, out[0].len, &wr));
                if (!find_identity(e, wr.identity, OBJ_ID_LEN))
                        return MLS_E_NOT_FOUND; /* its identity is gone or refused */
                if (a[MKD_LOAD_TYPE].u == MKD_OBJ_KEYPACKAGE) {
                        struct eng_kp *k;
                        int r;

                        if (wr.has_times)
                                return MLS_E_BAD_STATE; /* a group's format */
                        k = calloc(1, sizeof(*k));
                        if (!k)
                                return MLS_E_NOMEM;
                        r = mls_key_package_priv_load(wr.state, wr.state_len, &k->priv);
                        if (r == 0)
                                r = PUSH(e->kps, e->n_kps, k);
                        if (r < 0) {
                                kp_free(k);
                                return r;
                        }
                        memcpy(k->id, a[MKD_LOAD_ID].p, OBJ_ID_LEN);
                        memcpy(k->identity, wr.identity, OBJ_ID_LEN);
                        k->version = a[MKD_LOAD_VERSION].u;
                } else {
                        struct eng_group *g;
                        int r;

                        if (find_group(e, a[MKD_LOAD_ID].p, OBJ_ID_LEN))
                                return MLS_E_BAD_STATE;
                        g = calloc(1, sizeof(*g));
                        if (!g)
                                return MLS_E_NOMEM;
                        r = mls_group_load(wr.state, wr.state_len, &g->g);
                        if (r == 0)
                                r = PUSH(e->groups, e->n_groups, g);
                        if (r < 0) {
                                group_free(g);
                                return r;
                        }
                        memcpy(g->id, a[MKD_LOAD_ID].p, OBJ_ID_LEN);
                        memcpy(g->identity, wr.identity, OBJ_ID_LEN);
                        g->version = a[MKD_LOAD_VERSION].u;
                        /* The saved clock is that of the saved epoch. A
                         * format-1 group (written before the clock was
                         * kept) starts it now. */
                        g->since_epoch = mls_group_epoch(g->g);
                        g->epoch_since = wr.has_times && wr.epoch_since ? wr.epoch_since : now_ms();
                        g->self_update_at = wr.has_times ? wr.self_update_at : 0;
                }
                return 0;
        }
        default:
                return MLS_E_BAD_STATE;
        }
}

static int
h_load_done(struct req *q)
{
        struct engine *e = q->e;
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        _mls_writer_ struct mls_writer ids = { 0 }, groups = { 0 };
        struct mkd_val v[2];

        mls_writer_init(&ids);
        mls_writer_init(&groups);
        MLS_TRY(vault_call(e, MKD_V_LOAD_DONE, NULL, &f, v));
        e->rb = v[MKD_VD_ROLLBACK].u != 0;
        if (e->rb && !e->man_loaded)
                MLS_TRY(man_from_loaded(e));
        entropy_from_vault(e);
        for (size_t i = 0; i < e->n_ids; i++)
                entropy_hedge(e, e->ids[i]);
        if (e->man_loaded) {
                size_t missing = 0;

                for (size_t i = 0; i < e->n_man; i++) {
                        const struct man_entry *m = &e->man[i];
                        bool here = m->type == MKD_OBJ_IDENTITY
                                            ? find_identity(e, m->id, OBJ_ID_LEN) != NULL
                                    : m->type == MKD_OBJ_GROUP
                                            ? find_group(e, m->id, OBJ_ID_LEN) != NULL
                                            : find_kp(e, m->id, OBJ_ID_LEN) != NULL;

                        missing += !here;
                }
                if (missing)
                        mkd_log_warning("the manifest lists %zu object(s) that did not load "
                                        "(missing or refused files)",
                                        missing);
        }
        for (size_t i = 0; i < e->n_ids; i++) {
                struct mls_bytes b = { 0 };
                int r;

                MLS_TRY(encode_identity_info(e->ids[i], &b));
                r = mkd_list_bytes_append(&ids, b.data, b.len);
                mls_bytes_clear(&b);
                MLS_TRY(r);
        }
        for (size_t i = 0; i < e->n_groups; i++) {
                struct mls_bytes b = { 0 };
                int r;

                MLS_TRY(encode_summary(e->groups[i], &b));
                r = mkd_list_bytes_append(&groups, b.data, b.len);
                mls_bytes_clear(&b);
                MLS_TRY(r);
        }
        v[MKD_IDX_IDENTITIES] = mkd_val_list(ids.buf, ids.len, e->n_ids);
        v[MKD_IDX_GROUPS] = mkd_val_list(groups.buf, groups.len, e->n_groups);
        return mkd_proto_encode(q->res, q->op->result, v);
}

static int
result_identity(struct req *q, const struct eng_identity *idn)
{
        struct mls_bytes b = { 0 };
        struct mkd_val v[1];
        int r;

        MLS_TRY(encode_identity_info(idn, &b));
        v[0] = mkd_val_bytes(b.data, b.len);
        r = mkd_proto_encode(q->res, q->op->result, v);
        mls_bytes_clear(&b);
        return r;
}

static int
h_create_identity(struct req *q)
{
        struct engine *e = q->e;
        const struct mkd_val *a = q->a;
        _mls_cleanup_(identity_freep) struct eng_identity *idn = NULL;
        _mls_writer_ struct mls_writer md = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val va[4], out[2];
        struct eng_identity *p;

        mls_writer_init_secure(&md);
        idn = calloc(1, sizeof(*idn));
        if (!idn)
                return MLS_E_NOMEM;
        idn->e = e;
        idn->suite = mls_suite_get((uint16_t)a[MKD_CI_SUITE].u);
        if (!idn->suite)
                return MLS_E_UNSUPPORTED;
        MLS_TRY(random_id(e, idn->id));
        idn->owner = q->uid;
        idn->version = 1;
        /* A TPM-resident key (suite 2 only; the vault refuses otherwise). */
        idn->tpm = a[MKD_CI_TPM].u != 0;
        idn->cred.credential_type = MLS_CREDENTIAL_BASIC;
        MLS_TRY(mls_bytes_copy(&idn->cred.identity, a[MKD_CI_CREDENTIAL].p, a[MKD_CI_CREDENTIAL].len));
        MLS_TRY(mls_bytes_copy(&idn->label, a[MKD_CI_LABEL].p, a[MKD_CI_LABEL].len));
        /* The metadata names the public key, which the vault makes: seal
         * a first version without it, then reseal once it is known. */
        MLS_TRY(identity_metadata(idn, &md));
        va[MKD_VC_ID] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
        va[MKD_VC_SUITE] = mkd_val_u(idn->suite->id);
        va[MKD_VC_METADATA] = mkd_val_bytes(md.buf, md.len);
        va[MKD_VC_TPM] = mkd_val_u(idn->tpm);
        MLS_TRY(vault_call(e, MKD_V_IDENTITY_CREATE, va, &f, out));
        MLS_TRY(mls_bytes_copy(&idn->pub, out[MKD_VCR_PUB].p, out[MKD_VCR_PUB].len));
        identity_init_signer(idn);
        entropy_hedge(e, idn);
        /* Version 1 (without the public key) is superseded at once by
         * version 2; only version 2 is written. */
        MLS_TRY(save_identity(e, idn, q->wl));
        MLS_TRY(result_identity(q, idn));
        p = idn;
        MLS_TRY(PUSH(e->ids, e->n_ids, p));
        idn = NULL;
        return 0;
}

static int
h_generate_key_packages(struct req *q)
{
        struct engine *e = q->e;
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        _mls_writer_ struct mls_writer list = { 0 };
        struct mls_env env;
        struct mkd_val v[1];
        uint64_t now = now_seconds();
        size_t count = a[MKD_KP_COUNT].u;

        mls_writer_init(&list);
        MLS_TRY(req_identity(q, MKD_KP_IDENTITY, &idn));
        if (count == 0 || count > MKD_CAP_COUNT)
                return MLS_E_INVALID_ARGUMENT;
        make_env(idn, &env);
        for (size_t i = 0; i < count; i++) {
                struct mls_key_package_params p = {
                        .leaf = { .credential = &idn->cred, .not_before = now,
                                  .not_after = now + a[MKD_KP_LIFETIME].u },
                        .last_resort = a[MKD_KP_LAST_RESORT].u != 0,
                };
                struct mls_bytes msg = { 0 };
                struct eng_kp *k = calloc(1, sizeof(*k));
                int r;

                if (!k)
                        return MLS_E_NOMEM;
                r = mls_key_package_create(idn->suite, &p, &env, &msg, &k->priv);
                if (r == 0)
                        r = random_id(e, k->id);
                if (r == 0)
                        r = mkd_list_bytes_append(&list, msg.data, msg.len);
                mls_bytes_clear(&msg);
                if (r == 0)
                        r = PUSH(e->kps, e->n_kps, k);
                if (r < 0) {
                        kp_free(k);
                        return r;
                }
                memcpy(k->identity, idn->id, OBJ_ID_LEN);
                MLS_TRY(save_kp(e, k, q->wl));
        }
        v[0] = mkd_val_list(list.buf, list.len, count);
        return mkd_proto_encode(q->res, q->op->result, v);
}

static int
h_create_group(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        struct mls_group_options o;
        struct mls_extension_list ext = { 0 };
        _mls_group_ struct mls_group *g = NULL;
        struct mls_leaf_params leaf;
        struct eng_group *ng;
        struct mls_env env;
        int r;

        MLS_TRY(req_identity(q, MKD_CG_IDENTITY, &idn));
        MLS_TRY(group_options(&a[MKD_CG_OPTS], &o));
        if (find_group_by_gid(q->e, idn->id, a[MKD_CG_GROUP_ID].p, a[MKD_CG_GROUP_ID].len))
                return MLS_E_GROUP_EXISTS;
        r = group_extensions(&a[MKD_CG_OPTS], &ext);
        make_env(idn, &env);
        leaf = (struct mls_leaf_params){ .credential = &idn->cred };
        if (r == 0)
                r = mls_group_create(idn->suite, a[MKD_CG_GROUP_ID].p, a[MKD_CG_GROUP_ID].len, &leaf,
                                     ext.n ? &ext : NULL, &o, &env, &g);
        mls_extension_list_clear(&ext);
        MLS_TRY(r);
        MLS_TRY(add_group(q->e, idn, &g, &ng));
        MLS_TRY(save_group(q->e, ng, q->wl));
        return result_summary(q->op, ng, q->res);
}

static int
h_join_group(struct req *q)
{
        struct engine *e = q->e;
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        struct mls_group_options o;
        _mls_group_ struct mls_group *g = NULL;
        _mls_free_ struct mls_key_package_priv **kps = NULL;
        _mls_free_ struct eng_kp **owners = NULL;
        struct eng_group *ng;
        struct mls_env env;
        size_t n = 0, used = 0;

        MLS_TRY(req_identity(q, MKD_JG_IDENTITY, &idn));
        MLS_TRY(group_options(&a[MKD_JG_OPTS], &o));
        kps = calloc(e->n_kps + 1, sizeof(*kps));
        owners = calloc(e->n_kps + 1, sizeof(*owners));
        if (!kps || !owners)
                return MLS_E_NOMEM;
        for (size_t i = 0; i < e->n_kps; i++)
                if (memcmp(e->kps[i]->identity, idn->id, OBJ_ID_LEN) == 0) {
                        owners[n] = e->kps[i];
                        kps[n++] = e->kps[i]->priv;
                }
        if (n == 0)
                return MLS_E_KEY_PACKAGE_NOT_FOUND;
        make_env(idn, &env);
        MLS_TRY(mls_group_join(a[MKD_JG_WELCOME].p, a[MKD_JG_WELCOME].len,
                               a[MKD_JG_TREE].len ? a[MKD_JG_TREE].p : NULL, a[MKD_JG_TREE].len,
                               kps, n, &o, &env, &g, &used));
        MLS_TRY(add_group(e, idn, &g, &ng));
        MLS_TRY(save_group(e, ng, q->wl));
        /* The Welcome consumed the KeyPackage (unless last resort). */
        if (used < n && !mls_key_package_priv_last_resort(owners[used]->priv)) {
                struct eng_kp *k = owners[used];

                MLS_TRY(writes_add(q->wl, MKD_OBJ_KEYPACKAGE, k->id, k->version + 1, NULL));
                for (size_t i = 0; i < e->n_kps; i++)
                        if (e->kps[i] == k) {
                                remove_at((void **)e->kps, &e->n_kps, i);
                                break;
                        }
                kp_free(k);
        }
        return result_summary(q->op, ng, q->res);
}

static int
h_join_external(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        struct mls_group_options o;
        _mls_group_ struct mls_group *g = NULL;
        _mls_free_ struct mls_bytes *psks = NULL;
        struct mls_bytes commit = { 0 };
        struct mls_external_join_params p;
        struct eng_group *ng;
        struct mls_env env;
        int r;

        MLS_TRY(req_identity(q, MKD_JX_IDENTITY, &idn));
        MLS_TRY(group_options(&a[MKD_JX_OPTS], &o));
        MLS_TRY(list_views(&a[MKD_JX_PSK_IDS], &psks));
        p = (struct mls_external_join_params){
                .leaf = { .credential = &idn->cred },
                .psk_ids = psks,
                .n_psk_ids = a[MKD_JX_PSK_IDS].n,
                .remove_prior = a[MKD_JX_REMOVE_PRIOR].u != 0,
                .prior_leaf = (uint32_t)a[MKD_JX_PRIOR_LEAF].u,
        };
        make_env(idn, &env);
        MLS_TRY(mls_group_join_external(a[MKD_JX_GROUP_INFO].p, a[MKD_JX_GROUP_INFO].len,
                                        a[MKD_JX_TREE].len ? a[MKD_JX_TREE].p : NULL,
                                        a[MKD_JX_TREE].len, &p, &o, &env, &g, &commit));
        r = add_group(q->e, idn, &g, &ng);
        if (r == 0)
                r = save_group(q->e, ng, q->wl);
        if (r == 0)
                r = result_summary_bytes(q->op, ng, commit.data, commit.len, q->res);
        mls_bytes_clear(&commit);
        return r;
}

static int
h_store_psk(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        struct eng_psk psk = { 0 };
        int r;

        MLS_TRY(req_identity(q, MKD_SP_IDENTITY, &idn));
        if (a[MKD_SP_PSK_ID].len == 0 || a[MKD_SP_PSK].len == 0)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < idn->n_psks; i++)
                if (idn->psks[i].id.len == a[MKD_SP_PSK_ID].len &&
                    memcmp(idn->psks[i].id.data, a[MKD_SP_PSK_ID].p, a[MKD_SP_PSK_ID].len) == 0) {
                        struct mls_secret *nv = NULL;

                        MLS_TRY(mls_secret_from(a[MKD_SP_PSK].p, a[MKD_SP_PSK].len, &nv));
                        mls_secret_free(idn->psks[i].value);
                        idn->psks[i].value = nv;
                        return save_identity(q->e, idn, q->wl);
                }
        r = mls_bytes_copy(&psk.id, a[MKD_SP_PSK_ID].p, a[MKD_SP_PSK_ID].len);
        if (r == 0)
                r = mls_secret_from(a[MKD_SP_PSK].p, a[MKD_SP_PSK].len, &psk.value);
        if (r == 0)
                r = PUSH(idn->psks, idn->n_psks, psk);
        if (r < 0) {
                mls_bytes_clear(&psk.id);
                mls_secret_free(psk.value);
                return r;
        }
        return save_identity(q->e, idn, q->wl);
}

static int
copy_u32_list(const struct mkd_val *l, uint32_t **ret, size_t *ret_n)
{
        struct mkd_list_iter it;
        uint32_t *v = NULL, x;
        size_t n = 0;

        if (l->n) {
                v = calloc(l->n, sizeof(*v));
                if (!v)
                        return MLS_E_NOMEM;
        }
        mkd_list_iter_init(&it, l);
        while (n < l->n && mkd_list_next_u32(&it, &x))
                v[n++] = x;
        *ret = v;
        *ret_n = n;
        return 0;
}

static int
h_set_access(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_identity *idn;
        uint32_t *uids = NULL, *gids = NULL;
        size_t nu = 0, ng = 0;
        int r;

        MLS_TRY(req_identity(q, MKD_SA_IDENTITY, &idn));
        r = copy_u32_list(&a[MKD_SA_UIDS], &uids, &nu);
        if (r == 0)
                r = copy_u32_list(&a[MKD_SA_GIDS], &gids, &ng);
        if (r < 0) {
                free(uids);
                return r;
        }
        free(idn->uids);
        free(idn->gids);
        idn->uids = uids;
        idn->n_uids = nu;
        idn->gids = gids;
        idn->n_gids = ng;
        MLS_TRY(save_identity(q->e, idn, q->wl));
        return result_identity(q, idn);
}

static int
h_delete_identity(struct req *q)
{
        struct engine *e = q->e;
        struct eng_identity *idn;
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val va[1], out[1];
        int r;

        MLS_TRY(req_identity(q, MKD_SA_IDENTITY, &idn));
        /* Groups and key packages first, the identity last: a crash in
         * between leaves an identity without them, never orphans. */
        for (size_t i = e->n_groups; i-- > 0;)
                if (memcmp(e->groups[i]->identity, idn->id, OBJ_ID_LEN) == 0) {
                        MLS_TRY(writes_add(q->wl, MKD_OBJ_GROUP, e->groups[i]->id,
                                           e->groups[i]->version + 1, NULL));
                        drop_group(e, e->groups[i]);
                }
        for (size_t i = e->n_kps; i-- > 0;)
                if (memcmp(e->kps[i]->identity, idn->id, OBJ_ID_LEN) == 0) {
                        struct eng_kp *k = e->kps[i];

                        MLS_TRY(writes_add(q->wl, MKD_OBJ_KEYPACKAGE, k->id, k->version + 1, NULL));
                        remove_at((void **)e->kps, &e->n_kps, i);
                        kp_free(k);
                }
        MLS_TRY(writes_add(q->wl, MKD_OBJ_IDENTITY, idn->id, idn->version + 1, NULL));
        va[0] = mkd_val_bytes(idn->id, OBJ_ID_LEN);
        r = vault_call(e, MKD_V_IDENTITY_FORGET, va, &f, out);
        if (r < 0)
                die_peer("the vault refused to forget a key", r);
        for (size_t i = 0; i < e->n_ids; i++)
                if (e->ids[i] == idn) {
                        remove_at((void **)e->ids, &e->n_ids, i);
                        break;
                }
        identity_free(idn);
        return 0;
}

static int
h_encrypt(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_bytes aad, msg = { 0 };
        struct mls_env env;
        uint64_t gen;
        bool reserved;
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        MLS_TRY(mls_group_own_generation(g->g, &gen));
        aad = (struct mls_bytes){ .data = (uint8_t *)a[MKD_EN_AAD].p, .len = a[MKD_EN_AAD].len };
        MLS_TRY(mls_group_encrypt(g->g, &env, a[MKD_EN_PLAINTEXT].p, a[MKD_EN_PLAINTEXT].len,
                                  aad.len ? &aad : NULL, &msg));
        /* Durable before the reply only when generation gen was not
         * reserved by an earlier write (see SEND_RESERVE). */
        reserved = g->res_epoch == mls_group_epoch(g->g) && gen < g->res_until;
        r = reserved ? 0 : save_group_ex(q->e, g, true, q->wl);
        if (r == 0)
                r = result_summary_bytes(q->op, g, msg.data, msg.len, q->res);
        /* A failed request drops its writes: forget a reservation that
         * was not stored. */
        if (r < 0 && !reserved)
                g->res_until = 0;
        mls_bytes_clear(&msg);
        return r;
}

static int
u32_list_val(const struct mls_u32_list *l, struct mls_writer *w, struct mkd_val *v)
{
        for (size_t i = 0; i < l->n; i++)
                MLS_TRY(mkd_list_u32_append(w, l->v[i]));
        *v = mkd_val_list(w->buf, w->len, l->n);
        return 0;
}

static int
h_process(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_process_result pr = { 0 };
        struct mls_env env;
        struct mls_bytes s = { 0 };
        _mls_writer_ struct mls_writer added = { 0 }, removed = { 0 };
        struct mkd_val v[10];
        int r;

        mls_writer_init(&added);
        mls_writer_init(&removed);
        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        MLS_TRY(mls_group_process(g->g, &env, a[MKD_PR_MESSAGE].p, a[MKD_PR_MESSAGE].len, &pr));
        /* A received application message: replaying it after a rollback
         * would only accept it again (no key reuse, no epoch): batched. */
        q->critical = pr.content_type != MLS_CONTENT_APPLICATION;
        r = save_group(q->e, g, q->wl);
        if (r == 0)
                r = encode_summary(g, &s);
        if (r == 0)
                r = u32_list_val(&pr.added, &added, &v[MKD_PRR_ADDED]);
        if (r == 0)
                r = u32_list_val(&pr.removed_leaves, &removed, &v[MKD_PRR_REMOVED_LEAVES]);
        if (r == 0) {
                v[MKD_PRR_SUMMARY] = mkd_val_bytes(s.data, s.len);
                v[MKD_PRR_CONTENT_TYPE] = mkd_val_u(pr.content_type);
                v[MKD_PRR_CONTENT] = mkd_val_bytes(pr.content.data, pr.content.len);
                v[MKD_PRR_SENDER_TYPE] = mkd_val_u(pr.sender_type);
                v[MKD_PRR_SENDER_INDEX] = mkd_val_u(pr.sender_index);
                v[MKD_PRR_EPOCH] = mkd_val_u(pr.epoch);
                v[MKD_PRR_AAD] = mkd_val_bytes(pr.authenticated_data.data, pr.authenticated_data.len);
                v[MKD_PRR_REMOVED] = mkd_val_u(pr.removed);
                r = mkd_proto_encode(q->res, q->op->result, v);
        }
        mls_bytes_clear(&s);
        mls_process_result_clear(&pr);
        return r;
}

static void
proposals_free(struct mls_proposal *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                mls_proposal_clear(&p[i]);
        free(p);
}

static int
h_commit(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_env env;
        struct mls_commit_params p = { 0 };
        struct mls_proposal *props = NULL;
        _mls_free_ struct mls_bytes *kps = NULL;
        _mls_free_ uint32_t *leaves = NULL;
        struct mls_bytes commit = { 0 }, welcome = { 0 }, s = { 0 };
        struct mkd_val v[3];
        size_t n_leaves = 0, n_props = 0;
        int r = 0;

        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        MLS_TRY(list_views(&a[MKD_CM_KEY_PACKAGES], &kps));
        MLS_TRY(copy_u32_list(&a[MKD_CM_LEAVES], &leaves, &n_leaves));
        if (a[MKD_CM_PSK_IDS].n) {
                struct mkd_list_iter it;
                const uint8_t *pid;
                size_t plen;

                props = calloc(a[MKD_CM_PSK_IDS].n, sizeof(*props));
                if (!props)
                        return MLS_E_NOMEM;
                mkd_list_iter_init(&it, &a[MKD_CM_PSK_IDS]);
                while (r == 0 && mkd_list_next_bytes(&it, &pid, &plen)) {
                        r = mls_group_make_psk_external(g->g, &env, pid, plen, &props[n_props]);
                        if (r == 0)
                                n_props++;
                }
        }
        p.proposals = props;
        p.n_proposals = n_props;
        p.inline_tree = a[MKD_CM_INLINE_TREE].u != 0;
        p.force_path = a[MKD_CM_FORCE_PATH].u != 0;
        /* R-11-2 (the downgrade guard of the creator's first Add): "best" is
         * the creator's preference. A daemon identity has one signature key
         * and so exactly one cipher suite (every other suite that key could
         * serve has the same security level): the group's suite is the best
         * the creator can offer, and the guard checks the version and that
         * every added member supports it. */
        p.suite_preference = &idn->suite->id;
        p.n_suite_preference = 1;
        if (r == 0) {
                switch (a[MKD_CM_KIND].u) {
                case MKD_COMMIT_COMMIT:
                        r = mls_group_commit(g->g, &env, &p, &commit, &welcome);
                        break;
                case MKD_COMMIT_ADD:
                        r = mls_group_add(g->g, &env, kps, a[MKD_CM_KEY_PACKAGES].n, &p, &commit,
                                          &welcome);
                        break;
                case MKD_COMMIT_REMOVE:
                        r = mls_group_remove(g->g, &env, leaves, n_leaves, &p, &commit);
                        break;
                case MKD_COMMIT_UPDATE:
                        r = mls_group_update(g->g, &env, &p, &commit);
                        break;
                default:
                        r = MLS_E_INVALID_ARGUMENT;
                }
        }
        proposals_free(props, n_props);
        if (r == 0)
                r = save_group(q->e, g, q->wl);
        if (r == 0)
                r = encode_summary(g, &s);
        if (r == 0) {
                v[MKD_CMR_SUMMARY] = mkd_val_bytes(s.data, s.len);
                v[MKD_CMR_COMMIT] = mkd_val_bytes(commit.data, commit.len);
                v[MKD_CMR_WELCOME] = mkd_val_bytes(welcome.data, welcome.len);
                r = mkd_proto_encode(q->res, q->op->result, v);
        }
        mls_bytes_clear(&s);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        return r;
}

static int
h_merge_clear(struct req *q)
{
        struct eng_group *g;
        struct eng_identity *idn;

        MLS_TRY(req_group(q, &g, &idn));
        if (q->op->op == MKD_E_MERGE)
                MLS_TRY(mls_group_merge_pending(g->g, NULL));
        else
                MLS_TRY(mls_group_clear_pending(g->g));
        MLS_TRY(save_group(q->e, g, q->wl));
        return result_summary(q->op, g, q->res);
}

static int
h_propose(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_proposal p = { 0 };
        struct mls_bytes msg = { 0 };
        struct mls_env env;
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        switch (a[MKD_PP_TYPE].u) {
        case MKD_PROP_ADD:
                r = mls_group_make_add(g->g, &env, a[MKD_PP_KEY_PACKAGE].p, a[MKD_PP_KEY_PACKAGE].len,
                                       &p);
                break;
        case MKD_PROP_REMOVE:
                r = mls_group_make_remove(g->g, (uint32_t)a[MKD_PP_LEAF].u, &p);
                break;
        case MKD_PROP_UPDATE:
                r = 1;
                break;
        case MKD_PROP_EXTERNAL_PSK:
                r = mls_group_make_psk_external(g->g, &env, a[MKD_PP_PSK_ID].p, a[MKD_PP_PSK_ID].len,
                                                &p);
                break;
        case MKD_PROP_RESUMPTION_PSK:
                r = mls_group_make_psk_resumption(g->g, &env, a[MKD_PP_GROUP_ID].p,
                                                  a[MKD_PP_GROUP_ID].len, a[MKD_PP_EPOCH].u, &p);
                break;
        case MKD_PROP_GROUP_CONTEXT_EXTENSIONS:
                r = mls_group_make_group_context_extensions(a[MKD_PP_EXTENSIONS].p,
                                                            a[MKD_PP_EXTENSIONS].len, &p);
                break;
        case MKD_PROP_REINIT:
                r = mls_group_make_reinit(a[MKD_PP_GROUP_ID].p, a[MKD_PP_GROUP_ID].len,
                                          (uint16_t)a[MKD_PP_SUITE].u, a[MKD_PP_EXTENSIONS].p,
                                          a[MKD_PP_EXTENSIONS].len, &p);
                break;
        default:
                r = MLS_E_INVALID_ARGUMENT;
        }
        if (r == 1)
                r = mls_group_propose_update(g->g, &env, NULL, NULL, &msg, NULL);
        else if (r == 0)
                r = mls_group_propose(g->g, &env, &p, NULL, &msg, NULL);
        mls_proposal_clear(&p);
        if (r == 0)
                r = save_group(q->e, g, q->wl);
        if (r == 0)
                r = result_summary_bytes(q->op, g, msg.data, msg.len, q->res);
        mls_bytes_clear(&msg);
        return r;
}

static int
h_reinit_branch(struct req *q)
{
        const struct mkd_val *a = q->a;
        const bool branch = q->op->op == MKD_E_BRANCH;
        const struct mkd_val *kpv = &a[branch ? MKD_BR_KEY_PACKAGES : MKD_RI_KEY_PACKAGES];
        struct eng_group *g, *ng;
        struct eng_identity *idn;
        struct mls_group_options o;
        _mls_free_ struct mls_bytes *kps = NULL;
        _mls_group_ struct mls_group *newg = NULL;
        struct mls_bytes welcome = { 0 };
        struct mls_leaf_params leaf;
        struct mls_env env;
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        MLS_TRY(group_options(&a[branch ? MKD_BR_OPTS : MKD_RI_OPTS], &o));
        MLS_TRY(list_views(kpv, &kps));
        make_env(idn, &env);
        leaf = (struct mls_leaf_params){ .credential = &idn->cred };
        if (branch) {
                if (find_group_by_gid(q->e, idn->id, a[MKD_BR_GROUP_ID].p, a[MKD_BR_GROUP_ID].len))
                        return MLS_E_GROUP_EXISTS;
                MLS_TRY(mls_group_branch(g->g, &env, a[MKD_BR_GROUP_ID].p, a[MKD_BR_GROUP_ID].len,
                                         &leaf, kps, kpv->n, &o, &newg, &welcome));
        } else {
                struct mls_reinit ri = { 0 };

                MLS_TRY(mls_group_reinit_params(g->g, &ri));
                r = ri.cipher_suite == idn->suite->id ? 0 : MLS_E_UNSUPPORTED;
                mls_reinit_clear(&ri);
                /* The identity's one key is of its own suite. */
                MLS_TRY(r);
                MLS_TRY(mls_group_reinit(g->g, &env, &leaf, kps, kpv->n, &o, &newg, &welcome));
        }
        r = add_group(q->e, idn, &newg, &ng);
        if (r == 0)
                r = save_group(q->e, ng, q->wl);
        if (r == 0)
                r = result_summary_bytes(q->op, ng, welcome.data, welcome.len, q->res);
        mls_bytes_clear(&welcome);
        return r;
}

static int
h_group_info(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_bytes gi = { 0 };
        struct mls_env env;
        struct mkd_val v[1];
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        MLS_TRY(mls_group_group_info(g->g, &env, a[MKD_GI_EXTERNAL_PUB].u != 0,
                                     a[MKD_GI_INLINE_TREE].u != 0, &gi));
        v[0] = mkd_val_bytes(gi.data, gi.len);
        r = mkd_proto_encode(q->res, q->op->result, v);
        mls_bytes_clear(&gi);
        return r;
}

static int
h_ratchet_tree(struct req *q)
{
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_bytes t = { 0 };
        struct mkd_val v[1];
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        MLS_TRY(mls_group_ratchet_tree(g->g, &t));
        v[0] = mkd_val_bytes(t.data, t.len);
        r = mkd_proto_encode(q->res, q->op->result, v);
        mls_bytes_clear(&t);
        return r;
}

static int
h_export(struct req *q)
{
        const struct mkd_val *a = q->a;
        struct eng_group *g;
        struct eng_identity *idn;
        _mls_secret_ struct mls_secret *s = NULL;
        struct mkd_val v[1];

        MLS_TRY(req_group(q, &g, &idn));
        if (a[MKD_EX_LENGTH].u == 0 || a[MKD_EX_LENGTH].u > MKD_CAP_EXPORT_LEN)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_group_export(g->g, a[MKD_EX_LABEL].p, a[MKD_EX_LABEL].len, a[MKD_EX_CONTEXT].p,
                                 a[MKD_EX_CONTEXT].len, a[MKD_EX_LENGTH].u, &s));
        v[0] = mkd_val_bytes(s->data, s->len);
        return mkd_proto_encode(q->res, q->op->result, v);
}

static int
h_leave(struct req *q)
{
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_bytes msg = { 0 };
        struct mls_env env;
        int r;

        MLS_TRY(req_group(q, &g, &idn));
        make_env(idn, &env);
        MLS_TRY(mls_group_leave(g->g, &env, &msg));
        r = save_group(q->e, g, q->wl);
        if (r == 0)
                r = result_summary_bytes(q->op, g, msg.data, msg.len, q->res);
        mls_bytes_clear(&msg);
        return r;
}

static int
h_delete_group(struct req *q)
{
        struct eng_group *g;
        struct eng_identity *idn;

        MLS_TRY(req_group(q, &g, &idn));
        MLS_TRY(writes_add(q->wl, MKD_OBJ_GROUP, g->id, g->version + 1, NULL));
        drop_group(q->e, g);
        return 0;
}

static int
h_members(struct req *q)
{
        struct eng_group *g;
        struct eng_identity *idn;
        struct mls_group_member *m = NULL;
        _mls_writer_ struct mls_writer list = { 0 }, rec = { 0 };
        struct mkd_val v[MKD_MB_N];
        size_t n = 0;
        int r = 0;

        mls_writer_init(&list);
        mls_writer_init(&rec);
        MLS_TRY(req_group(q, &g, &idn));
        MLS_TRY(mls_group_members(g->g, &m, &n));
        for (size_t i = 0; r == 0 && i < n; i++) {
                v[MKD_MB_LEAF] = mkd_val_u(m[i].leaf);
                v[MKD_MB_IDENTITY] = mkd_val_bytes(m[i].identity.data, m[i].identity.len);
                v[MKD_MB_KEY] = mkd_val_bytes(m[i].signature_key.data, m[i].signature_key.len);
                rec.len = 0;
                r = mkd_proto_encode(&rec, mkd_schema_member, v);
                if (r == 0)
                        r = mkd_list_bytes_append(&list, rec.buf, rec.len);
        }
        mls_group_members_free(m, n);
        MLS_TRY(r);
        v[0] = mkd_val_list(list.buf, list.len, n);
        return mkd_proto_encode(q->res, q->op->result, v);
}

/* ---- automatic self-update ---- */

/*
 * The [update] timer of the policy (post-compromise security, DESIGN.md
 * section 7): the broker asks every so often (MKD_E_SELF_UPDATE, no
 * caller), the engine makes an Update commit with path in each group that
 * is due, exactly as Group.Update does, and leaves it pending: only the
 * application can deliver it (the broker signals SelfUpdateReady), then
 * merge or clear it.
 *
 * Due: the group's current epoch began at least interval ago (epoch_since:
 * creation, join, merge of our commit, processing of another's), no
 * automatic self-update in the last interval (self_update_at: a cleared
 * one waits another interval; a failed one is not retried before), and the
 * member can commit: not removed, not closed by a ReInit, no pending
 * commit, no cached proposal (an Update commit would commit them too,
 * behind the application's back).
 *
 * Clock jumps (CLOCK_REALTIME, saved across restarts): a timestamp in the
 * future, the clock having gone back, is pulled back to now, so a group
 * waits at most one interval of the new clock; a jump forward makes at most
 * one self-update per group, after which self_update_at holds the next one
 * back for an interval.
 */
#define SELF_UPDATE_REPLY_BUDGET ((size_t)24 << 20) /* bytes of commits and writes */

static bool
self_update_due(struct eng_group *g, uint64_t now, uint64_t interval)
{
        struct mls_reinit ri = { 0 };

        if (g->epoch_since > now)
                g->epoch_since = now;
        if (g->self_update_at > now)
                g->self_update_at = now;
        if (now - g->epoch_since < interval)
                return false;
        if (g->self_update_at && now - g->self_update_at < interval)
                return false;
        if (mls_group_is_removed(g->g) || mls_group_has_pending(g->g) ||
            mls_group_proposal_count(g->g) != 0)
                return false;
        /* R-12.4.2-19: nothing more is sent in a group after its ReInit. */
        if (mls_group_reinit_params(g->g, &ri) == 0) {
                mls_reinit_clear(&ri);
                return false;
        }
        return true;
}

static size_t
writes_bytes(const struct eng_writes *wl)
{
        size_t n = 0;

        for (size_t i = 0; i < wl->n; i++)
                n += wl->v[i].blob.len + 64;
        return n;
}

/* One group's self-update: 1 and a record appended to list, 0 if the
 * commit could not be made (nothing changed; retried an interval later),
 * or an error (the commit may be pending in memory: the caller clears it). */
static int
self_update_one(struct req *q, struct eng_group *g, uint64_t now, struct mls_writer *list)
{
        const struct mls_commit_params p = { .inline_tree = true };
        struct eng_identity *idn = find_identity(q->e, g->identity, OBJ_ID_LEN);
        _mls_writer_ struct mls_writer rec = { 0 };
        struct mls_bytes commit = { 0 }, s = { 0 };
        struct mkd_val v[MKD_SU_N];
        struct mls_env env;
        int r;

        mls_writer_init(&rec);
        g->self_update_at = now;
        if (!idn)
                return 0;
        make_env(idn, &env);
        r = mls_group_update(g->g, &env, &p, &commit);
        if (r < 0) {
                mkd_log_code(MKD_LOG_DEBUG, r, "automatic self-update");
                return 0;
        }
        r = save_group(q->e, g, q->wl);
        if (r == 0)
                r = encode_summary(g, &s);
        if (r == 0) {
                v[MKD_SU_SUMMARY] = mkd_val_bytes(s.data, s.len);
                v[MKD_SU_COMMIT] = mkd_val_bytes(commit.data, commit.len);
                r = mkd_proto_encode(&rec, mkd_schema_self_update, v);
        }
        if (r == 0)
                r = mkd_list_bytes_append(list, rec.buf, rec.len);
        mls_bytes_clear(&s);
        mls_bytes_clear(&commit);
        return r < 0 ? r : 1;
}

static int
h_self_update(struct req *q)
{
        struct engine *e = q->e;
        const uint64_t interval = q->a[MKD_SUA_INTERVAL_MS].u, max = q->a[MKD_SUA_MAX_GROUPS].u;
        const uint64_t now = now_ms();
        const size_t n_groups = e->n_groups, start = n_groups ? e->self_update_next % n_groups : 0;
        struct eng_group *made[MKD_SELF_UPDATE_BATCH];
        _mls_writer_ struct mls_writer list = { 0 };
        struct mkd_val v[2];
        size_t n = 0;
        bool more = false;
        int r = 0;

        mls_writer_init(&list);
        if (interval == 0 || max == 0 || max > MKD_SELF_UPDATE_BATCH)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t k = 0; now && r >= 0 && k < n_groups; k++) {
                size_t i = (start + k) % n_groups;
                struct eng_group *g = e->groups[i];

                if (!self_update_due(g, now, interval))
                        continue;
                /* Bounded work per request: other callers wait behind it. */
                if (n == max || list.len + writes_bytes(q->wl) >= SELF_UPDATE_REPLY_BUDGET) {
                        more = true;
                        e->self_update_next = i;
                        break;
                }
                r = self_update_one(q, g, now, &list);
                if (r > 0)
                        made[n++] = g;
                else if (r < 0 && mls_group_has_pending(g->g))
                        made[n++] = g;
        }
        if (r >= 0) {
                v[MKD_SUR_UPDATES] = mkd_val_list(list.buf, list.len, n);
                v[MKD_SUR_MORE] = mkd_val_u(more);
                r = mkd_proto_encode(q->res, q->op->result, v);
        }
        if (r < 0) {
                /* The writes are dropped: no commit may stay pending in
                 * memory that the state at rest and the caller never saw. */
                for (size_t i = 0; i < n; i++) {
                        int x = mls_group_clear_pending(made[i]->g);

                        if (x < 0)
                                mkd_log_code(MKD_LOG_ERR, x, "undoing a self-update");
                }
                return r;
        }
        return 0;
}

#ifdef MKD_TEST_OPS
/* Test.ForbiddenSyscall (--enable-test-ops builds only): a system call the engine's filter
 * forbids (opening a file), so that the integration test sees the kernel
 * kill the engine with SIGSYS and the broker restart it. Returns only
 * when no filter is loaded ([sandbox] seccomp = off, or log). */
static int
h_test_forbidden_syscall(struct req *q)
{
        long fd;

        (void)q;
        fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                close((int)fd);
        mkd_log_err("test op: the forbidden openat returned %ld: no seccomp filter?", fd);
        return MLS_E_INTERNAL;
}

/*
 * The secret journal of the secret-scan integration test (--enable-test-ops
 * builds only). Why the engine keeps it: the test must know every secret
 * the daemon held during a recorded conversation to search the bus capture
 * for it, and only the engine holds them (the state files are sealed with
 * the vault's key). After every successful op the engine adds what it holds
 * now: every value of every epoch-secrets object (current, pending, past;
 * not the epoch authenticator, which is a public property), the HPKE
 * private keys of its leaf and path (current and pending), own Update leaf
 * keys, and the init and leaf private keys of its KeyPackages, plus the
 * exporter output MLS-Exporter("itest", "context", 32) of every epoch (the
 * test asks for exactly one of them). The test fetches the journal with
 * Test.Secrets only after it has stopped recording, so the journal itself
 * never appears in the capture. Signature private keys are in the vault,
 * never here (not covered). Records: one tag byte, then the value.
 */
enum {
        TJ_EPOCH = 'K',  /* + the mls_ks_secret index byte */
        TJ_HPKE = 'P',   /* leaf or path private key */
        TJ_UPDATE = 'U', /* own Update proposal's leaf key */
        TJ_INIT = 'I',   /* KeyPackage init key */
        TJ_LEAF = 'L',   /* KeyPackage leaf encryption key */
        TJ_EXPORT = 'X', /* MLS-Exporter("itest", "context", 32) */
};

static int
tj_add(struct engine *e, uint8_t tag, uint8_t sub, const uint8_t *p, size_t n)
{
        uint8_t rec[2 + 256];
        struct mkd_val list = mkd_val_list(e->test_journal.buf, e->test_journal.len, e->test_n);
        struct mkd_list_iter it;
        const uint8_t *q;
        size_t ql;
        int r;

        if (!p || n == 0 || n > 256)
                return 0;
        rec[0] = tag;
        rec[1] = sub;
        memcpy(rec + 2, p, n);
        mkd_list_iter_init(&it, &list);
        while (mkd_list_next_bytes(&it, &q, &ql))
                if (ql == n + 2 && memcmp(q, rec, ql) == 0) {
                        mls_wipe(rec, sizeof(rec));
                        return 0;
                }
        r = mkd_list_bytes_append(&e->test_journal, rec, n + 2);
        mls_wipe(rec, sizeof(rec));
        if (r == 0)
                e->test_n++;
        return r;
}

static int
tj_ks(struct engine *e, const struct mls_epoch_secrets *ks)
{
        size_t nh;
        uint8_t out[32];
        int r;

        if (!ks)
                return 0;
        nh = mls_ks_secret_len(ks);
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                if (i != MLS_KS_EPOCH_AUTHENTICATOR && mls_ks_has(ks, (enum mls_ks_secret)i))
                        MLS_TRY(tj_add(e, TJ_EPOCH, (uint8_t)i, mls_ks_get(ks, (enum mls_ks_secret)i), nh));
        if (!mls_ks_has(ks, MLS_KS_EXPORTER_SECRET))
                return 0;
        MLS_TRY(mls_ks_export_into(ks, (const uint8_t *)"itest", 5, (const uint8_t *)"context", 7, out,
                                   sizeof(out)));
        r = tj_add(e, TJ_EXPORT, 0, out, sizeof(out));
        mls_wipe(out, sizeof(out));
        return r;
}

/* The private keys of a TreeKEM private state, read from its encoding
 * (suite, leaf, leaf key, [node, key, public key]). */
static int
tj_priv(struct engine *e, const struct mls_treekem_priv *p)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_reader r, v;
        const uint8_t *k, *pub;
        size_t kl, pl;
        uint16_t suite;
        uint32_t leaf;

        /* Before any return: the cleanup clears w (a commit without a
         * path has no private TreeKEM state). */
        mls_writer_init_secure(&w);
        if (!p)
                return 0;
        MLS_TRY(mls_treekem_priv_encode(p, &w));
        mls_reader_init(&r, w.buf, w.len);
        MLS_TRY(mls_reader_u16(&r, &suite));
        MLS_TRY(mls_reader_u32(&r, &leaf));
        MLS_TRY(mls_reader_opaque_view(&r, &k, &kl));
        MLS_TRY(tj_add(e, TJ_HPKE, 0, k, kl));
        MLS_TRY(mls_reader_vec(&r, &v));
        while (v.left) {
                uint32_t node;

                MLS_TRY(mls_reader_u32(&v, &node));
                MLS_TRY(mls_reader_opaque_view(&v, &k, &kl));
                MLS_TRY(mls_reader_opaque_view(&v, &pub, &pl));
                MLS_TRY(tj_add(e, TJ_HPKE, 1, k, kl));
        }
        return 0;
}

static int
test_journal_snapshot(struct engine *e)
{
        for (size_t i = 0; i < e->n_groups; i++) {
                const struct mls_group *g = e->groups[i]->g;

                MLS_TRY(tj_ks(e, g->ks));
                MLS_TRY(tj_priv(e, g->priv));
                for (size_t j = 0; j < g->n_past; j++)
                        MLS_TRY(tj_ks(e, g->past[j].ks));
                for (size_t j = 0; j < g->n_props; j++)
                        if (g->props[j].update_priv)
                                MLS_TRY(tj_add(e, TJ_UPDATE, 0, g->props[j].update_priv->data,
                                               g->props[j].update_priv->len));
                if (g->pending) {
                        MLS_TRY(tj_ks(e, g->pending->ks));
                        MLS_TRY(tj_priv(e, g->pending->priv));
                }
        }
        for (size_t i = 0; i < e->n_kps; i++) {
                const struct mls_key_package_priv *k = e->kps[i]->priv;

                if (k && k->init_priv)
                        MLS_TRY(tj_add(e, TJ_INIT, 0, k->init_priv->data, k->init_priv->len));
                if (k && k->enc_priv)
                        MLS_TRY(tj_add(e, TJ_LEAF, 0, k->enc_priv->data, k->enc_priv->len));
        }
        return 0;
}

/* Test.Secrets: the journal. */
static int
h_test_secrets(struct req *q)
{
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val v[1], out[1];
        struct mkd_list_iter it;
        const uint8_t *p;
        size_t n;

        /* The vault's secrets too (signature keys, storage key). */
        MLS_TRY(vault_call(q->e, MKD_V_TEST_SECRETS, NULL, &f, out));
        mkd_list_iter_init(&it, &out[0]);
        while (mkd_list_next_bytes(&it, &p, &n)) {
                if (n < 2)
                        return MLS_E_INVALID_MESSAGE;
                MLS_TRY(tj_add(q->e, p[0], p[1], p + 2, n - 2));
        }
        v[0] = mkd_val_list(q->e->test_journal.buf, q->e->test_journal.len, q->e->test_n);
        return mkd_proto_encode(q->res, q->op->result, v);
}

#endif

typedef int (*engine_handler)(struct req *q);

/* The engine's side of the op table: handler per op; flags and encodings
 * come from daemon/proto.c. */
/* The broker wrote a manifest durably: the vault may raise the TPM
 * counter to it now (never before: see the vault's ROLLBACK). */
static int
h_counter_sync(struct req *q)
{
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_val a[1], out[1];

        if (!q->e->rb)
                return 0;
        a[MKD_CS_COUNTER] = q->a[MKD_CS_COUNTER];
        return vault_call(q->e, MKD_V_COUNTER_SYNC, a, &f, out);
}

static const struct {
        uint16_t op;
        engine_handler fn;
} engine_handlers[] = {
        { MKD_E_LOAD, h_load },
        { MKD_E_LOAD_DONE, h_load_done },
        { MKD_E_CREATE_IDENTITY, h_create_identity },
        { MKD_E_GENERATE_KEY_PACKAGES, h_generate_key_packages },
        { MKD_E_CREATE_GROUP, h_create_group },
        { MKD_E_JOIN_GROUP, h_join_group },
        { MKD_E_JOIN_EXTERNAL, h_join_external },
        { MKD_E_STORE_PSK, h_store_psk },
        { MKD_E_SET_ACCESS, h_set_access },
        { MKD_E_DELETE_IDENTITY, h_delete_identity },
        { MKD_E_ENCRYPT, h_encrypt },
        { MKD_E_COUNTER_SYNC, h_counter_sync },
        { MKD_E_PROCESS, h_process },
        { MKD_E_COMMIT, h_commit },
        { MKD_E_MERGE, h_merge_clear },
        { MKD_E_CLEAR, h_merge_clear },
        { MKD_E_PROPOSE, h_propose },
        { MKD_E_REINIT, h_reinit_branch },
        { MKD_E_BRANCH, h_reinit_branch },
        { MKD_E_GROUP_INFO, h_group_info },
        { MKD_E_RATCHET_TREE, h_ratchet_tree },
        { MKD_E_EXPORT, h_export },
        { MKD_E_LEAVE, h_leave },
        { MKD_E_DELETE_GROUP, h_delete_group },
        { MKD_E_MEMBERS, h_members },
        { MKD_E_SELF_UPDATE, h_self_update },
#ifdef MKD_TEST_OPS
        { MKD_E_TEST_FORBIDDEN_SYSCALL, h_test_forbidden_syscall },
        { MKD_E_TEST_SECRETS, h_test_secrets },
#endif
};

static int
serve_one(struct engine *e, const struct mkd_ipc_frame *f)
{
        struct mkd_ipc_request rq;
        struct mkd_val a[MKD_PROTO_MAX_FIELDS];
        const struct mkd_op *op;
        _mls_writer_ struct mls_writer res = { 0 }, out = { 0 };
        struct eng_writes wl = { 0 };
        _mls_free_ struct mkd_ipc_write *ws = NULL;
        engine_handler fn = NULL;
        struct mkd_ipc_reply rep = { 0 };
        struct req q;
        int r, status;

        mls_writer_init_pool(&res, e->pool);
        mls_writer_init_pool(&out, e->pool);
        MLS_TRY(mkd_serve_accept(f, &e->gate, mkd_proto_engine_op, MKD_E_LOAD_DONE, "broker", &rq,
                                 &op, a));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(engine_handlers); i++)
                if (engine_handlers[i].op == op->op)
                        fn = engine_handlers[i].fn;
        if (!fn)
                return MLS_E_INTERNAL;
        if (++e->requests % RANDOM_REFRESH == 0 && e->gate.loaded)
                entropy_from_vault(e);
        q = (struct req){ .e = e, .op = op, .uid = rq.caller_uid, .a = a, .res = &res, .wl = &wl,
                          .critical = true };
        status = fn(&q);
        /* Rollback protection: the manifest goes last into every write
         * set. If it cannot be made, the engine's memory has moved past
         * what can be stored: exit, the broker reloads the durable state. */
        if (status >= 0 && wl.n && e->rb) {
                /* Received application messages: the manifest follows only
                 * every MANIFEST_BATCH-th write (meanwhile the files on disk
                 * are newer than their entries, which loading accepts); the
                 * entries are kept current in memory for the next one. */
                if (!q.critical && ++e->man_deferred < MANIFEST_BATCH) {
                        r = man_apply(e, &wl);
                } else {
                        e->man_deferred = 0;
                        r = man_write(e, &wl);
                }
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "sealing the manifest");
                        writes_clear(&wl);
                        return r;
                }
        }
#ifdef MKD_TEST_OPS
        if (status == 0 && test_journal_snapshot(e) < 0)
                mkd_log_err("test op: the secret journal is incomplete");
#endif
        if (status < 0) {
                /* Nothing changed (the group API is atomic), or only what
                 * need not be kept: drop the writes and the result. */
                writes_clear(&wl);
                res.len = 0;
                mkd_log_code(MKD_LOG_DEBUG, status, "%s", op->name);
        }
        if (wl.n) {
                ws = calloc(wl.n, sizeof(*ws));
                if (!ws) {
                        writes_clear(&wl);
                        return MLS_E_NOMEM;
                }
                for (size_t i = 0; i < wl.n; i++)
                        ws[i] = (struct mkd_ipc_write){
                                .type = wl.v[i].type, .id = wl.v[i].id, .id_len = OBJ_ID_LEN,
                                .version = wl.v[i].version, .del = wl.v[i].del,
                                .blob = wl.v[i].blob.data, .blob_len = wl.v[i].blob.len,
                        };
        }
        rep = (struct mkd_ipc_reply){
                .id = rq.id, .status = mkd_ipc_status_from_err(status), .result = res.buf,
                .result_len = res.len, .writes = ws, .n_writes = wl.n,
        };
        r = mkd_ipc_reply_write(&out, &rep);
        writes_clear(&wl);
        if (r < 0) {
                /* Too large a reply: report it instead (the state moved on
                 * in memory; the broker restarts us to drop it). */
                mkd_log_code(MKD_LOG_ERR, r, "encoding the reply of %s", op->name);
                return r;
        }
        return mkd_ipc_send_blocking(e->broker_fd, out.buf, out.len);
}

int
mkd_engine_main(int broker_fd, int vault_fd, enum mkd_seccomp_mode mode)
{
        struct engine e = { .broker_fd = broker_fd, .vault_fd = vault_fd };
        _mkd_ipc_rbuf_ struct mkd_ipc_rbuf rb = { 0 };
        const int keep[] = { 2, broker_fd, vault_fd };
        int r;

        mkd_log_set_proc(MKD_LOG_ENGINE);
        r = mkd_sandbox_harden_child();
        if (r < 0)
                return r;
        /* OpenSSL reads its configuration on first use: before the filter. */
        r = mls_crypto_preload();
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "crypto self-test");
                return r;
        }
        r = mkd_sandbox_enter_child(MKD_SANDBOX_ENGINE, mode, keep, MLS_ARRAY_SIZE(keep));
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "cannot enter the sandbox");
                return r;
        }
        r = mls_gpool_new(&e.pool);
        if (r < 0)
                return r;
        {
                /* getrandom (libsodium's randombytes), fresh for every block */
                r = mls_entropy_new_system(&e.entropy);
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "entropy pool");
                        mls_gpool_free(e.pool);
                        return r;
                }
                e.rng = mls_entropy_rng(e.entropy);
        }
        mkd_ipc_rbuf_init(&rb, 0, true);
        mkd_ipc_rbuf_set_pool(&rb, e.pool);
        mkd_ipc_rbuf_init(&e.vault_rb, 0, true);
        mkd_ipc_rbuf_set_pool(&e.vault_rb, e.pool);
#ifdef MKD_TEST_OPS
        mls_writer_init_secure(&e.test_journal);
#endif
        for (;;) {
                _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };

                r = mkd_ipc_recv_blocking(&rb, broker_fd, &f);
                if (r == MKD_IPC_EOF) {
                        r = 0;
                        break;
                }
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "reading from the broker");
                        break;
                }
                r = serve_one(&e, &f);
                if (r < 0)
                        break;
        }
        mkd_ipc_rbuf_clear(&e.vault_rb);
        mkd_ipc_rbuf_clear(&rb);
        mls_gpool_free(e.pool);
        mls_entropy_free(e.entropy);
        free(e.man);
        for (size_t i = 0; i < e.n_groups; i++)
                group_free(e.groups[i]);
        for (size_t i = 0; i < e.n_kps; i++)
                kp_free(e.kps[i]);
        for (size_t i = 0; i < e.n_ids; i++)
                identity_free(e.ids[i]);
        free(e.groups);
        free(e.kps);
        free(e.ids);
#ifdef MKD_TEST_OPS
        mls_writer_clear(&e.test_journal);
#endif
        return r;
}
