/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender reservation (mls_st_encode_ahead, mls_group_save_ahead[_to]): the
 * daemon's Encrypt writes the group once per SEND_RESERVE messages, saving
 * its own ratchets ahead. These tests show that
 *  - a tree saved `ahead` is byte-identical to the tree that really sent
 *    `ahead` more messages on both ratchets (so the state at rest holds the
 *    stepped secret, not one that can derive the reserved keys);
 *  - a group reloaded from a state saved ahead resumes after the reserved
 *    generations: a crash never makes a generation be used twice (R-9.1-2),
 *    and a receiver accepts every message sent before and after the crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/secrettree.h"
#include "tests/unit/group_test_util.h"

static const uint8_t enc_secret[32] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                        31 };

static struct mls_secret_tree *
tree8(void)
{
        struct mls_secret_tree *t = NULL;

        assert_int_equal(mls_st_new(mls_suite_get(1), enc_secret, 32, 8, &t), 0);
        return t;
}

static void
send_n(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++) {
                _mls_key_nonce_buf_ struct mls_key_nonce_buf kn;

                assert_int_equal(mls_st_next_into(t, leaf, type, &kn), 0);
        }
}

/* R-9.1-2: saved ahead == really advanced, byte for byte. */
static void
test_reserve_st_ahead_equals_advanced(void **state)
{
        struct mls_secret_tree *a = tree8(), *b = tree8();
        _mls_writer_ struct mls_writer wa = { 0 }, wb = { 0 };
        uint64_t next;

        (void)state;
        mls_writer_init_secure(&wa);
        mls_writer_init_secure(&wb);
        /* Both trees: leaf 5 sent 3 application and 1 handshake message,
         * leaf 2 received generation 4 (kept keys 0..3 for leaf 2). */
        send_n(a, 5, MLS_RATCHET_APPLICATION, 3);
        send_n(b, 5, MLS_RATCHET_APPLICATION, 3);
        send_n(a, 5, MLS_RATCHET_HANDSHAKE, 1);
        send_n(b, 5, MLS_RATCHET_HANDSHAKE, 1);
        {
                _mls_key_nonce_buf_ struct mls_key_nonce_buf kn;

                assert_int_equal(mls_st_get_into(a, 2, MLS_RATCHET_APPLICATION, 4, &kn), 0);
                assert_int_equal(mls_st_get_into(b, 2, MLS_RATCHET_APPLICATION, 4, &kn), 0);
        }
        /* b really sends 10 more on each ratchet of leaf 5. */
        send_n(b, 5, MLS_RATCHET_APPLICATION, 10);
        send_n(b, 5, MLS_RATCHET_HANDSHAKE, 10);
        assert_int_equal(mls_st_encode_ahead(a, &wa, 5, 10), 0);
        assert_int_equal(mls_st_encode(b, &wb), 0);
        assert_int_equal(wa.len, wb.len);
        assert_memory_equal(wa.buf, wb.buf, wa.len);
        /* Saving ahead changed nothing in memory: a still sends 3 next. */
        assert_int_equal(mls_st_next_generation(a, 5, MLS_RATCHET_APPLICATION, &next), 0);
        assert_int_equal(next, 3);
        assert_int_equal(mls_st_next_generation(a, 6, MLS_RATCHET_APPLICATION, &next), 0);
        assert_int_equal(next, 0); /* never used */
        assert_int_equal(mls_st_next_generation(a, 8, MLS_RATCHET_APPLICATION, &next),
                         MLS_E_TREE_INDEX);
        mls_st_free(a);
        mls_st_free(b);
}

/* A leaf without ratchets cannot be saved ahead until activated; activation
 * uses no generation. */
static void
test_reserve_st_needs_activation(void **state)
{
        struct mls_secret_tree *t = tree8();
        struct mls_secret_tree *u = NULL;
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_reader r;
        uint64_t next;

        (void)state;
        mls_writer_init_secure(&w);
        assert_int_equal(mls_st_encode_ahead(t, &w, 1, 4), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_st_activate(t, 1), 0);
        assert_int_equal(mls_st_next_generation(t, 1, MLS_RATCHET_HANDSHAKE, &next), 0);
        assert_int_equal(next, 0);
        mls_writer_clear(&w);
        assert_int_equal(mls_st_encode_ahead(t, &w, 1, 4), 0);
        /* The saved tree decodes and resumes at generation 4. */
        mls_reader_init(&r, w.buf, w.len);
        assert_int_equal(mls_st_decode(&r, &u), 0);
        assert_int_equal(mls_st_next_generation(u, 1, MLS_RATCHET_APPLICATION, &next), 0);
        assert_int_equal(next, 4);
        assert_int_equal(mls_st_next_generation(u, 1, MLS_RATCHET_HANDSHAKE, &next), 0);
        assert_int_equal(next, 4);
        mls_st_free(u);
        mls_st_free(t);
}

static void
encrypt(struct tm_member *m, const char *text, struct mls_bytes *ret)
{
        assert_int_equal(mls_group_encrypt(m->g, &m->env, (const uint8_t *)text, strlen(text),
                                           NULL, ret),
                         0);
}

static void
receive(struct tm_member *m, const struct mls_bytes *msg, const char *want)
{
        struct mls_process_result pr = { 0 };
        uint8_t *g = tu_guarded_copy(msg->data, msg->len);

        assert_non_null(g);
        assert_int_equal(mls_group_process(m->g, &m->env, g, msg->len, &pr), 0);
        tu_guarded_free(g);
        assert_int_equal(pr.content_type, MLS_CONTENT_APPLICATION);
        assert_int_equal(pr.content.len, strlen(want));
        assert_memory_equal(pr.content.data, want, strlen(want));
        mls_process_result_clear(&pr);
}

/* The daemon's crash case: save ahead, send from memory, crash, reload. */
static void
test_reserve_group_crash_resumes_after_reserved(void **state)
{
        struct tm_member a, b;
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 }, m[6] = { { 0 } };
        struct mls_secret *saved = NULL, *plain = NULL;
        struct mls_group *reloaded = NULL;
        uint64_t next;

        (void)state;
        tm_init(&a, mls_suite_get(1), "alice");
        tm_init(&b, mls_suite_get(1), "bob");
        tm_create(&a, "reserve", NULL);
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        assert_int_equal(mls_group_merge_pending(a.g, NULL), 0);
        tm_join(&b, &welcome, NULL);

        encrypt(&a, "m0", &m[0]); /* generation 0 */
        assert_int_equal(mls_group_own_generation(a.g, &next), 0);
        assert_int_equal(next, 1);
        /* The daemon's write: 8 generations reserved (1 .. 8). */
        assert_int_equal(mls_group_save_ahead(a.g, 8, &saved), 0);
        /* The same bytes appended to a pooled writer (the daemon's way);
         * a writer that is not secure is refused. */
        {
                struct mls_gpool *pool = NULL;
                struct mls_writer w, pw;

                assert_int_equal(mls_gpool_new(&pool), 0);
                mls_writer_init_pool(&w, pool);
                assert_int_equal(mls_writer_u8(&w, 0xaa), 0);
                assert_int_equal(mls_group_save_ahead_to(a.g, 8, &w), 0);
                assert_int_equal(w.len, 1 + saved->len);
                assert_memory_equal(w.buf + 1, saved->data, saved->len);
                mls_writer_clear(&w);
                mls_writer_init(&pw);
                assert_int_equal(mls_group_save_ahead_to(a.g, 8, &pw), MLS_E_INVALID_ARGUMENT);
                assert_int_equal(pw.len, 0);
                mls_writer_clear(&pw);
                mls_gpool_free(pool);
        }
        /* The same state without reservation differs only in the ratchet. */
        assert_int_equal(mls_group_save(a.g, &plain), 0);
        assert_false(saved->len == plain->len &&
                     sodium_memcmp(saved->data, plain->data, saved->len) == 0);
        assert_int_equal(mls_group_own_generation(a.g, &next), 0);
        assert_int_equal(next, 1); /* memory unchanged */
        encrypt(&a, "m1", &m[1]); /* generations 1, 2 from memory */
        encrypt(&a, "m2", &m[2]);

        /* Crash: the process restarts from the durable state. */
        assert_int_equal(mls_group_load(saved->data, saved->len, &reloaded), 0);
        assert_int_equal(mls_group_own_generation(reloaded, &next), 0);
        assert_int_equal(next, 9); /* after every reserved generation */
        mls_group_free(a.g);
        a.g = reloaded;
        encrypt(&a, "m3", &m[3]); /* generation 9 */
        encrypt(&a, "m4", &m[4]); /* generation 10 */

        /* Bob reads everything, in order and with the gap. */
        receive(&b, &m[0], "m0");
        receive(&b, &m[1], "m1");
        receive(&b, &m[2], "m2");
        receive(&b, &m[3], "m3");
        receive(&b, &m[4], "m4");
        /* R-9.1-2: no generation twice, so no message is a replay. */
        assert_int_equal(tm_process(&b, &m[4]), MLS_E_GENERATION_CONSUMED);
        assert_int_equal(tm_process(&b, &m[2]), MLS_E_GENERATION_TOO_OLD); /* window 5 */

        /* ahead 0 is a plain save. */
        mls_secret_free(saved);
        saved = NULL;
        assert_int_equal(mls_group_save_ahead(a.g, 0, &saved), 0);
        mls_secret_free(plain);
        plain = NULL;
        assert_int_equal(mls_group_save(a.g, &plain), 0);
        assert_int_equal(saved->len, plain->len);
        assert_memory_equal(saved->data, plain->data, saved->len);

        for (size_t i = 0; i < MLS_ARRAY_SIZE(m); i++)
                mls_bytes_clear(&m[i]);
        mls_secret_free(saved);
        mls_secret_free(plain);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&a);
        tm_clear(&b);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reserve_st_ahead_equals_advanced),
                cmocka_unit_test(test_reserve_st_needs_activation),
                cmocka_unit_test(test_reserve_group_crash_resumes_after_reserved),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
